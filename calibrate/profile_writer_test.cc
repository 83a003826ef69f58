#include "calibrate/profile_writer.h"

#include <gtest/gtest.h>

#include "models/hw/hardware.h"

namespace foresight::calibrate {
namespace {

void ExpectLink(const hw::LinkSpec& a, const hw::LinkSpec& b) {
  EXPECT_EQ(a.bandwidth_bytes_per_s, b.bandwidth_bytes_per_s);
  EXPECT_EQ(a.efficiency, b.efficiency);
  EXPECT_EQ(a.latency_seconds, b.latency_seconds);
}

TEST(ProfileWriterTest, EveryCatalogProfileRoundTripsFieldForField) {
  for (const std::string& name : hw::CatalogNames()) {
    auto original = hw::LoadHardware(name);
    ASSERT_TRUE(original.ok());
    hw::HardwareProfile p = *original;
    p.gpu.gemm.max_efficiency = 0.1 + 1.0 / 3.0;  // a value with all 17 digits
    p.description = "quotes \" and \\ and: colons";
    p.host.adam_params_per_s = 1.25e9;  // nonzero, unlike the catalog's
    p.host.kernel_dispatch_seconds = 1.5e-5;
    ProfileComments comments;
    comments.header = {"test header"};
    comments.by_key["gpu.gemm.max_efficiency"] = "fitted\nfrom: a.csv";
    const std::string yaml = WriteProfileYaml(p, comments);
    EXPECT_NE(yaml.find("    # fitted\n    # from: a.csv\n    max_efficiency:"), std::string::npos);
    auto back = hw::ParseHardware(yaml, "round-trip");
    ASSERT_TRUE(back.ok()) << back.error().ToString() << "\n" << yaml;
    const hw::HardwareProfile& q = *back;
    EXPECT_EQ(q.name, p.name);
    EXPECT_EQ(q.description, p.description);
    EXPECT_EQ(q.gpu.name, p.gpu.name);
    EXPECT_EQ(q.gpu.peak_flops_per_s_fp32, p.gpu.peak_flops_per_s_fp32);
    EXPECT_EQ(q.gpu.peak_flops_per_s_tf32, p.gpu.peak_flops_per_s_tf32);
    EXPECT_EQ(q.gpu.peak_flops_per_s_bf16, p.gpu.peak_flops_per_s_bf16);
    EXPECT_EQ(q.gpu.peak_flops_per_s_fp16, p.gpu.peak_flops_per_s_fp16);
    EXPECT_EQ(q.gpu.peak_flops_per_s_fp8, p.gpu.peak_flops_per_s_fp8);
    EXPECT_EQ(q.gpu.memory_bytes, p.gpu.memory_bytes);
    EXPECT_EQ(q.gpu.hbm_bandwidth_bytes_per_s, p.gpu.hbm_bandwidth_bytes_per_s);
    EXPECT_EQ(q.gpu.sm_count, p.gpu.sm_count);
    EXPECT_EQ(q.gpu.kernel_launch_seconds, p.gpu.kernel_launch_seconds);
    EXPECT_EQ(q.gpu.gemm.max_efficiency, p.gpu.gemm.max_efficiency);
    EXPECT_EQ(q.gpu.gemm.tile_m, p.gpu.gemm.tile_m);
    EXPECT_EQ(q.gpu.gemm.tile_n, p.gpu.gemm.tile_n);
    EXPECT_EQ(q.gpu.gemm.k_half, p.gpu.gemm.k_half);
    EXPECT_EQ(q.gpu.attention_efficiency, p.gpu.attention_efficiency);
    EXPECT_EQ(q.gpu.attention_kernels, p.gpu.attention_kernels);
    EXPECT_EQ(q.gpu.memory.max_efficiency, p.gpu.memory.max_efficiency);
    EXPECT_EQ(q.gpu.memory.bytes_half, p.gpu.memory.bytes_half);
    EXPECT_EQ(q.node.gpus_per_node, p.node.gpus_per_node);
    ExpectLink(q.node.scale_up, p.node.scale_up);
    ExpectLink(q.node.pcie, p.node.pcie);
    EXPECT_EQ(q.network.nics_per_node, p.network.nics_per_node);
    ExpectLink(q.network.nic, p.network.nic);
    EXPECT_EQ(q.host.memory_bytes, p.host.memory_bytes);
    EXPECT_EQ(q.host.cores, p.host.cores);
    EXPECT_EQ(q.host.memory_bandwidth_bytes_per_s, p.host.memory_bandwidth_bytes_per_s);
    EXPECT_EQ(q.host.adam_params_per_s, p.host.adam_params_per_s);
    EXPECT_EQ(q.host.kernel_dispatch_seconds, p.host.kernel_dispatch_seconds);
    EXPECT_EQ(q.memory.reserved_bytes, p.memory.reserved_bytes);
    EXPECT_EQ(q.memory.fragmentation_fraction, p.memory.fragmentation_fraction);
    EXPECT_EQ(q.price_per_gpu_hour, p.price_per_gpu_hour);
  }
}

}  // namespace
}  // namespace foresight::calibrate
