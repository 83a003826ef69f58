#include "search/plan_search.h"

#include <gtest/gtest.h>

#include <cmath>

#include "search/evaluation.h"

namespace foresight::search {
namespace {

scenarios::Scenario TinySearch() {
  Result<scenarios::Scenario> s =
      scenarios::LoadScenarioFile(FORESIGHT_SOURCE_DIR "/search/testdata/tiny-search.yaml");
  FS_CHECK(s.ok(), s.ok() ? "" : s.error().ToString());
  return *s;
}

TEST(RunSearchTest, CountsRankingAndObjectivesFromTheirDefinitions) {
  const scenarios::Scenario scenario = TinySearch();
  SearchOptions options;
  options.objective = Objective::kCostPerToken;
  options.run.jobs = 2;
  Result<SearchReport> report = RunSearch(scenario, options);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  ASSERT_EQ(report->clusters.size(), 2u);
  // Hand count (layers 8, heads 16, ffn 4096, global_batch 16, micro_batch <= 16; schedules 1
  // when pp = 1 else 2; recompute 2), 8 GPUs: (tp,pp,dp) with tp*pp*dp = 8 and micro_batch
  // dividing 16/dp: dp 8 -> 2 values, dp 4 -> 3, dp 2 -> 4, dp 1 -> 5.
  //   tp1: pp1 2*2=4, pp2 3*4=12, pp4 4*4=16, pp8 5*4=20 -> 52
  //   tp2: pp1 3*2=6, pp2 4*4=16, pp4 5*4=20             -> 42
  //   tp4: pp1 4*2=8, pp2 5*4=20                          -> 28
  //   tp8: pp1 5*2=10                                     -> 10    total 132
  // 4 GPUs: tp1: pp1 3*2=6, pp2 4*4=16, pp4 5*4=20 -> 42; tp2: pp1 4*2=8, pp2 5*4=20 -> 28;
  //   tp4: pp1 5*2=10 -> 10                                               total 80
  EXPECT_EQ(report->clusters[0].enumerated, 132);
  EXPECT_EQ(report->clusters[1].enumerated, 80);
  for (const ClusterChoice& c : report->clusters) {
    EXPECT_EQ(c.enumerated, c.simulated + c.pruned_memory);
  }
  ASSERT_FALSE(report->ranking.empty());
  double previous = 0;
  const double tokens_per_step = 16.0 * 1024;  // global_batch * seq_len
  for (std::size_t i : report->ranking) {
    const Json& r = report->rows[i].record;
    EXPECT_EQ(TextOf(r, "fits"), "true");
    const double step = NumberOf(r, "step_time_s");
    const double gpus = NumberOf(r, "world_size");
    const double price = NumberOf(r, "price_per_gpu_hour");
    // cost per token = price_per_gpu_hour * gpus * step_time / 3600 / tokens_per_step.
    EXPECT_NEAR(NumberOf(r, "usd_per_million_tokens"),
                price * gpus * step / 3600 / tokens_per_step * 1e6, 1e-12);
    // time to train = training.tokens / tokens_per_s, tokens_per_s = tokens_per_step / step.
    EXPECT_NEAR(NumberOf(r, "time_to_train_s"), 1e9 / (tokens_per_step / step), 1e-6);
    EXPECT_NEAR(NumberOf(r, "cost_to_train_usd"),
                price * gpus * 1e9 / (tokens_per_step / step) / 3600, 1e-6);
    const double value = ObjectiveValue(*report, report->rows[i]);
    EXPECT_GE(value, previous);
    previous = value;
  }
  const std::string text = RenderSearchText(*report, 5);
  EXPECT_NE(text.find("hardware comparison"), std::string::npos);
  EXPECT_NE(text.find("#1 -> #2"), std::string::npos);
}

TEST(RunSearchTest, SameOutputForOneAndTwoJobs) {
  const scenarios::Scenario scenario = TinySearch();
  std::string first;
  for (int jobs : {1, 2}) {
    SearchOptions options;
    options.run.jobs = jobs;
    options.space.max_micro_batch = 4;
    Result<SearchReport> report = RunSearch(scenario, options);
    ASSERT_TRUE(report.ok());
    const std::string json = RenderSearchJson(*report, 50);
    if (jobs == 1) {
      first = json;
    } else {
      EXPECT_EQ(json, first);
    }
  }
}

TEST(RunSearchTest, ObjectivesNeedTheirInputs) {
  scenarios::Scenario scenario = TinySearch();
  scenario.training_tokens = 0;
  SearchOptions options;
  options.objective = Objective::kTimeToTrain;
  Result<SearchReport> no_tokens = RunSearch(scenario, options);
  ASSERT_FALSE(no_tokens.ok());
  EXPECT_NE(no_tokens.error().message.find("needs training.tokens"), std::string::npos);
  scenario.candidates[1].price_per_gpu_hour = 0;
  options.objective = Objective::kCostPerToken;
  Result<SearchReport> no_price = RunSearch(scenario, options);
  ASSERT_FALSE(no_price.ok());
  EXPECT_NE(no_price.error().message.find("cluster.candidates[1] has no price_per_gpu_hour"),
            std::string::npos);
}

TEST(RunSearchTest, ComparisonSaysWhyACandidateHasNoPlan) {
  // flash3 is in the H100 profile's attention kernels, not the A100's: every plan on the A100
  // candidate fails to simulate, and the comparison says so with the first error instead of
  // "no plan fits"; the H100 candidate is ranked as usual.
  scenarios::Scenario scenario = TinySearch();
  scenario.plan.attention_kernel = "flash3";
  SearchOptions options;
  options.run.jobs = 2;
  options.space.max_micro_batch = 2;
  Result<SearchReport> report = RunSearch(scenario, options);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  const std::string text = RenderSearchText(*report, 3);
  EXPECT_NE(text.find("every plan failed to simulate; the first: plan.attention_kernel: 'flash3' "
                      "is not an attention kernel of the hardware profile dgx-a100-80gb"),
            std::string::npos)
      << text;
  ASSERT_FALSE(report->ranking.empty());
  EXPECT_EQ(TextOf(report->rows[report->ranking[0]].record, "hardware"), "dgx-h100");
}

TEST(ApplyAxisTest, SetsEachAxisAndRejectsBadText) {
  plan::SearchSpace space;
  ASSERT_TRUE(ApplyAxis("zero=0,1,3", &space).ok());
  EXPECT_EQ(space.zero, (std::vector<std::int64_t>{0, 1, 3}));
  ASSERT_TRUE(ApplyAxis("cp=1, 2", &space).ok());
  EXPECT_EQ(space.cp, (std::vector<std::int64_t>{1, 2}));
  ASSERT_TRUE(ApplyAxis("schedule=1f1b,interleaved-1f1b", &space).ok());
  EXPECT_EQ(space.schedules,
            (std::vector<plan::Schedule>{plan::Schedule::k1F1B, plan::Schedule::kInterleaved1F1B}));
  ASSERT_TRUE(ApplyAxis("recompute=selective", &space).ok());
  EXPECT_EQ(space.recomputes, (std::vector<plan::Recompute>{plan::Recompute::kSelective}));
  ASSERT_TRUE(ApplyAxis("sequence_parallel=true,false", &space).ok());
  EXPECT_EQ(space.sequence_parallel, (std::vector<bool>{true, false}));

  const Status unknown = ApplyAxis("tpp=1", &space);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown axis 'tpp'; valid axes: tp, pp"),
            std::string::npos);
  const Status zero = ApplyAxis("zero=4", &space);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("'4' is not an integer in [0, 3]"), std::string::npos);
  EXPECT_FALSE(ApplyAxis("tp=2x", &space).ok());
  EXPECT_FALSE(ApplyAxis("tp=", &space).ok());
  EXPECT_FALSE(ApplyAxis("schedule=1f2b", &space).ok());
  EXPECT_FALSE(ApplyAxis("sequence_parallel=yes", &space).ok());
}

}  // namespace
}  // namespace foresight::search
