// The `workload:` scenario key end to end: load the scenario, read the real trace, replay it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "chakra/graph.h"
#include "chakra/internal/test_util.h"
#include "chakra/reader.h"
#include "chakra/replay.h"
#include "scenarios/scenario.h"

namespace foresight::chakra {
namespace {

using ::testing::HasSubstr;

TEST(ChakraWorkloadScenarioTest, LoadsWithoutModelTrainingOrPlan) {
  Result<scenarios::Scenario> s = scenarios::LoadScenarioText(
      "workload: {chakra: traces/step, ranks: 2, compute: roofline, dtype: fp16}\n"
      "cluster: {hardware: dgx-h100, nodes: 1}\n",
      "w.yaml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_TRUE(s->workload.has_value());
  EXPECT_EQ(s->workload->chakra, "traces/step");  // LoadScenarioText: relative to the cwd
  EXPECT_EQ(s->workload->ranks, 2);
  EXPECT_EQ(s->workload->compute, "roofline");
  EXPECT_EQ(s->workload->comm, "model");
  EXPECT_EQ(s->workload->dtype, Dtype::kFp16);
  EXPECT_EQ(s->cluster.gpus_per_node, 8);
}

TEST(ChakraWorkloadScenarioTest, ErrorsPointAtTheKey) {
  Result<scenarios::Scenario> both = scenarios::LoadScenarioText(
      "workload: {chakra: p, ranks: 1}\nmodel: {preset: llama3-8b}\ncluster: {hardware: "
      "dgx-h100}\n",
      "w.yaml");
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(both.error().ToString(), HasSubstr("w.yaml:2:8: model: a workload scenario"));

  Result<scenarios::Scenario> ranks = scenarios::LoadScenarioText(
      "workload: {chakra: p, ranks: 16}\ncluster: {hardware: dgx-h100, nodes: 1}\n", "w.yaml");
  ASSERT_FALSE(ranks.ok());
  EXPECT_THAT(ranks.error().ToString(),
              HasSubstr("workload.ranks: 16 ranks need as many GPUs but the cluster has 8"));

  Result<scenarios::Scenario> missing =
      scenarios::LoadScenarioText("workload: {ranks: 1}\ncluster: {hardware: dgx-h100}\n", "w");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().ToString(), HasSubstr("chakra"));

  Result<scenarios::Scenario> choice = scenarios::LoadScenarioText(
      "workload: {chakra: p, ranks: 1, compute: measured}\ncluster: {hardware: dgx-h100}\n", "w");
  ASSERT_FALSE(choice.ok());
  EXPECT_THAT(choice.error().ToString(), HasSubstr("workload.compute"));
}

TEST(ChakraWorkloadScenarioTest, ReplaysTheRealTraceFromAScenarioFile) {
  testing::TempDir dir;
  {
    const std::string bytes = testing::RealTraceBytes();
    std::ofstream(dir.Path("feeder.0.et"), std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(dir.Path("replay.yaml"))
        << "workload: {chakra: feeder, ranks: 1, comm: recorded}\n"
           "cluster: {hardware: dgx-a100-80gb}\n";
  }
  Result<scenarios::Scenario> s = scenarios::LoadScenarioFile(dir.Path("replay.yaml"));
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->workload->chakra, dir.Path("feeder"));  // relative to the scenario file
  Result<std::vector<RankTrace>> traces = ReadTraces(s->workload->chakra, 1);
  ASSERT_TRUE(traces.ok()) << traces.error().ToString();
  std::vector<RankGraph> graphs;
  graphs.push_back(*BuildRankGraph(std::move((*traces)[0])));
  ReplayOptions options;
  options.comm = CommTiming::kRecorded;
  Result<ReplayResult> r = Replay(graphs, s->hardware, options);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->num_nodes, 3664);  // messages in the file after the metadata (protoc --decode)
  // Recorded durations summed from a protoc --decode of the file: the 1,209 GPU COMP nodes
  // 292,828 us, the 7 NCCL kernels 36,715 us, the 2,448 CPU ops 52,252 us. Each resource is one
  // stream that runs its nodes one at a time, so its busy time is exactly that sum, and the step
  // lasts at least as long as the busiest one.
  EXPECT_NEAR(r->ranks[0].compute_s, 292828e-6, 1e-9);
  EXPECT_NEAR(r->ranks[0].comm_s, 36715e-6, 1e-9);
  EXPECT_NEAR(r->ranks[0].cpu_s, 52252e-6, 1e-9);
  EXPECT_GE(r->step_time_s, 292828e-6);
}

}  // namespace
}  // namespace foresight::chakra
