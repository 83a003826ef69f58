#include "plan/schedule.h"

#include <gtest/gtest.h>

#include "sim/engine.h"

namespace foresight::plan {
namespace {

TEST(PipelineOrderTest, GpipeRunsAllForwardsThenAllBackwards) {
  auto order = PipelineOrder(Schedule::kGpipe, 4, 1, 3);
  ASSERT_EQ(order.size(), 6u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(order[i].forward);
    EXPECT_EQ(order[i].micro_batch, i);
    EXPECT_FALSE(order[3 + i].forward);
    EXPECT_EQ(order[3 + i].micro_batch, i);
  }
  EXPECT_EQ(MaxInFlight(order), 3);  // GPipe holds all m micro-batches.
}

TEST(PipelineOrderTest, OneFOneBWarmupSteadyCooldown) {
  // p = 4, stage 0, m = 6: warm-up p-s-1 = 3 forwards F0 F1 F2, then F3 B0 F4 B1 F5 B2, then
  // B3 B4 B5 (PipeDream-Flush). At most p - s = 4 micro-batches are live.
  auto order = PipelineOrder(Schedule::k1F1B, 4, 0, 6);
  const char* expected = "F0F1F2F3B0F4B1F5B2B3B4B5";
  std::string got;
  for (const auto& slot : order) {
    got += (slot.forward ? "F" : "B") + std::to_string(slot.micro_batch);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(MaxInFlight(order), 4);
  // The last stage alternates from the start and holds one micro-batch.
  auto last = PipelineOrder(Schedule::k1F1B, 4, 3, 6);
  EXPECT_EQ(MaxInFlight(last), 1);
}

TEST(PipelineOrderTest, OneFOneBWithFewerMicroBatchesThanStages) {
  // m = 2 < p - s - 1 = 3: warm-up is capped at m; all forwards then all backwards.
  auto order = PipelineOrder(Schedule::k1F1B, 4, 0, 2);
  ASSERT_EQ(order.size(), 4u);
  EXPECT_TRUE(order[0].forward && order[1].forward);
  EXPECT_FALSE(order[2].forward || order[3].forward);
}

// Engine + schedule together: a uniform pipeline (forward f, backward b per micro-batch per
// stage, free communication) must take (m + p - 1)(f + b), i.e. bubble (p-1)/(m+p-1), for both
// GPipe and 1F1B. Derivation: the last micro-batch's forward leaves stage p-1 at (m+p-1)f for
// GPipe; for 1F1B the steady state keeps every stage busy except the p-1 warm-up/cool-down
// slots of each direction.

sim::SimTime UniformPipelineMakespan(Schedule schedule, int p, int m, std::int64_t f_ns,
                                     std::int64_t b_ns) {
  sim::TaskGraph g;
  std::vector<std::vector<sim::TaskId>> fwd(p, std::vector<sim::TaskId>(m));
  std::vector<std::vector<sim::TaskId>> bwd(p, std::vector<sim::TaskId>(m));
  for (int s = 0; s < p; ++s) {
    const sim::StreamId stream = g.AddStream("compute", s);
    for (const PipelineSlot& slot : PipelineOrder(schedule, p, s, m)) {
      const auto t = g.AddTask(stream, sim::SimTime::Nanoseconds(slot.forward ? f_ns : b_ns), 0);
      (slot.forward ? fwd : bwd)[s][slot.micro_batch] = t;
    }
  }
  for (int s = 0; s + 1 < p; ++s) {
    for (int i = 0; i < m; ++i) {
      g.AddEdge(fwd[s][i], fwd[s + 1][i]);
      g.AddEdge(bwd[s + 1][i], bwd[s][i]);
    }
  }
  for (int i = 0; i < m; ++i) g.AddEdge(fwd[p - 1][i], bwd[p - 1][i]);
  g.Build();
  auto run = sim::Engine().Run(g);
  EXPECT_TRUE(run.ok());
  return run->makespan;
}

TEST(PipelineBubbleTest, UniformStagesMatchClosedForm) {
  for (Schedule schedule : {Schedule::kGpipe, Schedule::k1F1B}) {
    for (auto [p, m] : {std::pair{4, 8}, std::pair{8, 32}, std::pair{16, 192}, std::pair{4, 2}}) {
      const std::int64_t f = 1000, b = 2000;  // ns
      const sim::SimTime makespan = UniformPipelineMakespan(schedule, p, m, f, b);
      EXPECT_EQ(makespan, sim::SimTime::Nanoseconds((m + p - 1) * (f + b)))
          << ScheduleName(schedule) << " p=" << p << " m=" << m;
      // Bubble fraction (p-1)/(m+p-1): busy time per stage is m(f+b).
      const double bubble =
          1.0 - static_cast<double>(m * (f + b)) / static_cast<double>(makespan.ps() / 1000);
      EXPECT_DOUBLE_EQ(bubble, static_cast<double>(p - 1) / (m + p - 1));
    }
  }
}

}  // namespace
}  // namespace foresight::plan
