#include "validate/foundry.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "models/ops/model_config.h"
#include "validate/dataset.h"
#include "validate/validate.h"

namespace foresight::validate {
namespace {

// The verbatim llm-foundry tables (data/README.md); tests run from the build tree, which
// ctest places under the repository, so the path is found relative to the source dir.
const char* kTables = FORESIGHT_SOURCE_DIR "/../shared/data/llm-foundry/benchmarks.md";

std::int64_t Params(std::string_view model, std::int64_t seq) {
  return ops::CountParameters(MptModelConfig(*FindMpt(model), seq)).total;
}

TEST(FoundryParams, MatchPublishedNumParams) {
  // Per layer 12 h^2 + 13 h (QKV 3h^2 + 3h, out h^2 + h, MLP 8h^2 + 5h, two layernorms 4h),
  // embedding 50368 h, learned positions s h, final layernorm 2h (tied output head).
  // 125m, h 768, L 12, s 2048: 12 * 7,087,872 + 38,682,624 + 1,572,864 + 1,536 = 125,311,488.
  EXPECT_EQ(Params("125m", 2048), 125311488);
  // 70b, h 8192, L 80, s 2048: 80 * 805,412,864 + 412,614,656 + 16,777,216 + 16,384
  //   = 64,862,437,376.
  EXPECT_EQ(Params("70b", 2048), 64862437376);
  // The NumParams column grows with the sequence length by exactly (s' - s) * h: the learned
  // position table (MPT's learned_pos_emb = True; nothing positional would change with ALiBi).
  // 7b (h 4096): 65536 vs 2048 -> 63488 * 4096 = 260,046,848 more.
  EXPECT_EQ(Params("7b", 65536), 6918905856);  // table: 6918905856
  EXPECT_EQ(Params("7b", 65536) - Params("7b", 2048), 63488 * 4096);
  // Published NumParams of other rows (benchmarks.md).
  EXPECT_EQ(Params("350m", 512), 354412544);
  EXPECT_EQ(Params("760m", 32768), 807656448);
  EXPECT_EQ(Params("1b", 2048), 1315950592);
  EXPECT_EQ(Params("3b", 32768), 2730480640);
  EXPECT_EQ(Params("13b", 4096), 12864440320);
  EXPECT_EQ(Params("30b", 8192), 30019254272);
  EXPECT_FALSE(FindMpt("2b").has_value());
}

TEST(FoundryImport, RealFile) {
  auto data = LoadDataset(kTables);
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  EXPECT_EQ(data->format, "llm-foundry");
  // Rows per section, counted in benchmarks.md: 18 + 52 + 7 + 61 + 78 = 216; every row's
  // configuration is representable and its NumParams equals our count (none skipped).
  std::map<std::string, int> per_section;
  for (const RunRow& r : data->rows) {
    for (const auto& [name, value] : r.tags)
      if (name == "section") ++per_section[value];
  }
  EXPECT_EQ(per_section["H100 80GB BF16 (Large Scale, >= 128 GPUs)"], 18);
  EXPECT_EQ(per_section["H100 80GB BF16"], 52);
  EXPECT_EQ(per_section["H100 80GB FP8"], 7);
  EXPECT_EQ(per_section["A100 80GB with 1600 Gbps node-node interconnect (RoCE)"], 61);
  EXPECT_EQ(per_section["A100 40GB with 1600 Gbps node-node interconnect (RoCE)"], 78);
  EXPECT_EQ(data->rows.size(), 216u);
  EXPECT_TRUE(data->skipped.empty());

  std::map<int, const RunRow*> by_line;
  for (const RunRow& r : data->rows) by_line[r.step.line] = &r;
  // Line 10: 70b, 2048, 512 H100, micro 8, accum 1, global 4096, 515636 T/s, 8388608 T,
  // FULL_SHARD, checkpointing on: 8,388,608 / 515,636 = 16.2685 s.
  const RunRow* r = by_line.at(10);
  EXPECT_NEAR(r->step.step_seconds, 16.2685, 1e-4);
  EXPECT_EQ(r->step.gpus, 512);
  EXPECT_EQ(r->step.dp, 512);
  EXPECT_EQ(r->step.tp, 1);
  EXPECT_EQ(r->step.pp, 1);
  EXPECT_EQ(r->step.hidden, 8192);
  EXPECT_EQ(r->step.layers, 80);
  EXPECT_EQ(r->step.heads, 64);
  EXPECT_EQ(r->step.micro_batch, 8);
  EXPECT_EQ(r->step.global_batch, 4096);
  EXPECT_EQ(r->hardware, "dgx-h100");
  EXPECT_EQ(r->conventions.sharding, calibrate::DpSharding::kFullShard);
  EXPECT_EQ(r->conventions.recompute, plan::Recompute::kFull);
  EXPECT_EQ(r->conventions.dtype, Dtype::kBf16);
  EXPECT_TRUE(r->conventions.flash_attention);
  // submit_benchmarks.py's --attn_impl default 'triton': llm-foundry's flash_attn_triton.py.
  EXPECT_EQ(r->conventions.attention_kernel, "triton_flash");
  EXPECT_EQ(r->conventions.vocab, 50368);
  // Line 119: 7b, 2048, 8 A100 80GB, global 96 x 2048 = 196,608 T at 37,130 T/s = 5.29513 s.
  r = by_line.at(119);
  EXPECT_NEAR(r->step.step_seconds, 5.29513, 1e-5);
  EXPECT_EQ(r->hardware, "dgx-a100-80gb");
  EXPECT_EQ(r->conventions.recompute, plan::Recompute::kNone);
  // Line 22: 3b SHARD_GRAD_OP on 512 H100 (ZeRO-2), no checkpointing.
  EXPECT_EQ(by_line.at(22)->conventions.sharding, calibrate::DpSharding::kShardGradOp);
  // Line 89: amp_fp8 -> fp8. Line 170: a100_40gb, precision bf16 (PURE) -> bf16, own profile.
  EXPECT_EQ(by_line.at(89)->conventions.dtype, Dtype::kFp8);
  EXPECT_EQ(by_line.at(170)->hardware, "calibrate/profiles/a100-40gb-roce.yaml");
  EXPECT_EQ(by_line.at(170)->conventions.dtype, Dtype::kBf16);
}

constexpr const char* kHeader =
    "|  Model | SeqLen (T) | # GPUs | GPU | MicroBatchSize | GradAccum | GlobalBatchSize | "
    "Throughput (T/s) | GlobalBatchSize (T) | Precision | Sharding Strategy | "
    "Activation Checkpointing | Activation CPUOffload | NumParams |\n"
    "|  --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";

std::string Table(const std::string& rows) {
  return "## H100 80GB BF16\n" + std::string(kHeader) + rows;
}

TEST(FoundryImport, SkipsWithReasons) {
  // 125m (125311488 at 2048) on 8 GPUs; global 40 over 8 GPUs = 5 per GPU, micro 2 -> uneven.
  const std::string text = Table(
      "|  125m | 2048 | 8 | h100_80gb | 2 | 3 | 40 | 1000 | 81920 | amp_bf16 | FULL_SHARD | False "
      "| False | 125311488 |\n"
      "|  9b | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | FULL_SHARD | False | "
      "False | 1 |\n"
      "|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | fp32 | FULL_SHARD | False | "
      "False | 125311488 |\n"
      "|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | FULL_SHARD | False "
      "| True | 125311488 |\n"
      "|  125m | 2048 | 8 | h100_80gb | 1 | 2 | 16 | 1000 | 32768 | amp_bf16 | SHARD_GRAD_OP | "
      "False | False | 125311488 |\n"
      "|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | FULL_SHARD | False "
      "| False | 125311489 |\n"
      "|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | FULL_SHARD | False "
      "| False | 125311488 |\n");
  auto data = ParseFoundryTables(text, "t.md");
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  ASSERT_EQ(data->rows.size(), 1u);
  EXPECT_EQ(data->rows[0].step.line, 10);
  EXPECT_NEAR(data->rows[0].step.step_seconds, 16.384, 1e-12);  // 16384 T / 1000 T/s
  ASSERT_EQ(data->skipped.size(), 6u);
  EXPECT_EQ(data->skipped[0].line, 4);
  EXPECT_NE(data->skipped[0].reason.find("does not split"), std::string::npos);
  EXPECT_NE(data->skipped[1].reason.find("model '9b'"), std::string::npos);
  EXPECT_NE(data->skipped[2].reason.find("precision 'fp32'"), std::string::npos);
  EXPECT_NE(data->skipped[3].reason.find("CPU offload"), std::string::npos);
  EXPECT_NE(data->skipped[4].reason.find("SHARD_GRAD_OP"), std::string::npos);
  EXPECT_NE(data->skipped[5].reason.find("NumParams 125311489"), std::string::npos);
  EXPECT_EQ(data->skipped[0].section, "H100 80GB BF16");
}

void ExpectError(const std::string& text, const std::string& where, const std::string& what) {
  auto data = ParseFoundryTables(text, "t.md");
  ASSERT_FALSE(data.ok()) << "expected an error containing " << what;
  const std::string message = data.error().ToString();
  EXPECT_NE(message.find(where), std::string::npos) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

TEST(FoundryImport, MalformedInput) {
  const std::string ok_row =
      "|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | FULL_SHARD | False | "
      "False | 125311488 |\n";
  // Not a number: "# GPUs" cell "eight" starts at column 18 of line 4 ("|  125m | 2048 | " is
  // 17 characters).
  ExpectError(Table("|  125m | 2048 | eight | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | "
                    "FULL_SHARD | False | False | 125311488 |\n"),
              "t.md:4:18", "positive integer for '# GPUs'");
  // A missing cell.
  ExpectError(Table("|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | "
                    "FULL_SHARD | False | 125311488 |\n"),
              "t.md:4:1", "expected 14 cells");
  // Not True/False: "yes" at column 85.
  ExpectError(Table("|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16384 | amp_bf16 | "
                    "FULL_SHARD | yes | False | 125311488 |\n"),
              "t.md:4:85", "True or False for 'Activation Checkpointing'");
  // Tokens per step inconsistent with GlobalBatchSize x SeqLen (the cell at column 53).
  ExpectError(Table("|  125m | 2048 | 8 | h100_80gb | 1 | 1 | 8 | 1000 | 16385 | amp_bf16 | "
                    "FULL_SHARD | False | False | 125311488 |\n"),
              "t.md:4:53", "GlobalBatchSize x SeqLen = 16384");
  // Header without NumParams.
  ExpectError("## H100 80GB BF16\n|  Model | SeqLen (T) | # GPUs |\n| --- | --- | --- |\n",
              "t.md:2:1", "lacks the column 'GPU'");  // the first missing required one
  // No separator row.
  ExpectError("## H100 80GB BF16\n" +
                  std::string(kHeader).substr(0, std::string(kHeader).find('\n') + 1) + ok_row,
              "t.md:3:1", "separator row");
}

TEST(FoundryValidate, SectionFilterAndCategories) {
  auto data = LoadDataset(kTables);
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  Options options;
  options.sections = {"H100 80GB FP8"};
  auto report = RunValidation(*data, options);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->rows.size(), 7u);
  // Categories by tag: section, sharding, activation checkpointing, sequence length, model;
  // sequence lengths in ascending numeric order: 512, 2048, 8192, 32768 (FP8 table).
  ASSERT_GE(report->by_tag.size(), 4u);
  EXPECT_EQ(report->by_tag[3].name, "sequence length");
  ASSERT_EQ(report->by_tag[3].categories.size(), 4u);
  EXPECT_EQ(report->by_tag[3].categories[0].name, "512");
  EXPECT_EQ(report->by_tag[3].categories[3].name, "32768");
  options.sections = {"H100 80GB FP16"};
  auto missing = RunValidation(*data, options);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().ToString().find("sections: 'H100 80GB BF16 (Large Scale"),
            std::string::npos);
}

}  // namespace
}  // namespace foresight::validate
