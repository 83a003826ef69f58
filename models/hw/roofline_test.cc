#include "models/hw/roofline.h"

#include <gtest/gtest.h>

namespace foresight::hw {
namespace {

// A round-number GPU so that every expectation below can be checked by hand.
GpuSpec ToyGpu() {
  GpuSpec gpu;
  gpu.name = "toy";
  gpu.peak_flops_per_s_fp32 = 10e12;
  gpu.peak_flops_per_s_bf16 = 100e12;
  gpu.hbm_bandwidth_bytes_per_s = 1e12;
  gpu.sm_count = 4;
  gpu.kernel_launch_seconds = 5e-6;
  gpu.gemm = GemmEfficiency{.max_efficiency = 0.5, .tile_m = 128, .tile_n = 128, .k_half = 0};
  gpu.attention_efficiency = 0.5;
  gpu.memory = MemoryEfficiency{.max_efficiency = 1.0, .bytes_half = 0};
  return gpu;
}

GpuSpec A100Like() {  // 108 SMs (A100 whitepaper), perfect kernels, to isolate the wave term
  GpuSpec gpu = ToyGpu();
  gpu.sm_count = 108;
  gpu.gemm.max_efficiency = 1.0;
  return gpu;
}

TEST(GemmEfficiencyTest, FullWavesReachTheCeiling) {
  // 108 x 1 tiles of 128 x 128 fill exactly one wave on 108 SMs: 108 / 108 = 1.
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(A100Like(), 128 * 108, 128, 4096, 1), 1.0);
}

TEST(GemmEfficiencyTest, OneTileTooManyNeedsASecondWave) {
  // 109 tiles on 108 SMs: ceil(109 / 108) = 2 waves = 216 tile slots, 109 used.
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(A100Like(), 128 * 109, 128, 4096, 1), 109.0 / 216.0);
  // The same 109 tiles from a batch of 109 single-tile products.
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(A100Like(), 128, 128, 4096, 109), 109.0 / 216.0);
}

TEST(GemmEfficiencyTest, PartialTilesCountAsWholeTiles) {
  // m = 129 needs ceil(129 / 128) = 2 row tiles; 2 x 1 tiles on 4 SMs: one wave, 2 / 4 used.
  // Times max_efficiency 0.5: 0.25.
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(ToyGpu(), 129, 128, 1024, 1), 0.25);
}

TEST(GemmEfficiencyTest, KHalfTerm) {
  GpuSpec gpu = ToyGpu();
  gpu.gemm.k_half = 64;
  // 256 x 256: 2 x 2 = 4 tiles on 4 SMs (wave efficiency 1); k = 192: 192 / (192 + 64) = 0.75.
  // 0.5 x 1 x 0.75 = 0.375.
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(gpu, 256, 256, 192, 1), 0.375);
}

TEST(GemmEfficiencyTest, Fp8HasItsOwnCeilingWhenSet) {
  GpuSpec gpu = ToyGpu();
  gpu.peak_flops_per_s_fp8 = 200e12;
  // Unset (0): fp8 GEMMs use max_efficiency. 256 x 256 on 4 SMs is one full wave: 0.5.
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(gpu, 256, 256, 1024, 1, Dtype::kFp8), 0.5);
  gpu.gemm.fp8_max_efficiency = 0.4;
  EXPECT_DOUBLE_EQ(GemmCeiling(gpu, Dtype::kFp8), 0.4);
  EXPECT_DOUBLE_EQ(GemmCeiling(gpu, Dtype::kBf16), 0.5);
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(gpu, 256, 256, 1024, 1, Dtype::kFp8), 0.4);
  EXPECT_DOUBLE_EQ(GemmEfficiencyFor(gpu, 256, 256, 1024, 1, Dtype::kBf16), 0.5);
  // 2 * 256 * 256 * 1024 = 134,217,728 FLOPs at 200e12 * 0.4 = 80e12 FLOP/s (1.68 us) plus the
  // 5 us launch (no bytes given: compute alone).
  EXPECT_DOUBLE_EQ(GemmSeconds(gpu, Dtype::kFp8, 256, 256, 1024, 1, 0), 5e-6 + 134217728.0 / 80e12);
}

TEST(MemoryEfficiencyTest, SizeTerm) {
  GpuSpec gpu = ToyGpu();
  gpu.memory = MemoryEfficiency{.max_efficiency = 0.9, .bytes_half = 1e6};
  EXPECT_DOUBLE_EQ(MemoryEfficiencyFor(gpu, 1e6), 0.45);        // 0.9 x 1e6 / 2e6
  EXPECT_DOUBLE_EQ(MemoryEfficiencyFor(gpu, 3e6), 0.9 * 0.75);  // 0.9 x 3e6 / 4e6
  EXPECT_DOUBLE_EQ(MemoryEfficiencyFor(ToyGpu(), 1.0), 1.0);    // bytes_half = 0: no term
}

TEST(GemmSecondsTest, ComputeBound) {
  // 256 x 256 x 1024: flops = 2 x 256 x 256 x 1024 = 134,217,728; 4 tiles on 4 SMs, so the
  // efficiency is 0.5 and compute = 134217728 / (100e12 x 0.5) = 2.68435456e-6 s.
  // Memory: 1e6 B / 1e12 B/s = 1e-6 s < compute. Plus the 5 us launch.
  EXPECT_DOUBLE_EQ(GemmSeconds(ToyGpu(), Dtype::kBf16, 256, 256, 1024, 1, 1e6),
                   5e-6 + 2.68435456e-6);
}

TEST(GemmSecondsTest, MemoryBound) {
  // Same GEMM moving 1e7 B: 1e7 / 1e12 = 1e-5 s > 2.68e-6 s of compute.
  EXPECT_DOUBLE_EQ(GemmSeconds(ToyGpu(), Dtype::kBf16, 256, 256, 1024, 1, 1e7), 5e-6 + 1e-5);
}

TEST(GemmSecondsTest, WaveQuantizationDoublesTheTime) {
  // 109 tiles on 108 SMs take as long as 216: 2 x 128 x 128 x 4096 flops per tile,
  // 216 tile slots at 100e12 flop/s: 216 x 134217728 / 1e14 = 2.8991029248e-4 s.
  const GpuSpec gpu = A100Like();
  const double seconds = GemmSeconds(gpu, Dtype::kBf16, 128 * 109, 128, 4096, 1, 0);
  EXPECT_NEAR(seconds, 5e-6 + 2.8991029248e-4, 1e-15);
}

TEST(GemmSecondsTest, LargeBf16GemmOnA100Profile) {
  // A100 catalog values: peak 312e12, max_efficiency 0.869, 128 x 128 tiles, k_half 64,
  // 108 SMs, launch 3 us. 8192^3: tiles = 64 x 64 = 4096, waves = ceil(4096 / 108) = 38
  // (4104 slots), k term = 8192 / 8256.
  Result<HardwareProfile> a100 = LoadHardware("dgx-a100-80gb");
  ASSERT_TRUE(a100.ok()) << a100.error().ToString();
  const double efficiency = 0.869 * (4096.0 / 4104.0) * (8192.0 / 8256.0);
  const double flops = 2.0 * 8192.0 * 8192.0 * 8192.0;
  const double bytes = 3.0 * 8192.0 * 8192.0 * 2.0;  // A, B, C in bf16: memory time ~0.2 ms
  EXPECT_NEAR(GemmSeconds(a100->gpu, Dtype::kBf16, 8192, 8192, 8192, 1, bytes),
              3e-6 + flops / (312e12 * efficiency), 1e-12);
}

TEST(AttentionSecondsTest, UsesAttentionEfficiency) {
  // 1e12 flops at 100e12 x 0.5 = 0.02 s; 1e6 B takes 1e-6 s.
  EXPECT_DOUBLE_EQ(AttentionSeconds(ToyGpu(), Dtype::kBf16, 1e12, 1e6), 5e-6 + 0.02);
}

TEST(MemoryBoundSecondsTest, BytesAtHbmRateWithSizeTerm) {
  GpuSpec gpu = ToyGpu();
  gpu.memory = MemoryEfficiency{.max_efficiency = 0.9, .bytes_half = 1e6};
  // 1e6 B at 1e12 x 0.45 B/s = 2.2222e-6 s; 1e3 vector flops at 10e12 = 1e-10 s.
  EXPECT_DOUBLE_EQ(MemoryBoundSeconds(gpu, 1e3, 1e6), 5e-6 + 1e6 / (1e12 * 0.45));
  // Equivalently (B + bytes_half) / (hbm x max_efficiency) = 2e6 / 0.9e12.
  EXPECT_NEAR(MemoryBoundSeconds(gpu, 0, 1e6), 5e-6 + 2e6 / 0.9e12, 1e-18);
}

TEST(MemoryBoundSecondsTest, VectorFlopsAtFp32Peak) {
  // 1e9 flops at 10e12 = 1e-4 s > 1e6 B / 1e12 = 1e-6 s.
  EXPECT_DOUBLE_EQ(MemoryBoundSeconds(ToyGpu(), 1e9, 1e6), 5e-6 + 1e-4);
}

TEST(RooflineTest, EmptyKernelCostsOnlyTheLaunch) {
  EXPECT_DOUBLE_EQ(MemoryBoundSeconds(ToyGpu(), 0, 0), 5e-6);
}

TEST(RooflineDeathTest, UnsupportedDtypeIsAProgrammingError) {
  // ToyGpu has no fp8 peak; plans must be validated before they are priced.
  EXPECT_DEATH(GemmSeconds(ToyGpu(), Dtype::kFp8, 128, 128, 128, 1, 0), "has no fp8 peak");
}

}  // namespace
}  // namespace foresight::hw
