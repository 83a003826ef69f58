#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "chakra/export.h"
#include "chakra/graph.h"
#include "chakra/internal/test_util.h"
#include "chakra/reader.h"
#include "chakra/replay.h"
#include "chakra/writer.h"
#include "models/hw/hardware.h"
#include "plan/simulate.h"

namespace foresight::chakra {
namespace {

// A small GPT on `pp` pipeline stages x 2 data-parallel replicas of one DGX A100.
plan::StepInput SmallPipeline(std::int64_t micro_batches, std::int64_t pp = 2) {
  plan::StepInput in;
  in.model = *ops::FindPreset("gpt3-13b");
  in.model.preset = "";
  in.model.layers = 4;
  in.model.hidden = 1024;
  in.model.heads = 16;
  in.model.kv_heads = 16;
  in.model.ffn_hidden = 4096;
  in.model.seq_len = 1024;
  in.model.vocab = 51200;
  Result<hw::HardwareProfile> hw = hw::LoadHardware("dgx-a100-80gb");
  EXPECT_TRUE(hw.ok());
  in.hardware = *hw;
  in.cluster = plan::ClusterConfig{"dgx-a100-80gb", 1, 2 * pp};
  in.training = plan::TrainingConfig{2 * micro_batches, 1, Dtype::kBf16};
  in.plan.tp = 1;
  in.plan.pp = pp;
  in.plan.fusion = ops::FusionRules{};
  const auto errors = plan::ValidateAndResolve(in.model, in.cluster, in.training, in.plan);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].message);
  return in;
}

TEST(ChakraRoundTripTest, ExportedStepReadsBackExactly) {
  const std::int64_t m = 4;
  const plan::StepInput in = SmallPipeline(m);
  const plan::CompiledStep step = plan::CompileStep(in);
  Result<std::vector<RankTrace>> exported = ExportStep(in, step);
  ASSERT_TRUE(exported.ok()) << exported.error().ToString();
  ASSERT_EQ(exported->size(), 2u);  // one file per pipeline stage

  // Node count: one per task, plus one receive per pipeline send. With pp = 2 and m = 4
  // micro-batches, stage 0 sends m activations and stage 1 sends m gradients: 2m = 8 receives.
  std::size_t nodes = 0;
  std::size_t sends = 0;
  std::size_t recvs = 0;
  for (const RankTrace& t : *exported) {
    nodes += t.nodes.size();
    for (const TraceNode& n : t.nodes) {
      sends += n.type == NodeType::kCommSend;
      recvs += n.type == NodeType::kCommRecv;
    }
  }
  EXPECT_EQ(sends, static_cast<std::size_t>(2 * m));
  EXPECT_EQ(recvs, static_cast<std::size_t>(2 * m));
  EXPECT_EQ(nodes, static_cast<std::size_t>(step.graph.num_tasks()) + 2 * m);

  testing::TempDir dir;
  for (bool gzip : {false, true}) {
    ASSERT_TRUE(WriteTraces(*exported, dir.Path("step"), gzip).ok());
    Result<std::vector<RankTrace>> read = ReadTraces(dir.Path("step"), 2);
    ASSERT_TRUE(read.ok()) << read.error().ToString();
    for (std::size_t r = 0; r < 2; ++r) {
      const RankTrace& a = (*exported)[r];
      const RankTrace& b = (*read)[r];
      EXPECT_EQ(b.version, a.version);
      EXPECT_EQ(b.metadata, a.metadata);
      ASSERT_EQ(b.nodes.size(), a.nodes.size());
      for (std::size_t i = 0; i < a.nodes.size(); ++i) {
        // Ids, names, types, dependencies, durations and every attribute.
        EXPECT_EQ(b.nodes[i], a.nodes[i]) << "rank " << r << " node " << a.nodes[i].id;
      }
    }
  }
}

class ChakraExportReplayTest : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(ChakraExportReplayTest, ReplayOfTheExportReproducesTheSimulatedStep) {
  // The export keeps every ordering of the step (edges and stream order as data deps, sends
  // matched to receives), so replaying it with its recorded durations gives the simulated step
  // time up to the rounding of each task to whole microseconds: each of the tasks on the
  // critical path moves by at most 0.5 us, so |difference| <= 0.5 us * tasks.
  const std::int64_t pp = GetParam();
  const std::int64_t m = 8;
  const plan::StepInput in = SmallPipeline(m, pp);
  Result<plan::StepResult> simulated = plan::SimulateStep(in);
  ASSERT_TRUE(simulated.ok());
  Result<std::vector<RankTrace>> exported = ExportStep(in, simulated->compiled);
  ASSERT_TRUE(exported.ok());
  std::vector<RankGraph> graphs;
  for (RankTrace& t : *exported) {
    Result<RankGraph> g = BuildRankGraph(std::move(t));
    ASSERT_TRUE(g.ok()) << g.error().ToString();
    graphs.push_back(std::move(g).value());
  }
  ReplayOptions options;
  options.comm = CommTiming::kRecorded;
  options.gpus_per_node = static_cast<std::int32_t>(2 * pp);
  Result<ReplayResult> replay = Replay(graphs, in.hardware, options);
  ASSERT_TRUE(replay.ok()) << replay.error().ToString();
  const double bound_s = 0.5e-6 * static_cast<double>(simulated->compiled.graph.num_tasks());
  EXPECT_NEAR(replay->step_time_s, simulated->step_time_s, bound_s);
  // Each of the pp - 1 stage boundaries carries m activations forward and m gradients back.
  EXPECT_EQ(replay->point_to_point, 2 * m * (pp - 1));
}

INSTANTIATE_TEST_SUITE_P(Stages, ChakraExportReplayTest, ::testing::Values(2, 4));

TEST(ChakraExportReplayTest, OverlapFlagsExportAndReplay) {
  // plan.overlap.p2p: false (sends on the compute stream) and plan.overlap.tp_comm (the hidden
  // part of the TP all-reduces on a tp_comm stream, a companion of each compute task that waits
  // for the same receives) still export one send/receive pair per message and replay to the
  // simulated step time within the microsecond rounding of each task.
  const std::int64_t m = 4;
  plan::StepInput in = SmallPipeline(m);
  in.cluster = plan::ClusterConfig{"dgx-a100-80gb", 1, 8};
  in.plan.tp = 2;
  in.plan.dp = 0;
  in.plan.overlap.p2p = false;
  in.plan.overlap.tp_comm = true;
  ASSERT_TRUE(plan::ValidateAndResolve(in.model, in.cluster, in.training, in.plan).empty());
  Result<plan::StepResult> simulated = plan::SimulateStep(in);
  ASSERT_TRUE(simulated.ok());
  Result<std::vector<RankTrace>> exported = ExportStep(in, simulated->compiled);
  ASSERT_TRUE(exported.ok()) << exported.error().ToString();
  std::size_t sends = 0, recvs = 0, tp_colls = 0;
  for (const RankTrace& t : *exported) {
    for (const TraceNode& n : t.nodes) {
      sends += n.type == NodeType::kCommSend;
      recvs += n.type == NodeType::kCommRecv;
      tp_colls += n.type == NodeType::kCommColl && n.pg_name.value_or("").rfind("tp.", 0) == 0;
    }
  }
  EXPECT_EQ(sends, static_cast<std::size_t>(2 * m));
  EXPECT_EQ(recvs, static_cast<std::size_t>(2 * m));
  EXPECT_GT(tp_colls, static_cast<std::size_t>(2 * 2 * m - 2));  // every pass of both stages
  std::vector<RankGraph> graphs;
  for (RankTrace& t : *exported) {
    Result<RankGraph> g = BuildRankGraph(std::move(t));
    ASSERT_TRUE(g.ok()) << g.error().ToString();
    graphs.push_back(std::move(g).value());
  }
  ReplayOptions options;
  options.comm = CommTiming::kRecorded;
  options.gpus_per_node = 8;
  Result<ReplayResult> replay = Replay(graphs, in.hardware, options);
  ASSERT_TRUE(replay.ok()) << replay.error().ToString();
  const double bound_s = 0.5e-6 * static_cast<double>(simulated->compiled.graph.num_tasks());
  EXPECT_NEAR(replay->step_time_s, simulated->step_time_s, bound_s);
}

}  // namespace
}  // namespace foresight::chakra
