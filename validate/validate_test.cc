#include "validate/validate.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "calibrate/fit_step.h"
#include "models/hw/hardware.h"
#include "plan/simulate.h"
#include "validate/dataset.h"

namespace foresight::validate {
namespace {

TEST(ValidateStats, ClosedForm) {
  // |e| = 0.1, 0.2, 0.05, 0.05: mean 0.4 / 4 = 0.1; sorted 0.05 0.05 0.1 0.2 -> median
  // (0.05 + 0.1) / 2 = 0.075; worst 0.2; signed mean (0.1 - 0.2 + 0.05 - 0.05) / 4 = -0.025.
  const ErrorStats s = ComputeStats({0.1, -0.2, 0.05, -0.05});
  EXPECT_EQ(s.rows, 4u);
  EXPECT_NEAR(s.mape, 0.1, 1e-15);
  EXPECT_NEAR(s.median_abs, 0.075, 1e-15);
  EXPECT_NEAR(s.worst_abs, 0.2, 1e-15);
  EXPECT_NEAR(s.bias, -0.025, 1e-15);
  // Odd count: the middle value.
  EXPECT_NEAR(ComputeStats({0.3, -0.01, 0.02}).median_abs, 0.02, 1e-15);
  EXPECT_EQ(ComputeStats({}).rows, 0u);
}

TEST(ValidateStats, ParallelismMix) {
  EXPECT_EQ(ParallelismMix(1, 1, 1), "none");
  EXPECT_EQ(ParallelismMix(8, 1, 1), "tp");
  EXPECT_EQ(ParallelismMix(2, 1, 4), "tp+dp");
  EXPECT_EQ(ParallelismMix(8, 4, 16), "tp+pp+dp");
  EXPECT_EQ(ParallelismMix(1, 2, 1), "pp");
}

constexpr const char* kGeneral =
    "# a comment line\n"
    "layers,hidden,heads,seq_len,gpus,tp,pp,dp,global_batch,micro_batch,measured_step_seconds,"
    "recompute,source\n"
    "24,2048,16,2048,8,2,2,2,64,4,1.5,none,test run\n"
    "\n"
    "# another comment\n"
    "32,2560,32,2048,4,4,1,1,32,2,0.75,full,test run 2\n";

TEST(ValidateDataset, ParsesGeneralFormat) {
  auto d = ParseDataset(kGeneral, "runs.csv");
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->format, "measured-runs");
  ASSERT_EQ(d->rows.size(), 2u);
  const RunRow& a = d->rows[0];
  EXPECT_EQ(a.step.line, 3);
  EXPECT_EQ(a.step.layers, 24);
  EXPECT_EQ(a.step.hidden, 2048);
  EXPECT_EQ(a.step.tp, 2);
  EXPECT_EQ(a.step.pp, 2);
  EXPECT_EQ(a.step.dp, 2);
  EXPECT_DOUBLE_EQ(a.step.step_seconds, 1.5);
  EXPECT_EQ(a.conventions.recompute, plan::Recompute::kNone);
  EXPECT_EQ(a.conventions.vocab, 50257);  // default
  EXPECT_EQ(a.source, "test run");
  EXPECT_EQ(d->rows[1].step.line, 6);
  EXPECT_EQ(d->rows[1].conventions.recompute, plan::Recompute::kFull);
}

std::string ErrorOf(const std::string& text) {
  auto d = ParseDataset(text, "runs.csv");
  return d.ok() ? "" : d.error().ToString();
}

TEST(ValidateDataset, StrictErrorsNameLineAndColumn) {
  const std::string header =
      "layers,hidden,heads,seq_len,gpus,tp,pp,dp,global_batch,micro_batch,"
      "measured_step_seconds\n";
  // Unknown column: the 'bogus' header cell starts at column 1 of line 1.
  EXPECT_NE(ErrorOf("bogus," + header).find("runs.csv:1:1"), std::string::npos);
  EXPECT_NE(ErrorOf("bogus," + header).find("unknown column 'bogus'"), std::string::npos);
  // Missing required column.
  EXPECT_NE(ErrorOf("layers,hidden\n1,2\n").find("lacks the required column 'heads'"),
            std::string::npos);
  // 'x' in the hidden cell: "24," is 3 characters, so hidden starts at column 4 of line 2.
  const std::string bad_int = ErrorOf(header + "24,x,16,2048,8,2,2,2,64,4,1.5\n");
  EXPECT_NE(bad_int.find("runs.csv:2:4"), std::string::npos) << bad_int;
  EXPECT_NE(bad_int.find("positive integer for 'hidden'"), std::string::npos);
  // gpus = 8 but 2 * 2 * 1 = 4.
  EXPECT_NE(ErrorOf(header + "24,2048,16,2048,8,2,2,1,64,4,1.5\n").find("tp * pp * dp = 4"),
            std::string::npos);
  // Negative time, wrong cell count, bad enum.
  EXPECT_NE(ErrorOf(header + "24,2048,16,2048,8,2,2,2,64,4,-1\n").find("positive measured step"),
            std::string::npos);
  EXPECT_NE(ErrorOf(header + "24,2048\n").find("expected 11 comma-separated cells"),
            std::string::npos);
  EXPECT_NE(ErrorOf("schedule," + header + "zigzag,24,2048,16,2048,8,2,2,2,64,4,1\n")
                .find("expected schedule 1f1b or gpipe"),
            std::string::npos);
  // attention_kernel without flash_attention true: blamed on the attention_kernel cell, which
  // starts at column 1 of line 2.
  const std::string kernel =
      ErrorOf("attention_kernel," + header + "triton_flash,24,2048,16,2048,8,2,2,2,64,4,1\n");
  EXPECT_NE(kernel.find("runs.csv:2:1"), std::string::npos) << kernel;
  EXPECT_NE(kernel.find("expected flash_attention true"), std::string::npos) << kernel;
  EXPECT_NE(ErrorOf("# only comments\n").find("empty dataset"), std::string::npos);
  EXPECT_NE(ErrorOf(header).find("no rows"), std::string::npos);
}

TEST(ValidateDataset, DetectsVtrainTables) {
  // First lines of vTrain's ground_truth_single.csv (data/vtrain-a100).
  const char* text =
      "# GPUs,global batch,micro batch,hidden size,attention heads,# layers,sequence length,"
      "tensor parallelism,data parallelism,pipeline parallelism,iteration time (ms)\n"
      "8,16,1,2048,16,24,2048,8,1,1,1234.5\n";
  auto d = ParseDataset(text, "gt.csv");
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->format, "vtrain");
  ASSERT_EQ(d->rows.size(), 1u);
  EXPECT_DOUBLE_EQ(d->rows[0].step.step_seconds, 1.2345);
  EXPECT_TRUE(d->rows[0].hardware.empty());
}

TEST(ValidateRun, RowWithoutHardwareIsAnError) {
  auto d = ParseDataset(kGeneral, "runs.csv");
  ASSERT_TRUE(d.ok());
  auto r = RunValidation(*d, Options{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("runs.csv:3:1"), std::string::npos);
  EXPECT_NE(r.error().ToString().find("--hardware"), std::string::npos);
}

// The vTrain single-node table predicted with the calibrated profile (fitted on this same
// table, so this checks the harness end to end rather than held-out accuracy). The fit report
// (calibrate/profiles/a100-vtrain.report.md, computed by the fitter, not by this library) gives
// worst |rel| 29.19% and MAPE 6.34% over all 1,440 rows: a subsample cannot be worse than the
// whole table's worst, and its MAPE should stay near the whole table's.
TEST(ValidateRun, VtrainSingleSubsample) {
  auto d = LoadDataset("../shared/data/vtrain-a100/ground_truth_single.csv");
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_EQ(d->rows.size(), 1440u);  // data/README.md
  Options options;
  options.hardware = "calibrate/profiles/a100-vtrain.yaml";
  options.max_rows = 24;
  auto r = RunValidation(*d, options);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->rows.size(), 24u);  // k = ceil(1440 / 24) = 60
  EXPECT_EQ(r->rows[1].row.step.line, d->rows[60].step.line);
  EXPECT_LT(r->overall.mape, 0.10);
  EXPECT_LE(r->overall.worst_abs, 0.2919 + 1e-4);
  std::size_t in_categories = 0;
  for (const Category& c : r->by_gpus) in_categories += c.stats.rows;
  EXPECT_EQ(in_categories, 24u);
  // Deterministic: the same input renders the same bytes.
  auto again = RunValidation(*d, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(RenderJson(*r), RenderJson(*again));
  EXPECT_EQ(RenderSvg(*r), RenderSvg(*again));
}

// The same run in both formats gives the same prediction: the general format's defaults are
// the vTrain conventions. Line 2 of ground_truth_single.csv: 2 GPUs, B 16, b 8, hidden 1024,
// 16 heads, 24 layers, seq 1024, tp 1, dp 1, pp 2, 372.160408 ms. The general row names its
// hardware relative to the dataset's folder ("calibrate/" + "profiles/a100-vtrain.yaml").
TEST(ValidateRun, GeneralFormatMatchesVtrainRow) {
  auto vtrain = LoadDataset("../shared/data/vtrain-a100/ground_truth_single.csv");
  ASSERT_TRUE(vtrain.ok());
  vtrain->rows.resize(1);
  Options with_hw;
  with_hw.hardware = "calibrate/profiles/a100-vtrain.yaml";
  auto a = RunValidation(*vtrain, with_hw);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  auto general = ParseDataset(
      "layers,hidden,heads,seq_len,gpus,tp,pp,dp,global_batch,micro_batch,"
      "measured_step_seconds,hardware\n"
      "24,1024,16,1024,2,1,2,1,16,8,0.372160408,profiles/a100-vtrain.yaml\n",
      "calibrate/runs.csv");
  ASSERT_TRUE(general.ok()) << general.error().ToString();
  EXPECT_EQ(general->rows[0].hardware, "calibrate/profiles/a100-vtrain.yaml");
  auto b = RunValidation(*general, Options{});
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  ASSERT_EQ(a->rows.size(), 1u);
  ASSERT_EQ(b->rows.size(), 1u);
  EXPECT_DOUBLE_EQ(a->rows[0].measured_s, 0.372160408);
  EXPECT_DOUBLE_EQ(b->rows[0].measured_s, 0.372160408);
  EXPECT_EQ(a->rows[0].predicted_s, b->rows[0].predicted_s);
  EXPECT_EQ(a->rows[0].parallelism, "pp");
  // Signed error by definition: (predicted - measured) / measured.
  EXPECT_DOUBLE_EQ(b->rows[0].error, (b->rows[0].predicted_s - 0.372160408) / 0.372160408);
}

TEST(ValidateRun, AttentionKernelColumnReachesThePlan) {
  // The same flash-attention run with and without attention_kernel: the named kernel is the
  // slower FlashAttention-v1 figure (0.325 < 0.6 on dgx-a100-80gb), so the prediction grows;
  // an unknown name is an error naming the row.
  const std::string header =
      "layers,hidden,heads,seq_len,gpus,tp,pp,dp,global_batch,micro_batch,"
      "measured_step_seconds,flash_attention,attention_kernel,hardware\n";
  auto d = ParseDataset(header + "4,2048,16,4096,8,1,1,8,16,2,1.0,true,,dgx-a100-80gb\n" +
                            "4,2048,16,4096,8,1,1,8,16,2,1.0,true,triton_flash,dgx-a100-80gb\n",
                        "runs.csv");
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->rows[0].conventions.attention_kernel, "");
  EXPECT_EQ(d->rows[1].conventions.attention_kernel, "triton_flash");
  auto r = RunValidation(*d, Options{});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GT(r->rows[1].predicted_s, r->rows[0].predicted_s);

  auto bad = ParseDataset(header + "4,2048,16,4096,8,1,1,8,16,2,1.0,true,flash9,dgx-a100-80gb\n",
                          "runs.csv");
  ASSERT_TRUE(bad.ok()) << bad.error().ToString();
  auto e = RunValidation(*bad, Options{});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().ToString().find("runs.csv:2:"), std::string::npos) << e.error().ToString();
  EXPECT_NE(e.error().ToString().find("'flash9' is not an attention kernel"), std::string::npos)
      << e.error().ToString();
}

TEST(ValidateFit, StepTableForKeepsPerRowConventionsAndRefusesOtherHardware) {
  const std::string header =
      "layers,hidden,heads,seq_len,gpus,tp,pp,dp,global_batch,micro_batch,"
      "measured_step_seconds,flash_attention,attention_kernel,dtype,sharding,hardware\n";
  auto d = ParseDataset(header +
                            "4,1024,16,2048,8,1,1,8,16,2,1.0,true,triton_flash,bf16,"
                            "full_shard,dgx-a100-80gb\n" +
                            "4,1024,16,1024,16,1,1,16,32,2,1.0,false,,fp16,none,dgx-a100-80gb\n" +
                            "4,1024,16,1024,8,1,1,8,16,2,1.0,false,,fp16,none,dgx-h100\n",
                        "runs.csv");
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  Options single;
  single.max_gpus = 8;
  // Rows 1 and 3 have at most 8 GPUs; row 3 runs on another profile: an error at its line (4).
  auto mixed = StepTableFor(*d, single, "dgx-a100-80gb");
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().line, 4);
  EXPECT_NE(mixed.error().message.find("one fit calibrates one profile"), std::string::npos);
  Options multi;
  multi.min_gpus = 16;
  auto t = StepTableFor(*d, multi, "dgx-a100-80gb");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  ASSERT_EQ(t->table.rows.size(), 1u);
  EXPECT_EQ(t->table.rows[0].line, 3);
  EXPECT_EQ(t->conventions[0].dtype, Dtype::kFp16);
  Options a100_only;
  a100_only.max_gpus = 16;
  d->rows.pop_back();
  t = StepTableFor(*d, a100_only, "dgx-a100-80gb");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  ASSERT_EQ(t->conventions.size(), 2u);
  EXPECT_EQ(t->conventions[0].attention_kernel, "triton_flash");
  EXPECT_EQ(t->conventions[0].sharding, calibrate::DpSharding::kFullShard);
  EXPECT_EQ(t->conventions[1].sharding, calibrate::DpSharding::kNone);
  Options none;
  none.min_gpus = 64;
  EXPECT_FALSE(StepTableFor(*d, none, "dgx-a100-80gb").ok());
}

TEST(ValidateFit, StepFitWithPerRowConventionsRecoversASyntheticGemmCeiling) {
  // Synthetic truth: dgx-a100-80gb with gemm.max_efficiency 0.70 (catalog 0.869). Rows of
  // mixed conventions (FSDP bf16 with Triton flash attention, Megatron-style fp16 unfused)
  // get the step times that profile simulates; the fit, from the catalog, must recover 0.70.
  const std::string header =
      "layers,hidden,heads,seq_len,gpus,tp,pp,dp,global_batch,micro_batch,"
      "measured_step_seconds,flash_attention,attention_kernel,dtype,sharding\n";
  auto d =
      ParseDataset(header + "4,2048,16,2048,8,1,1,8,16,2,1.0,true,triton_flash,bf16,full_shard\n" +
                       "4,2048,16,1024,8,2,1,4,16,4,1.0,false,,fp16,none\n" +
                       "8,4096,32,2048,8,1,1,8,16,1,1.0,true,,bf16,full_shard\n",
                   "runs.csv");
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  hw::HardwareProfile truth = *hw::LoadHardware("dgx-a100-80gb");
  truth.gpu.gemm.max_efficiency = 0.70;
  for (RunRow& row : d->rows) {
    auto in = calibrate::StepInputFor(row.step, "runs.csv", truth, row.conventions);
    ASSERT_TRUE(in.ok()) << in.error().ToString();
    auto sim = plan::SimulateStep(*in);
    ASSERT_TRUE(sim.ok());
    row.step.step_seconds = sim->step_time_s;
  }
  auto table = StepTableFor(*d, Options{}, "dgx-a100-80gb");
  ASSERT_TRUE(table.ok()) << table.error().ToString();
  calibrate::StepFitOptions fit;
  fit.parameters = {"gpu.gemm.max_efficiency"};
  auto result = calibrate::FitStepTimes(std::vector<calibrate::StepTableWithConventions>{*table},
                                        *hw::LoadHardware("dgx-a100-80gb"), fit);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_NEAR(result->profile.gpu.gemm.max_efficiency, 0.70, 0.007);
  EXPECT_LT(result->section.quality.worst_abs_rel, 0.005);
}

TEST(ValidateRender, SvgGeometry) {
  // Times 0.15 s .. 3 s -> decades 10^-1 .. 10^1 over 520 px, left 90, top 50: the y = x line
  // runs from (90, 570) to (610, 50); measured 1 s sits mid-axis at x = 90 + 260 = 350, and
  // predicted 1 s at y = 50 + 520 - 260 = 310.
  Report r;
  r.dataset = "d.csv";
  r.hardware = "hw";
  RowResult a;
  a.row.step.line = 2;
  a.measured_s = 1.0;
  a.predicted_s = 1.0;
  RowResult b;
  b.row.step.line = 3;
  b.measured_s = 0.15;
  b.predicted_s = 3.0;
  r.rows = {a, b};
  r.overall = ComputeStats({0.0, 19.0});
  const std::string svg = RenderSvg(r);
  EXPECT_NE(svg.find("<line x1=\"90.00\" y1=\"570.00\" x2=\"610.00\" y2=\"50.00\" "
                     "stroke=\"#1f4e79\""),
            std::string::npos)
      << svg;
  EXPECT_NE(svg.find("<circle cx=\"350.00\" cy=\"310.00\""), std::string::npos);
  EXPECT_NE(svg.find("measured step time (s"), std::string::npos);
  EXPECT_NE(svg.find("predicted step time (s"), std::string::npos);
  EXPECT_NE(svg.find("<polygon"), std::string::npos);  // the +-10% band
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST(ValidateRender, JsonKeys) {
  Report r;
  r.dataset = "d.csv";
  RowResult a;
  a.measured_s = 2.0;
  a.predicted_s = 2.2;
  a.error = 0.1;
  r.rows = {a};
  r.overall = ComputeStats({0.1});
  const std::string json = RenderJson(r);
  EXPECT_NE(json.find("\"mape\": 10.0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"median_abs_pct_error\": 10.0"), std::string::npos);
  EXPECT_NE(json.find("\"worst_abs_pct_error\": 10.0"), std::string::npos);
  EXPECT_NE(json.find("\"rows\": ["), std::string::npos);
  EXPECT_NE(json.find("\"runs\": 1"), std::string::npos);
}

}  // namespace
}  // namespace foresight::validate
