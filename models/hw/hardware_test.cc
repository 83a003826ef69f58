// Catalog entries, loading by name and path, and overrides. Strict-schema errors are in
// hardware_schema_test.cc.
#include "models/hw/hardware.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "models/hw/internal/catalog_data.h"

namespace foresight::hw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string CatalogPath(const std::string& name) {
  return std::string(FORESIGHT_SOURCE_DIR) + "/models/hw/catalog/" + name + ".yaml";
}

HardwareProfile LoadOrDie(const std::string& name) {
  Result<HardwareProfile> profile = LoadHardware(name);
  EXPECT_TRUE(profile.ok()) << profile.error().ToString();
  return std::move(profile).value();
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

TEST(CatalogTest, ListsTheFourDgxSystemsSorted) {
  EXPECT_THAT(CatalogNames(), ElementsAre("dgx-a100-80gb", "dgx-b200", "dgx-h100", "dgx-h200"));
}

// Published figures (HARDWARE.md: vendor datasheets and measured BF16 matmul ceilings;
// SM counts from the vendor whitepapers; data/README.md for link efficiencies).
struct DatasheetCase {
  const char* name;
  double fp32, tf32, bf16, fp8;  // dense FLOP/s
  double memory_gib;
  double hbm_bytes_per_s;
  int sm_count;
  double nvlink_bytes_per_s;  // per direction
  double nic_bytes_per_s;     // per GPU, per direction
  double best_bf16_matmul;    // FLOP/s, measured
  double bf16_peak_for_ceiling;
  double best_fp8_matmul;  // FLOP/s, measured (HARDWARE.md); 0: none published, no fp8 ceiling
};

const DatasheetCase kDatasheets[] = {
    {"dgx-a100-80gb", 19.5e12, 156e12, 312e12, 0, 80, 2.039e12, 108, 300e9, 25e9, 271.2e12, 312e12,
     0},
    // H200 has no published BF16 matmul ceiling: its entry uses the H100 ratio 794.5 / 989.
    {"dgx-h100", 67e12, 494.5e12, 989e12, 1979e12, 80, 3.35e12, 132, 450e9, 50e9, 794.5e12, 989e12,
     1402.6e12},
    {"dgx-h200", 67e12, 494.5e12, 989e12, 1979e12, 141, 4.8e12, 132, 450e9, 50e9, 794.5e12, 989e12,
     1453.4e12},
    {"dgx-b200", 80e12, 1125e12, 2250e12, 4500e12, 180, 8.0e12, 148, 900e9, 50e9, 1745e12, 2250e12,
     3432.5e12},
};

TEST(CatalogTest, EachEntryLoadsAndReproducesItsDatasheet) {
  for (const DatasheetCase& c : kDatasheets) {
    SCOPED_TRACE(c.name);
    const HardwareProfile hw = LoadOrDie(c.name);
    EXPECT_EQ(hw.name, c.name);
    EXPECT_EQ(hw.source_file, std::string("<catalog>/") + c.name + ".yaml");
    EXPECT_DOUBLE_EQ(hw.gpu.PeakFlopsPerS(Dtype::kFp32), c.fp32);
    EXPECT_DOUBLE_EQ(hw.gpu.PeakFlopsPerS(Dtype::kTf32), c.tf32);
    EXPECT_DOUBLE_EQ(hw.gpu.PeakFlopsPerS(Dtype::kBf16), c.bf16);
    EXPECT_DOUBLE_EQ(hw.gpu.PeakFlopsPerS(Dtype::kFp16), c.bf16);  // same dense rate
    EXPECT_DOUBLE_EQ(hw.gpu.PeakFlopsPerS(Dtype::kFp8), c.fp8);
    EXPECT_EQ(static_cast<double>(hw.gpu.memory_bytes), c.memory_gib * kGiB);
    EXPECT_DOUBLE_EQ(hw.gpu.hbm_bandwidth_bytes_per_s, c.hbm_bytes_per_s);
    EXPECT_EQ(hw.gpu.sm_count, c.sm_count);
    EXPECT_NEAR(hw.gpu.gemm.max_efficiency, c.best_bf16_matmul / c.bf16_peak_for_ceiling, 5e-4);
    EXPECT_NEAR(hw.gpu.gemm.fp8_max_efficiency, c.fp8 > 0 ? c.best_fp8_matmul / c.fp8 : 0, 5e-4);
    EXPECT_EQ(hw.node.gpus_per_node, 8);
    EXPECT_DOUBLE_EQ(hw.node.scale_up.bandwidth_bytes_per_s, c.nvlink_bytes_per_s);
    EXPECT_EQ(hw.network.nics_per_node, 8);
    EXPECT_DOUBLE_EQ(hw.network.nic.bandwidth_bytes_per_s, c.nic_bytes_per_s);
    // NDR: 46-48 GB/s of 50 per NIC (NCCL maintainers, data/README.md) -> 47 / 50.
    EXPECT_DOUBLE_EQ(hw.network.nic.efficiency, 0.94);
    EXPECT_GT(hw.memory.reserved_bytes, 0);
    EXPECT_LT(hw.memory.reserved_bytes, hw.gpu.memory_bytes);
  }
}

TEST(CatalogTest, NvlinkEfficienciesMatchPublishedRingBandwidth) {
  // A100: nccl-tests all-reduce busbw 229.35 GB/s at 1 GiB on 8 GPUs (vTrain data) / 300.
  EXPECT_NEAR(LoadOrDie("dgx-a100-80gb").node.scale_up.EffectiveBytesPerS(), 229.35e9, 0.5e9);
  // H100: about 370 GB/s effective of 450 for ring algorithms (NCCL maintainers).
  EXPECT_NEAR(LoadOrDie("dgx-h100").node.scale_up.EffectiveBytesPerS(), 370e9, 1e9);
}

TEST(CatalogTest, HostFiguresFromDgxDatasheets) {
  const double kTiB = 1024.0 * kGiB;
  EXPECT_EQ(LoadOrDie("dgx-a100-80gb").host.cores, 128);  // 2 x EPYC 7742 (64 cores)
  EXPECT_EQ(LoadOrDie("dgx-h100").host.cores, 112);       // 2 x Xeon 8480C (56 cores)
  EXPECT_EQ(LoadOrDie("dgx-b200").host.cores, 112);       // 2 x Xeon 8570 (56 cores)
  EXPECT_EQ(static_cast<double>(LoadOrDie("dgx-h200").host.memory_bytes), 2 * kTiB);
  // Peak DDR bandwidth: sockets x channels x MT/s x 8 bytes.
  EXPECT_DOUBLE_EQ(LoadOrDie("dgx-a100-80gb").host.memory_bandwidth_bytes_per_s,
                   2 * 8 * 3200e6 * 8);  // DDR4-3200
  EXPECT_DOUBLE_EQ(LoadOrDie("dgx-h100").host.memory_bandwidth_bytes_per_s,
                   2 * 8 * 4800e6 * 8);  // DDR5-4800
  EXPECT_DOUBLE_EQ(LoadOrDie("dgx-b200").host.memory_bandwidth_bytes_per_s,
                   2 * 8 * 5600e6 * 8);  // DDR5-5600
}

// "  key: 1.5e9  # comment" -> true (and whether it has the comment); other lines -> false.
bool IsNumberLine(const std::string& line, bool* has_comment) {
  const std::size_t colon = line.find(':');
  const std::size_t hash = line.find('#');
  if (colon == std::string::npos || hash < colon) return false;
  const std::size_t key_begin = line.find_first_not_of(' ');
  if (key_begin == colon) return false;
  for (std::size_t i = key_begin; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (!std::islower(c) && !std::isdigit(c) && c != '_') return false;
  }
  std::string value = line.substr(colon + 1, hash == std::string::npos ? hash : hash - colon - 1);
  value.erase(0, value.find_first_not_of(' '));
  value.erase(value.find_last_not_of(' ') + 1);
  if (value.empty() || value.find_first_not_of("0123456789.eE+-") != std::string::npos) {
    return false;
  }
  *has_comment = hash != std::string::npos;
  return true;
}

// Every number in a catalog file must carry its source: a comment on its line or directly
// above it.
TEST(CatalogTest, EveryNumberHasASourceComment) {
  int numbers = 0;
  for (const std::string& name : CatalogNames()) {
    std::ifstream in(CatalogPath(name));
    ASSERT_TRUE(in.is_open()) << CatalogPath(name);
    std::string line;
    std::string previous;
    int line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      bool has_comment = false;
      if (IsNumberLine(line, &has_comment)) {
        ++numbers;
        const std::size_t first = previous.find_first_not_of(' ');
        const bool commented_above = first != std::string::npos && previous[first] == '#';
        EXPECT_TRUE(has_comment || commented_above)
            << name << ".yaml:" << line_number << " has no source: " << line;
      }
      previous = line;
    }
  }
  // 41 numeric keys per entry (the full schema), gemm.fp8_max_efficiency in the three entries
  // with a published fp8 matmul ceiling (H100, H200, B200), and the named attention kernels:
  // 3 on A100 (flash1, flash2, triton_flash), 4 on H100 and H200 (and flash3), none on B200.
  EXPECT_EQ(numbers, 4 * 41 + 3 + 3 + 4 + 4);
}

TEST(CatalogTest, AttentionKernelsFromPublishedFigures) {
  // FlashAttention-2 paper (arXiv:2307.08691), abstract: FlashAttention reaches 25-40% of the
  // peak, FlashAttention-2 50-73% on A100; FlashAttention-3 paper (arXiv:2407.08608):
  // FlashAttention-2 35% on H100, and v1 taken at half of that ("around 2x").
  const HardwareProfile a100 = *LoadHardware("dgx-a100-80gb");
  EXPECT_DOUBLE_EQ(a100.gpu.attention_kernels.at("flash1"), (0.25 + 0.40) / 2);
  EXPECT_DOUBLE_EQ(a100.gpu.attention_kernels.at("triton_flash"), (0.25 + 0.40) / 2);
  EXPECT_EQ(a100.gpu.attention_kernels.at("flash2"), a100.gpu.attention_efficiency);
  for (const char* name : {"dgx-h100", "dgx-h200"}) {
    const HardwareProfile h = *LoadHardware(name);
    EXPECT_DOUBLE_EQ(h.gpu.attention_kernels.at("flash2"), 0.35) << name;
    EXPECT_DOUBLE_EQ(h.gpu.attention_kernels.at("flash1"), 0.35 / 2) << name;
    EXPECT_DOUBLE_EQ(h.gpu.attention_kernels.at("triton_flash"), 0.35 / 2) << name;
    EXPECT_EQ(h.gpu.attention_kernels.at("flash3"), h.gpu.attention_efficiency) << name;
  }
  EXPECT_TRUE(LoadHardware("dgx-b200")->gpu.attention_kernels.empty());
}

TEST(CatalogTest, EmbeddedTextIsTheFileOnDisk) {
  for (const auto& [name, text] : internal::CatalogEntries()) {
    std::ifstream in(CatalogPath(std::string(name)), std::ios::binary);
    std::stringstream file;
    file << in.rdbuf();
    EXPECT_EQ(file.str(), text) << name;
  }
}

TEST(LoadHardwareTest, ByPathGivesTheSameProfileAsByName) {
  const HardwareProfile by_name = LoadOrDie("dgx-h200");
  const HardwareProfile by_path = LoadOrDie(CatalogPath("dgx-h200"));
  EXPECT_EQ(by_path.source_file, CatalogPath("dgx-h200"));
  EXPECT_EQ(by_path.name, by_name.name);
  EXPECT_EQ(by_path.gpu.memory_bytes, by_name.gpu.memory_bytes);
  EXPECT_EQ(by_path.network.nic.latency_seconds, by_name.network.nic.latency_seconds);
}

TEST(LoadHardwareTest, UnknownCatalogNameListsTheValidNames) {
  Result<HardwareProfile> profile = LoadHardware("dgx-h1000");
  ASSERT_FALSE(profile.ok());
  EXPECT_THAT(profile.error().message,
              HasSubstr("unknown hardware 'dgx-h1000'; catalog entries: dgx-a100-80gb, "
                        "dgx-b200, dgx-h100, dgx-h200"));
}

TEST(LoadHardwareTest, MissingFileNamesThePath) {
  Result<HardwareProfile> profile = LoadHardware("/nonexistent/cluster.yaml");
  ASSERT_FALSE(profile.ok());
  EXPECT_EQ(profile.error().file, "/nonexistent/cluster.yaml");
  EXPECT_THAT(profile.error().message, HasSubstr("no such hardware profile file"));
}

TEST(PeakFlopsTest, EachDtypeReadsItsOwnField) {
  GpuSpec gpu;
  gpu.peak_flops_per_s_fp32 = 1;
  gpu.peak_flops_per_s_tf32 = 2;
  gpu.peak_flops_per_s_bf16 = 3;
  gpu.peak_flops_per_s_fp16 = 4;
  gpu.peak_flops_per_s_fp8 = 5;
  EXPECT_EQ(gpu.PeakFlopsPerS(Dtype::kFp32), 1);
  EXPECT_EQ(gpu.PeakFlopsPerS(Dtype::kTf32), 2);
  EXPECT_EQ(gpu.PeakFlopsPerS(Dtype::kBf16), 3);
  EXPECT_EQ(gpu.PeakFlopsPerS(Dtype::kFp16), 4);
  EXPECT_EQ(gpu.PeakFlopsPerS(Dtype::kFp8), 5);
}

HardwareOverride Override(const std::string& key, const std::string& value_yaml) {
  return HardwareOverride{key, YAML::Load(value_yaml), "scenario.yaml", 12, 5};
}

TEST(OverrideTest, ReplacesAValueBeforeParsing) {
  Result<HardwareProfile> hw =
      LoadHardware("dgx-h100", {Override("gpu.memory_bytes", "100e9"),
                                Override("network.nic.bandwidth_bytes_per_s", "100e9")});
  ASSERT_TRUE(hw.ok()) << hw.error().ToString();
  EXPECT_EQ(hw->gpu.memory_bytes, 100'000'000'000);
  EXPECT_DOUBLE_EQ(hw->network.nic.bandwidth_bytes_per_s, 100e9);
  EXPECT_DOUBLE_EQ(hw->gpu.hbm_bandwidth_bytes_per_s, 3.35e12);  // untouched
}

TEST(OverrideTest, LaterOverridesWinAndSectionsCanBeReplaced) {
  Result<HardwareProfile> hw =
      LoadHardware("dgx-a100-80gb", {Override("gpu.gemm", "{max_efficiency: 0.5, tile_m: 64}"),
                                     Override("gpu.gemm.tile_m", "256")});
  ASSERT_TRUE(hw.ok()) << hw.error().ToString();
  EXPECT_EQ(hw->gpu.gemm.max_efficiency, 0.5);
  EXPECT_EQ(hw->gpu.gemm.tile_m, 256);
  EXPECT_EQ(hw->gpu.gemm.tile_n, GemmEfficiency{}.tile_n);  // replaced section: default
}

TEST(OverrideTest, CatalogErrorsNameTheCatalogFile) {
  // Shrinking the GPU below the reserved 2 GiB is blamed on reserved_bytes, which the catalog
  // file wrote: "<catalog>/dgx-h100.yaml" at the line holding "  reserved_bytes:", column 19.
  std::ifstream in(CatalogPath("dgx-h100"));
  std::string line;
  int reserved_line = 0;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind("  reserved_bytes:", 0) == 0) reserved_line = number;
  }
  Result<HardwareProfile> hw = LoadHardware("dgx-h100", {Override("gpu.memory_bytes", "1e9")});
  ASSERT_FALSE(hw.ok());
  EXPECT_EQ(hw.error().file, "<catalog>/dgx-h100.yaml");
  EXPECT_EQ(hw.error().line, reserved_line);
  EXPECT_EQ(hw.error().column, 19);
  EXPECT_THAT(hw.error().message, HasSubstr("memory.reserved_bytes must be less than"));
}

TEST(OverrideTest, DoesNotModifyTheCallersValue) {
  const HardwareOverride gemm = Override("gpu.gemm", "{max_efficiency: 0.5}");
  ASSERT_TRUE(LoadHardware("dgx-h100", {gemm, Override("gpu.gemm.k_half", "7")}).ok());
  EXPECT_FALSE(gemm.value["k_half"].IsDefined());
}

}  // namespace
}  // namespace foresight::hw
