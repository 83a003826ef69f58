#include "calibrate/fit_step.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "calibrate/fit_pipeline.h"
#include "calibrate/import_steps.h"
#include "calibrate/measurement.h"
#include "models/hw/collective.h"
#include "models/hw/roofline.h"

namespace foresight::calibrate {
namespace {

const std::string kData = std::string(FORESIGHT_SOURCE_DIR) + "/../shared/data/";

StepTable VtrainRows(std::size_t max_rows) {
  const std::string path = kData + "vtrain-a100/ground_truth_single.csv";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto table = ParseStepTable(text.str(), path);
  EXPECT_TRUE(table.ok());
  table->rows = SubsampleRows(table->rows, max_rows);
  return *table;
}

// Replaces every row's step time with the simulation under `truth` and `conventions`, times
// (1 + N(0, 0.5%)) noise from a fixed seed.
void SimulateRows(StepTable& table, const hw::HardwareProfile& truth,
                  const StepConventions& conventions, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.005);
  for (StepRow& row : table.rows) {
    auto input = StepInputFor(row, table.path, truth, conventions);
    ASSERT_TRUE(input.ok()) << input.error().ToString();
    auto result = plan::SimulateStep(*input);
    ASSERT_TRUE(result.ok());
    row.step_seconds = result->step_time_s * (1.0 + noise(rng));
  }
}

TEST(FitStepTest, MegatronVocabularyPadding) {
  // ceil(50257 / (128 tp)) * 128 tp: tp=1 -> 393*128 = 50304; tp=2 -> 197*256 = 50432;
  // tp=8 -> 50*1024 = 51200.
  EXPECT_EQ(PaddedVocab(50257, 128, 1), 50304);
  EXPECT_EQ(PaddedVocab(50257, 128, 2), 50432);
  EXPECT_EQ(PaddedVocab(50257, 128, 8), 51200);
}

TEST(FitStepTest, SubsampleKeepsEveryKthRow) {
  std::vector<StepRow> rows(10);
  for (int i = 0; i < 10; ++i) rows[static_cast<std::size_t>(i)].line = i + 2;
  const auto kept = SubsampleRows(rows, 4);  // k = ceil(10/4) = 3: rows 0, 3, 6, 9
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[1].line, 5);
  EXPECT_EQ(kept[3].line, 11);
  EXPECT_EQ(SubsampleRows(rows, 0).size(), 10u);
}

TEST(FitStepTest, RecoversEfficienciesFromSyntheticStepTimes) {
  // Truth: the A100 catalog profile with gemm.max_efficiency 0.70 and memory.max_efficiency
  // 0.75; step times simulated for 8 real vTrain configurations, times (1 + 0.5% noise).
  auto base = hw::LoadHardware("dgx-a100-80gb");
  ASSERT_TRUE(base.ok());
  hw::HardwareProfile truth = *base;
  truth.gpu.gemm.max_efficiency = 0.70;
  truth.gpu.memory.max_efficiency = 0.75;
  StepTable table = VtrainRows(8);
  const StepConventions conventions;
  SimulateRows(table, truth, conventions, 7);
  StepFitOptions options;
  options.parameters = {"gpu.gemm.max_efficiency", "gpu.memory.max_efficiency"};
  options.max_evaluations = 40;
  auto fit = FitStepTimes({table}, *base, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  EXPECT_NEAR(fit->profile.gpu.gemm.max_efficiency, 0.70, 0.70 * 0.03);
  EXPECT_NEAR(fit->profile.gpu.memory.max_efficiency, 0.75, 0.75 * 0.06);
  EXPECT_LT(fit->section.quality.mape, 0.01);
  EXPECT_GT(fit->before.mape, fit->section.quality.mape);
}

TEST(FitStepTest, RecoversHostDispatchStartingAtItsLowerBound) {
  // Truth: the catalog profile with host.kernel_dispatch_seconds = 60 us (host-bound small
  // runs); step times simulated for 16 real vTrain configurations, times (1 + 0.5% noise). The
  // base profile has d = 0, the bound of its range, where the central difference sees no
  // slope: the fit's second start (d = 10 us) must find it.
  auto base = hw::LoadHardware("dgx-a100-80gb");
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->host.kernel_dispatch_seconds, 0);
  hw::HardwareProfile truth = *base;
  truth.host.kernel_dispatch_seconds = 60e-6;
  StepTable table = VtrainRows(16);
  SimulateRows(table, truth, StepConventions{}, 11);
  StepFitOptions options;
  options.parameters = {"host.kernel_dispatch_seconds"};
  options.max_evaluations = 40;
  auto fit = FitStepTimes({table}, *base, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  EXPECT_NEAR(fit->profile.host.kernel_dispatch_seconds, 60e-6, 60e-6 * 0.03);
  EXPECT_LT(fit->section.quality.mape, 0.01);
  bool two_starts = false;
  for (const std::string& note : fit->section.notes)
    two_starts = two_starts || note.find("(2 starts, best kept)") != std::string::npos;
  EXPECT_TRUE(two_starts);
}

TEST(FitStepTest, RecoversComputeInterferenceFromOverlappedRuns) {
  // Truth: the catalog profile with gpu.interference.compute_slowdown = 0.3; step times
  // simulated under FSDP full sharding (its per-layer all-gathers and reduce-scatters overlap
  // the compute, which is what makes the slowdown visible) for 16 real vTrain configurations,
  // times (1 + 0.5% noise). The base has 0, the bound of its range: the second start finds it.
  auto base = hw::LoadHardware("dgx-a100-80gb");
  ASSERT_TRUE(base.ok());
  hw::HardwareProfile truth = *base;
  truth.gpu.interference.compute_slowdown = 0.3;
  StepTable table = VtrainRows(16);
  StepConventions conventions;
  conventions.sharding = DpSharding::kFullShard;
  SimulateRows(table, truth, conventions, 13);
  StepFitOptions options;
  options.parameters = {"gpu.interference.compute_slowdown"};
  options.conventions = conventions;
  options.max_evaluations = 40;
  auto fit = FitStepTimes({table}, *base, options);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  EXPECT_NEAR(fit->profile.gpu.interference.compute_slowdown, 0.3, 0.3 * 0.1);
  EXPECT_LT(fit->section.quality.mape, 0.01);
}

TEST(FitStepTest, UnknownParameterAndInvalidRowAreErrors) {
  auto base = hw::LoadHardware("dgx-a100-80gb");
  ASSERT_TRUE(base.ok());
  StepFitOptions options;
  options.parameters = {"gpu.warp_speed"};
  auto unknown = FitStepTimes({VtrainRows(2)}, *base, options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("gpu.gemm.max_efficiency"), std::string::npos);
  StepRow bad{7, 4, 8, 1, 1024, 16, 24, 1024, 3, 1, 1, 0.1};  // tp = 3 does not divide 16 heads
  bad.gpus = 3;
  auto invalid = StepInputFor(bad, "steps.csv", *base, StepConventions{});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().file, "steps.csv");
  EXPECT_EQ(invalid.error().line, 7);
}

TEST(FitPipelineTest, FittedProfileLoadsAndRunsAScenario) {
  // A small end-to-end fit: the 8-GPU all-reduce sweep (scale-up link) and 6 rows of the
  // single-node step table (gemm.max_efficiency), written to a file and loaded back by path.
  const std::string dir = std::filesystem::temp_directory_path() / "foresight_fit_test";
  std::filesystem::create_directories(dir);
  const std::string steps = dir + "/steps.csv";
  {
    std::ifstream in(kData + "vtrain-a100/ground_truth_single.csv", std::ios::binary);
    std::ofstream out(steps, std::ios::binary);
    std::string line;
    for (int i = 0; i < 7 && std::getline(in, line); ++i) out << line << "\n";
  }
  FitRequest request;
  request.files = {kData + "vtrain-a100/allreduce_a100_8gpu.csv", steps};
  request.base = "dgx-a100-80gb";
  request.command_line = "foresight calibrate fit (test)";
  request.step.parameters = {"gpu.gemm.max_efficiency"};
  request.step.max_evaluations = 12;
  auto out = RunCalibrationFit(request);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(out->profile.name, "dgx-a100-80gb-calibrated");
  EXPECT_NE(out->yaml.find("# fitted by `foresight calibrate fit` (node.scale_up"),
            std::string::npos);
  EXPECT_NE(out->report.find("| node.scale_up (intra-node collectives) | yes |"),
            std::string::npos);
  const std::string profile_path = dir + "/fitted.yaml";
  std::ofstream(profile_path) << out->yaml;
  auto loaded = hw::LoadHardware(profile_path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(loaded->gpu.gemm.max_efficiency, out->profile.gpu.gemm.max_efficiency);
  // The 8-GPU sweep reaches busbw 229 GB/s at 1 GiB, so the fitted scale-up busbw is near it,
  // well below the catalog's 300 GB/s line rate.
  EXPECT_LT(loaded->node.scale_up.EffectiveBytesPerS(), 260e9);
  EXPECT_GT(loaded->node.scale_up.EffectiveBytesPerS(), 200e9);
  StepRow row{2, 8, 32, 4, 1024, 16, 24, 1024, 2, 2, 2, 0.2};
  auto input = StepInputFor(row, "row", *loaded, StepConventions{});
  ASSERT_TRUE(input.ok());
  input->cluster.hardware = profile_path;
  auto result = plan::SimulateStep(*input);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_GT(result->step_time_s, 0);
  FitRequest missing;
  missing.files = {steps + ".missing"};
  missing.base = "dgx-a100-80gb";
  const auto bad = RunCalibrationFit(missing);
  ASSERT_FALSE(bad.ok());
}

}  // namespace
}  // namespace foresight::calibrate

namespace foresight::calibrate {
namespace {

TEST(CommittedProfilesTest, LoadAndRunAStep) {
  // calibrate/profiles/*.yaml are generated by the commands in docs/calibration.md.
  for (const char* name : {"a100-vtrain", "h100-nccl"}) {
    const std::string path =
        std::string(FORESIGHT_SOURCE_DIR) + "/calibrate/profiles/" + name + ".yaml";
    auto hw = hw::LoadHardware(path);
    ASSERT_TRUE(hw.ok()) << hw.error().ToString();
    EXPECT_EQ(hw->name, name);
    StepRow row{2, 8, 32, 4, 1024, 16, 24, 1024, 2, 2, 2, 0.2};
    auto input = StepInputFor(row, "row", *hw, StepConventions{});
    ASSERT_TRUE(input.ok());
    auto result = plan::SimulateStep(*input);
    ASSERT_TRUE(result.ok());
    EXPECT_GT(result->step_time_s, 0);
  }
}

}  // namespace
}  // namespace foresight::calibrate

namespace foresight::calibrate {
namespace {

TEST(FitPipelineTest, OwnMeasurementFileFitsGemmMemoryLaunchAndScaleUp) {
  // A measurement file (calibrate/measurement.h) generated from a known H100 profile: launch
  // 4 us, memory.max_efficiency 0.86 with bytes_half 2 MB, gemm.max_efficiency 0.75 with
  // k_half 80, scale-up efficiency 0.78 with alpha 3 us; no noise, so the fit returns them to
  // rounding (the cells are written with round-trip precision).
  auto base = hw::LoadHardware("dgx-h100");
  ASSERT_TRUE(base.ok());
  const hw::GpuSpec& g = base->gpu;
  MeasurementFile file;
  file.metadata = {{"device", "synthetic H100"},
                   {"host_cores", "64"},
                   {"host_memory_bandwidth_bytes_per_s", "2e11"},
                   {"host_adam_params_per_s", "1.5e9"}};
  MeasurementTable launch = MakeTable(MeasurementKind::kLaunch);
  for (int i = 0; i < 3; ++i) launch.AddRow({"async", "1000", "20", "4e-06", "4e-06"});
  MeasurementTable membw = MakeTable(MeasurementKind::kMemBw);
  for (double b = 1 << 20; b <= 2e9; b *= 4) {
    const double t = 4e-6 + (b + 2e6) / (g.hbm_bandwidth_bytes_per_s * 0.86);
    membw.AddRow({"copy", FormatNumber(b), FormatNumber(b), "20", FormatNumber(t), FormatNumber(t),
                  FormatNumber(b / t)});
  }
  MeasurementTable gemm = MakeTable(MeasurementKind::kGemm);
  hw::GpuSpec truth = g;
  truth.kernel_launch_seconds = 4e-6;
  truth.gemm.max_efficiency = 0.75;
  truth.gemm.k_half = 80;
  for (std::int64_t m : {2048, 4096, 8192}) {
    for (std::int64_t k : {256, 1024, 8192}) {
      const double flops = 2.0 * m * m * k;
      const double t =
          4e-6 + flops / (g.peak_flops_per_s_bf16 * hw::GemmEfficiencyFor(truth, m, m, k, 1));
      gemm.AddRow({"bf16", "NT", std::to_string(m), std::to_string(m), std::to_string(k), "20",
                   FormatNumber(t), FormatNumber(t), FormatNumber(flops / t)});
    }
  }
  MeasurementTable coll = MakeTable(MeasurementKind::kCollective);
  hw::HardwareProfile link_truth = *base;
  link_truth.node.scale_up.efficiency = 0.78;
  link_truth.node.scale_up.latency_seconds = 3e-6;
  for (double b = 1 << 16; b <= 4e9; b *= 4) {
    const double t = hw::CollectiveSeconds(link_truth, hw::CollectiveOp::kAllReduce, b, {8, 8, 1});
    coll.AddRow({"all_reduce", "bf16", "8", "1", FormatNumber(b), "20", FormatNumber(t),
                 FormatNumber(t), FormatNumber(b / t), FormatNumber(b / t * 1.75)});
  }
  // Overlap rows: GEMM victims slowed 10%, 12% and 30% (median 12%); collective victims 5% and
  // 7% (median of two: 6%).
  MeasurementTable overlap = MakeTable(MeasurementKind::kOverlap);
  for (const auto& [victim, ratio] :
       std::vector<std::pair<std::string, double>>{{"gemm", 1.10},
                                                   {"gemm", 1.12},
                                                   {"gemm", 1.30},
                                                   {"collective", 1.05},
                                                   {"collective", 1.07}}) {
    const double alone = 1e-3;
    overlap.AddRow({victim, "bf16", "8192", "8192", "8192", "all_reduce", "268435456", "8", "20",
                    FormatNumber(alone * ratio), FormatNumber(alone * ratio), FormatNumber(alone),
                    FormatNumber(ratio - 1)});
  }
  file.tables = {launch, membw, gemm, coll, overlap};
  const std::string path =
      (std::filesystem::temp_directory_path() / "foresight_fit_measurements.csv").string();
  ASSERT_TRUE(WriteMeasurementsFile(file, path).ok());
  FitRequest request;
  request.files = {path};
  request.base = "dgx-h100";
  auto out = RunCalibrationFit(request);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_NEAR(out->profile.gpu.kernel_launch_seconds, 4e-6, 1e-15);
  EXPECT_NEAR(out->profile.gpu.memory.max_efficiency, 0.86, 1e-6);
  EXPECT_NEAR(out->profile.gpu.memory.bytes_half, 2e6, 1.0);
  EXPECT_NEAR(out->profile.gpu.gemm.max_efficiency, 0.75, 1e-6);
  EXPECT_NEAR(out->profile.gpu.gemm.k_half, 80, 1e-3);
  EXPECT_NEAR(out->profile.node.scale_up.efficiency, 0.78, 1e-6);
  EXPECT_NEAR(out->profile.node.scale_up.latency_seconds, 3e-6, 1e-12);
  EXPECT_NEAR(out->profile.gpu.interference.compute_slowdown, 0.12, 1e-12);
  EXPECT_NEAR(out->profile.gpu.interference.comm_slowdown, 0.06, 1e-12);
  // Host figures come straight from the file metadata.
  EXPECT_EQ(out->profile.host.cores, 64);
  EXPECT_EQ(out->profile.host.memory_bandwidth_bytes_per_s, 2e11);
  EXPECT_EQ(out->profile.host.adam_params_per_s, 1.5e9);
}

}  // namespace
}  // namespace foresight::calibrate
