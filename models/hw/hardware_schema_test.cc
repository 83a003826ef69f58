// Strict profile schema: unknown keys, wrong types, missing keys, ranges and override paths,
// each reported at the right file:line:column (1-based).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "models/hw/hardware.h"

namespace foresight::hw {
namespace {

using ::testing::HasSubstr;

// The smallest valid profile: every optional key absent. Line numbers are used below.
constexpr char kMinimal[] =
    "name: tiny\n"                                                            // 1
    "gpu:\n"                                                                  // 2
    "  name: toy\n"                                                           // 3
    "  peak_flops_per_s: {fp32: 1e12, tf32: 2e12, bf16: 4e12, fp16: 4e12}\n"  // 4
    "  memory_bytes: 1000000000\n"                                            // 5
    "  hbm_bandwidth_bytes_per_s: 1e12\n"                                     // 6
    "  sm_count: 4\n"                                                         // 7
    "node:\n"                                                                 // 8
    "  gpus_per_node: 2\n"                                                    // 9
    "  scale_up: {bandwidth_bytes_per_s: 100e9}\n"                            // 10
    "  pcie: {bandwidth_bytes_per_s: 10e9}\n"                                 // 11
    "network:\n"                                                              // 12
    "  nics_per_node: 1\n"                                                    // 13
    "  nic: {bandwidth_bytes_per_s: 10e9}\n";                                 // 14

// kMinimal with line `line` (1-based) replaced by `text`.
std::string WithLine(int line, const std::string& text) {
  std::string out;
  int number = 1;
  std::string current;
  for (char c : std::string(kMinimal)) {
    current += c;
    if (c != '\n') continue;
    out += number == line ? text + "\n" : current;
    current.clear();
    ++number;
  }
  return out;
}

Error ParseError(const std::string& text, const std::vector<HardwareOverride>& overrides = {}) {
  Result<HardwareProfile> profile = ParseHardware(text, "hw.yaml", overrides);
  EXPECT_FALSE(profile.ok());
  return profile.ok() ? Error{} : profile.error();
}

HardwareOverride Override(const std::string& key, const std::string& value_yaml) {
  return HardwareOverride{key, YAML::Load(value_yaml), "scenario.yaml", 12, 5};
}

TEST(SchemaTest, MinimalProfileTakesTheDocumentedDefaults) {
  Result<HardwareProfile> hw = ParseHardware(kMinimal, "hw.yaml");
  ASSERT_TRUE(hw.ok()) << hw.error().ToString();
  EXPECT_EQ(hw->gpu.memory_bytes, 1'000'000'000);
  EXPECT_EQ(hw->gpu.peak_flops_per_s_fp8, 0);  // absent: unsupported
  EXPECT_EQ(hw->gpu.gemm.max_efficiency, GemmEfficiency{}.max_efficiency);
  EXPECT_EQ(hw->gpu.memory.bytes_half, MemoryEfficiency{}.bytes_half);
  EXPECT_EQ(hw->node.scale_up.efficiency, 1.0);
  EXPECT_EQ(hw->host.cores, 0);
  EXPECT_EQ(hw->memory.reserved_bytes, 0);
  EXPECT_EQ(hw->source_file, "hw.yaml");
}

TEST(SchemaTest, IntegersMayBeWrittenAsExactFloats) {
  Result<HardwareProfile> hw = ParseHardware(WithLine(5, "  memory_bytes: 80e9"), "hw.yaml");
  ASSERT_TRUE(hw.ok()) << hw.error().ToString();
  EXPECT_EQ(hw->gpu.memory_bytes, 80'000'000'000);
}

TEST(SchemaTest, UnknownKeyIsReportedAtTheKeyWithTheValidKeys) {
  const Error error = ParseError(WithLine(7, "  sm_count: 4\n  sm_cuont: 4"));  // line 8
  EXPECT_EQ(error.file, "hw.yaml");
  EXPECT_EQ(error.line, 8);
  EXPECT_EQ(error.column, 3);
  EXPECT_EQ(error.message,
            "unknown key 'sm_cuont' in gpu; valid keys: name, peak_flops_per_s, memory_bytes, "
            "hbm_bandwidth_bytes_per_s, sm_count, kernel_launch_seconds, gemm, "
            "attention_efficiency, attention_kernels, memory, interference");
}

TEST(SchemaTest, UnknownTopLevelKey) {
  const Error error = ParseError(std::string(kMinimal) + "gpus: 8\n");  // line 15
  EXPECT_EQ(error.line, 15);
  EXPECT_EQ(error.column, 1);
  EXPECT_THAT(error.message, HasSubstr("unknown key 'gpus' at top level; valid keys: name, "
                                       "description, gpu, node, network, fabric, host, memory, "
                                       "price_per_gpu_hour"));
}

TEST(SchemaTest, WrongTypeIsReportedAtTheValue) {
  // "  sm_count: " is 12 characters, so the value starts in column 13.
  const Error error = ParseError(WithLine(7, "  sm_count: many"));
  EXPECT_EQ(error.line, 7);
  EXPECT_EQ(error.column, 13);
  EXPECT_EQ(error.message, "gpu.sm_count: expected an integer, found 'many'");
}

TEST(SchemaTest, NonIntegralCountIsAWrongType) {
  const Error error = ParseError(WithLine(7, "  sm_count: 4.5"));
  EXPECT_EQ(error.message, "gpu.sm_count: expected an integer, found '4.5'");
}

TEST(SchemaTest, QuotedNumberIsAString) {
  // "  hbm_bandwidth_bytes_per_s: " is 29 characters.
  const Error error = ParseError(WithLine(6, "  hbm_bandwidth_bytes_per_s: \"1e12\""));
  EXPECT_EQ(error.line, 6);
  EXPECT_EQ(error.column, 30);
  EXPECT_EQ(error.message,
            "gpu.hbm_bandwidth_bytes_per_s: expected a finite number, found quoted string "
            "\"1e12\"");
}

TEST(SchemaTest, SectionMustBeAMap) {
  const Error error = ParseError(WithLine(10, "  scale_up: 100e9"));
  EXPECT_EQ(error.line, 10);
  EXPECT_EQ(error.column, 13);
  EXPECT_EQ(error.message, "node.scale_up: expected a map, found '100e9'");
}

TEST(SchemaTest, MissingRequiredKeyIsNamedAtItsSection) {
  const Error error = ParseError(WithLine(6, "  # no hbm bandwidth"));
  EXPECT_EQ(error.line, 2);  // the "gpu:" key
  EXPECT_EQ(error.column, 1);
  EXPECT_EQ(error.message, "missing required key 'hbm_bandwidth_bytes_per_s' in gpu");
}

TEST(SchemaTest, MissingRequiredSection) {
  const Error error = ParseError("name: tiny\n");
  EXPECT_EQ(error.message, "missing required key 'gpu' at top level");
}

TEST(SchemaTest, OutOfRangeValues) {
  // Inline map on line 10: "  scale_up: {bandwidth_bytes_per_s: 100e9, efficiency: " is 55
  // characters, so the value is in column 56.
  Error error =
      ParseError(WithLine(10, "  scale_up: {bandwidth_bytes_per_s: 100e9, efficiency: 1.5}"));
  EXPECT_EQ(error.line, 10);
  EXPECT_EQ(error.column, 56);
  EXPECT_EQ(error.message, "node.scale_up.efficiency must be in (0, 1], found 1.5");

  // A gemm section after sm_count (line 7): an fp8 ceiling of 0 is out of range.
  error = ParseError(
      WithLine(7, "  sm_count: 4\n  gemm: {max_efficiency: 0.8, fp8_max_efficiency: 0}"));
  EXPECT_EQ(error.message, "gpu.gemm.fp8_max_efficiency must be in (0, 1], found 0");

  error = ParseError(WithLine(7, "  sm_count: 4\n  interference: {compute_slowdown: -0.1}"));
  EXPECT_EQ(error.message, "gpu.interference.compute_slowdown must be >= 0, found -0.1");

  error = ParseError(WithLine(9, "  gpus_per_node: 0"));
  EXPECT_EQ(error.message, "node.gpus_per_node must be >= 1, found 0");
  error = ParseError(WithLine(14, "  nic: {bandwidth_bytes_per_s: 0}"));
  EXPECT_EQ(error.message, "network.nic.bandwidth_bytes_per_s must be > 0, found 0");
  error = ParseError(WithLine(4, "  peak_flops_per_s: {fp32: 1, tf32: 2, bf16: 4, fp16: -4}"));
  EXPECT_EQ(error.message, "gpu.peak_flops_per_s.fp16 must be > 0, found -4");
  error = ParseError(std::string(kMinimal) + "memory: {fragmentation_fraction: 1}\n");
  EXPECT_EQ(error.message, "memory.fragmentation_fraction must be in [0, 1), found 1");
}

TEST(SchemaTest, AttentionKernelsAreNamesChosenByTheUser) {
  Result<HardwareProfile> hw = ParseHardware(
      WithLine(7, "  sm_count: 4\n  attention_kernels: {mine: 0.45, flash2: 0.35}"), "hw.yaml");
  ASSERT_TRUE(hw.ok()) << hw.error().ToString();
  ASSERT_EQ(hw->gpu.attention_kernels.size(), 2u);
  EXPECT_EQ(hw->gpu.attention_kernels.at("mine"), 0.45);
  EXPECT_EQ(hw->gpu.attention_kernels.at("flash2"), 0.35);
  EXPECT_TRUE(ParseHardware(kMinimal, "hw.yaml")->gpu.attention_kernels.empty());

  // Line 8 is "  attention_kernels: {mine: 0.45, flash2: 1.2}": "  attention_kernels: {" is 22
  // characters, "mine: 0.45, " 12 and "flash2: " 8, so the bad value is in column 43.
  Error error =
      ParseError(WithLine(7, "  sm_count: 4\n  attention_kernels: {mine: 0.45, flash2: 1.2}"));
  EXPECT_EQ(error.line, 8);
  EXPECT_EQ(error.column, 43);
  EXPECT_EQ(error.message, "gpu.attention_kernels.flash2 must be in (0, 1], found 1.2");
  error = ParseError(WithLine(7, "  sm_count: 4\n  attention_kernels: {mine: fast}"));
  EXPECT_THAT(error.message, HasSubstr("gpu.attention_kernels.mine: expected a finite number"));
  error = ParseError(WithLine(7, "  sm_count: 4\n  attention_kernels: {a: 0.3, a: 0.4}"));
  EXPECT_EQ(error.message, "duplicate key 'a' in gpu.attention_kernels");
  error = ParseError(WithLine(7, "  sm_count: 4\n  attention_kernels: [0.3]"));
  EXPECT_THAT(error.message, HasSubstr("gpu.attention_kernels: expected a map"));
}

TEST(SchemaTest, ReservedMemoryMustLeaveRoom) {
  const Error error = ParseError(std::string(kMinimal) + "memory: {reserved_bytes: 2e9}\n");
  EXPECT_EQ(error.line, 15);
  EXPECT_EQ(error.column, 26);  // "memory: {reserved_bytes: " is 25 characters
  EXPECT_EQ(error.message,
            "memory.reserved_bytes must be less than gpu.memory_bytes (1000000000), found "
            "2000000000");
}

TEST(SchemaTest, DuplicateKey) {
  const Error error = ParseError(WithLine(7, "  sm_count: 4\n  sm_count: 8"));
  EXPECT_EQ(error.line, 8);
  EXPECT_EQ(error.message, "duplicate key 'sm_count' in gpu");
}

TEST(SchemaTest, YamlSyntaxErrorCarriesItsPosition) {
  const Error error = ParseError(WithLine(10, "  scale_up: {bandwidth_bytes_per_s: 100e9"));
  EXPECT_EQ(error.file, "hw.yaml");
  EXPECT_GT(error.line, 0);
  EXPECT_THAT(error.message, HasSubstr("invalid YAML"));
}

TEST(SchemaTest, TopLevelMustBeAMap) {
  EXPECT_THAT(ParseError("- a\n- b\n").message, HasSubstr("expected a map at top level"));
  EXPECT_THAT(ParseError("").message, HasSubstr("empty hardware profile"));
}

TEST(OverrideSchemaTest, BadPathIsReportedAtTheOverrideWithTheValidKeys) {
  const Error error = ParseError(kMinimal, {Override("gpu.memry_bytes", "1")});
  EXPECT_EQ(error.file, "scenario.yaml");
  EXPECT_EQ(error.line, 12);
  EXPECT_EQ(error.column, 5);
  EXPECT_EQ(error.message,
            "override 'gpu.memry_bytes': unknown key 'memry_bytes' in gpu; valid keys: name, "
            "peak_flops_per_s, memory_bytes, hbm_bandwidth_bytes_per_s, sm_count, "
            "kernel_launch_seconds, gemm, attention_efficiency, attention_kernels, memory, "
            "interference");
}

TEST(OverrideSchemaTest, BadPathThroughANewSection) {
  const Error error = ParseError(kMinimal, {Override("network.fabric.radix", "64")});
  EXPECT_EQ(error.file, "scenario.yaml");
  EXPECT_EQ(error.line, 12);
  EXPECT_EQ(error.message,
            "override 'network.fabric.radix': unknown key 'fabric' in network; valid keys: "
            "nics_per_node, nic");
}

TEST(OverrideSchemaTest, PathThroughAValue) {
  const Error error = ParseError(kMinimal, {Override("gpu.sm_count.x", "1")});
  EXPECT_EQ(error.line, 12);
  EXPECT_EQ(error.message,
            "override 'gpu.sm_count.x': 'gpu.sm_count' is a value, not a "
            "section with keys");
}

TEST(OverrideSchemaTest, MalformedKey) {
  EXPECT_THAT(ParseError(kMinimal, {Override("gpu..sm_count", "1")}).message,
              HasSubstr("expected a dotted key path"));
}

TEST(OverrideSchemaTest, WrongTypeIsReportedAtTheOverride) {
  const Error error = ParseError(kMinimal, {Override("gpu.sm_count", "lots")});
  EXPECT_EQ(error.file, "scenario.yaml");
  EXPECT_EQ(error.line, 12);
  EXPECT_EQ(error.column, 5);
  EXPECT_EQ(error.message,
            "override 'gpu.sm_count': gpu.sm_count: expected an integer, found 'lots'");
}

TEST(OverrideSchemaTest, ErrorInsideAReplacedSectionBlamesTheOverride) {
  const Error error = ParseError(kMinimal, {Override("node.scale_up", "{efficiency: 0.5}")});
  EXPECT_EQ(error.file, "scenario.yaml");
  EXPECT_EQ(error.message,
            "override 'node.scale_up': missing required key "
            "'bandwidth_bytes_per_s' in node.scale_up");
}

TEST(OverrideSchemaTest, FileErrorsStayInTheFile) {
  // An override elsewhere does not take the blame for the file's own mistake.
  const Error error =
      ParseError(WithLine(7, "  sm_count: many"), {Override("gpu.memory_bytes", "5")});
  EXPECT_EQ(error.file, "hw.yaml");
  EXPECT_EQ(error.line, 7);
}

TEST(OverrideSchemaTest, CreatesAbsentOptionalSections) {
  Result<HardwareProfile> hw =
      ParseHardware(kMinimal, "hw.yaml", {Override("gpu.gemm.k_half", "64")});
  ASSERT_TRUE(hw.ok()) << hw.error().ToString();
  EXPECT_EQ(hw->gpu.gemm.k_half, 64);
}

}  // namespace
}  // namespace foresight::hw
