#include "scenarios/sweep.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace foresight::scenarios {
namespace {

constexpr const char* kBase = R"(model:
  layers: 4
  hidden: 256
  heads: 4
  vocab: 1000
  seq_len: 128
cluster:
  hardware: dgx-a100-80gb
  nodes: 1
  gpus_per_node: 4
training:
  global_batch: 16
)";

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(SweepTest, CartesianProductWithZipGroupInOrder) {
  // Axes: plan.tp (2 values), training.micro_batch (3), zip {plan.pp, global_batch} (2):
  // 2 * 3 * 2 = 12 points, the last axis varying fastest.
  const std::string text = std::string(kBase) + R"(sweep:
  plan.tp: [1, 2]
  training.micro_batch: [1, 2, 4]
  zip:
    - {plan.pp: [1, 2], training.global_batch: [8, 16]}
)";
  Result<Sweep> sweep = Sweep::Parse(text, "s.yaml");
  ASSERT_TRUE(sweep.ok()) << sweep.error().ToString();
  EXPECT_EQ(sweep->num_points(), 12);
  EXPECT_EQ(sweep->keys(), (std::vector<std::string>{"plan.tp", "training.micro_batch", "plan.pp",
                                                     "training.global_batch"}));
  EXPECT_EQ(sweep->Point(0).Canonical(),
            "plan.tp=1;training.micro_batch=1;plan.pp=1;training.global_batch=8");
  EXPECT_EQ(sweep->Point(1).Canonical(),
            "plan.tp=1;training.micro_batch=1;plan.pp=2;training.global_batch=16");
  // 5 = 0*6 + 2*2 + 1: tp index 0, micro_batch index 2, zip index 1.
  EXPECT_EQ(sweep->Point(5).Canonical(),
            "plan.tp=1;training.micro_batch=4;plan.pp=2;training.global_batch=16");
  EXPECT_EQ(sweep->Point(11).Canonical(),
            "plan.tp=2;training.micro_batch=4;plan.pp=2;training.global_batch=16");
  // Values keep their location: kBase is 12 lines, "sweep:" line 13, "  plan.tp: [1, 2]" line
  // 14 with the 2 at column 16.
  EXPECT_EQ(sweep->Point(6).values[0].line, 14);
  EXPECT_EQ(sweep->Point(6).values[0].column, 16);
}

TEST(SweepTest, NoSweepIsOnePoint) {
  Result<Sweep> sweep = Sweep::Parse(kBase, "s.yaml");
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->num_points(), 1);
  EXPECT_TRUE(sweep->Point(0).values.empty());
}

TEST(SweepTest, MappingValuesAreFlowYaml) {
  Result<Sweep> sweep = Sweep::Parse(
      std::string(kBase) + "sweep:\n  plan.overlap: [{grad_reduce: false}, \"x\"]\n", "s.yaml");
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->Point(0).values[0].yaml, "{grad_reduce: false}");
  EXPECT_EQ(sweep->Point(1).values[0].yaml, "\"x\"");  // a quoted string stays a string
}

TEST(SweepTest, Errors) {
  auto error = [](const std::string& sweep) {
    Result<Sweep> s = Sweep::Parse(std::string(kBase) + sweep, "s.yaml");
    return s.ok() ? std::string("ok") : s.error().ToString();
  };
  // kBase is 12 lines; "sweep:" is line 13, its first entry line 14.
  EXPECT_EQ(error("sweep:\n  plan.tp: 4\n"),
            "s.yaml:14:12: sweep.plan.tp: expected a non-empty list of values (e.g. [1, 2, 4]), "
            "found '4'");
  EXPECT_EQ(error("sweep:\n  plan.tp: []\n"),
            "s.yaml:14:12: sweep.plan.tp: expected a non-empty list of values (e.g. [1, 2, 4]), "
            "found a sequence");
  EXPECT_EQ(error("sweep:\n  zip:\n    - {plan.pp: [1, 2], plan.tp: [1]}\n"),
            "s.yaml:15:34: sweep.zip: plan.tp has 1 values but plan.pp has 2; lists in one zip "
            "group must have the same length");
  EXPECT_EQ(error("sweep:\n  plan.tp: [1]\n  zip: {plan.tp: [2]}\n"),
            "s.yaml:15:9: sweep: key 'plan.tp' is swept twice");
  EXPECT_EQ(error("sweep:\n  plan..tp: [1]\n"),
            "s.yaml:14:3: sweep: key 'plan..tp' must be dot-separated names without spaces (e.g. "
            "plan.tp)");
  EXPECT_EQ(error("sweep: [1, 2]\n"),
            "s.yaml:13:8: sweep: expected a mapping of dotted keys to lists, found a sequence");
}

TEST(SweepTest, InvalidPointIsLocatedAtTheSweepValue) {
  // heads 4: tp 3 is invalid; the error names the value's line and column (line 14, column 16).
  const std::string path =
      WriteTemp("sweep_invalid.yaml", std::string(kBase) + "sweep:\n  plan.tp: [1, 3]\n");
  Result<Sweep> sweep = Sweep::LoadFile(path);
  ASSERT_TRUE(sweep.ok());
  Result<Scenario> ok = sweep->LoadPoint(0, {});
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->plan.tp, 1);
  Result<Scenario> bad = sweep->LoadPoint(1, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().file, path);
  EXPECT_EQ(bad.error().line, 14);
  EXPECT_EQ(bad.error().column, 16);
  EXPECT_NE(bad.error().message.find("sweep plan.tp=3: plan.tp: tp=3 does not divide heads=4"),
            std::string::npos)
      << bad.error().message;
}

TEST(SearchKeysTest, CandidatesPriceAndTokens) {
  const std::string text = R"(model: {preset: llama3-8b}
cluster:
  hardware: dgx-a100-80gb
  price_per_gpu_hour: 2.5
  candidates:
    - {hardware: dgx-h100, nodes: 2, price_per_gpu_hour: 4}
    - {hardware: dgx-a100-80gb, nodes: 1, gpus_per_node: 4}
training: {global_batch: 64, tokens: 15e12}
)";
  Result<Scenario> s = LoadScenarioText(text, "s.yaml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->price_per_gpu_hour, 2.5);
  EXPECT_EQ(s->training_tokens, 15e12);
  ASSERT_EQ(s->candidates.size(), 2u);
  EXPECT_EQ(s->candidates[0].cluster.world_size(), 16);  // 2 nodes x 8 GPUs of a DGX H100
  EXPECT_EQ(s->candidates[0].price_per_gpu_hour, 4.0);
  EXPECT_EQ(s->candidates[1].cluster.world_size(), 4);
  EXPECT_EQ(s->candidates[1].price_per_gpu_hour, 0.0);

  Result<Scenario> bad = LoadScenarioText(
      "model: {preset: llama3-8b}\ncluster:\n  hardware: dgx-h100\n  candidates:\n"
      "    - {hardware: dgx-h100, node: 2}\ntraining: {global_batch: 64}\n",
      "s.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 5);
  EXPECT_NE(bad.error().message.find("unknown key 'node' in cluster.candidates[0]"),
            std::string::npos)
      << bad.error().ToString();
  Result<Scenario> too_many = LoadScenarioText(
      "model: {preset: llama3-8b}\ncluster:\n  hardware: dgx-h100\n  candidates:\n"
      "    - {hardware: dgx-h100, gpus_per_node: 9}\ntraining: {global_batch: 64}\n",
      "s.yaml");
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("9 exceeds the 8 GPUs per node"), std::string::npos)
      << too_many.error().ToString();
}

}  // namespace
}  // namespace foresight::scenarios
