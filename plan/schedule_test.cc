#include "plan/schedule.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

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

// Engine + schedule for the interleaved and zero-bubble orders: virtual stage v = c*p + s runs
// on rank s; F of (v, mb) needs F of (v-1, mb) (rank p-1's chunk c feeds rank 0's chunk c+1),
// B of (v, mb) needs B of (v+1, mb) (the last virtual stage's B needs its own F), W of (v, mb)
// follows B of (v, mb) on the same rank. Communication is free.
struct Costs {
  std::int64_t f_ns, b_ns, w_ns;  // per slot (one chunk)
};

sim::SimTime VirtualPipelineMakespan(Schedule schedule, int p, int v, int m, Costs c) {
  sim::TaskGraph g;
  const int stages = p * v;
  auto grid = [&] {
    return std::vector<std::vector<sim::TaskId>>(stages, std::vector<sim::TaskId>(m, -1));
  };
  auto fwd = grid(), bwd = grid(), wgt = grid();
  for (int s = 0; s < p; ++s) {
    const sim::StreamId stream = g.AddStream("compute", s);
    for (const PipelineSlot& slot : PipelineOrder(schedule, p, s, m, v)) {
      const int vs = static_cast<int>(slot.chunk) * p + s;
      const std::int64_t ns = slot.forward ? c.f_ns : (slot.weight ? c.w_ns : c.b_ns);
      const auto t = g.AddTask(stream, sim::SimTime::Nanoseconds(ns), 0);
      auto& table = slot.forward ? fwd : (slot.weight ? wgt : bwd);
      EXPECT_EQ(table[vs][slot.micro_batch], -1) << "slot scheduled twice";
      table[vs][slot.micro_batch] = t;
    }
  }
  for (int vs = 0; vs < stages; ++vs) {
    for (int i = 0; i < m; ++i) {
      EXPECT_GE(fwd[vs][i], 0);
      EXPECT_GE(bwd[vs][i], 0);
      if (vs + 1 < stages) {
        g.AddEdge(fwd[vs][i], fwd[vs + 1][i]);
        g.AddEdge(bwd[vs + 1][i], bwd[vs][i]);
      } else {
        g.AddEdge(fwd[vs][i], bwd[vs][i]);
      }
      if (wgt[vs][i] >= 0) g.AddEdge(bwd[vs][i], wgt[vs][i]);
    }
  }
  g.Build();
  auto run = sim::Engine().Run(g);
  EXPECT_TRUE(run.ok());
  return run.ok() ? run->makespan : sim::SimTime();
}

TEST(PipelineOrderTest, InterleavedFollowsMegatron) {
  // p = 2, v = 2, m = 4, rank 0: warm-up 2(p-s-1) + (v-1)p = 4 forwards. Forward k runs chunk
  // (k/p) mod v of micro-batch (k/(pv))p + k mod p: F0c0 F1c0 F0c1 F1c1 | F2c0 ...; backwards
  // run chunk v-1 first: B0c1 B1c1 B0c0 B1c0 B2c1 ...
  auto order = PipelineOrder(Schedule::kInterleaved1F1B, 2, 0, 4, 2);
  std::string got;
  for (const auto& slot : order) {
    got += (slot.forward ? "F" : "B") + std::to_string(slot.micro_batch) + "c" +
           std::to_string(slot.chunk) + " ";
  }
  EXPECT_EQ(got,
            "F0c0 F1c0 F0c1 F1c1 F2c0 B0c1 F3c0 B1c1 F2c1 B0c0 F3c1 B1c0 B2c1 B3c1 B2c0 B3c0 ");
  // In flight: warm-up + 1 chunk-micro-batches = 5 on rank 0 and (v-1)p + 1 = 3 on rank 1
  // (Megatron: rank s holds 2(p-s-1) + (v-1)p + 1 chunks' activations).
  EXPECT_EQ(MaxInFlight(order), 5);
  EXPECT_EQ(MaxInFlight(PipelineOrder(Schedule::kInterleaved1F1B, 2, 1, 4, 2)), 3);
  // p = 4, v = 2, m = 8: rank 0 holds 2*3 + 4 + 1 = 11 chunks = p (1 + (p-1)/(p v)) stage
  // micro-batches: 4 * (1 + 3/8) * v = 11 (Korthikanti et al. 2022, section 4.2.3).
  EXPECT_EQ(MaxInFlight(PipelineOrder(Schedule::kInterleaved1F1B, 4, 0, 8, 2)), 11);
}

TEST(PipelineBubbleTest, InterleavedBubbleIsOneOverVOfOneFOneB) {
  // A stage's forward f and backward b split evenly over v chunks (f/v, b/v per slot). Ideal
  // time m(f+b); interleaved 1F1B adds the bubble (p-1)(f+b)/v, i.e. (p-1)/(v m) of the ideal
  // time (Narayanan et al. 2021, section 2.2.1), against (p-1)(f+b) for 1F1B.
  for (auto [p, v, m] : {std::tuple{4, 2, 8}, std::tuple{4, 3, 4}, std::tuple{2, 2, 4},
                         std::tuple{8, 4, 16}, std::tuple{4, 2, 32}}) {
    const std::int64_t f = 1200, b = 2400;  // ns per stage; divisible by v = 2, 3, 4
    const sim::SimTime makespan =
        VirtualPipelineMakespan(Schedule::kInterleaved1F1B, p, v, m, Costs{f / v, b / v, 0});
    const std::int64_t ideal = m * (f + b);
    EXPECT_EQ(makespan, sim::SimTime::Nanoseconds(ideal + (p - 1) * (f + b) / v))
        << "p=" << p << " v=" << v << " m=" << m;
    const double bubble = static_cast<double>(makespan.ps() / 1000 - ideal) / ideal;
    EXPECT_DOUBLE_EQ(bubble, static_cast<double>(p - 1) / (v * m));
  }
}

TEST(PipelineOrderTest, ZeroBubbleH1DelaysWeightGradients) {
  // p = 4, m = 6. Stage 0 (s = 0): 1F1B's F/B order with each W right after its B. Stage 3
  // (s = 3): no warm-up; W waits until more than 3 are pending, then one W per B.
  auto text = [](const std::vector<PipelineSlot>& order) {
    std::string got;
    for (const auto& slot : order) {
      got += (slot.forward ? "F" : (slot.weight ? "W" : "B")) + std::to_string(slot.micro_batch);
    }
    return got;
  };
  EXPECT_EQ(text(PipelineOrder(Schedule::kZbH1, 4, 0, 6)), "F0F1F2F3B0W0F4B1W1F5B2W2B3W3B4W4B5W5");
  EXPECT_EQ(text(PipelineOrder(Schedule::kZbH1, 4, 3, 6)), "F0B0F1B1F2B2F3B3W0F4B4W1F5B5W2W3W4W5");
  // Every stage holds p = 4 micro-batches until their W: stage 0's 1F1B peak (Qi et al. 2024,
  // section 2.1: ZB-H1 keeps the peak memory of 1F1B).
  for (int s = 0; s < 4; ++s) {
    EXPECT_EQ(MaxInFlight(PipelineOrder(Schedule::kZbH1, 4, s, 6)), 4) << "stage " << s;
  }
}

TEST(PipelineBubbleTest, ZeroBubbleH1CutsTheOneFOneBBubble) {
  // Qi et al. 2024 (Zero Bubble Pipeline Parallelism, section 2.1 and figure 3): with
  // T_F = T_B = T_W, 1F1B's bubble is (p-1)(T_F + T_B + T_W) and ZB-H1's (p-1)(T_F + T_B - T_W),
  // one third of it. Ideal time m(T_F + T_B + T_W).
  for (auto [p, m] : {std::pair{4, 8}, std::pair{8, 16}, std::pair{4, 4}, std::pair{2, 6}}) {
    const std::int64_t t = 1000;  // ns
    const std::int64_t ideal = m * 3 * t;
    const sim::SimTime one_f_one_b = UniformPipelineMakespan(Schedule::k1F1B, p, m, t, 2 * t);
    const sim::SimTime zb = VirtualPipelineMakespan(Schedule::kZbH1, p, 1, m, Costs{t, t, t});
    EXPECT_EQ(one_f_one_b, sim::SimTime::Nanoseconds(ideal + (p - 1) * 3 * t));
    EXPECT_EQ(zb, sim::SimTime::Nanoseconds(ideal + (p - 1) * t)) << "p=" << p << " m=" << m;
  }
  // Unequal costs with T_W <= T_F: still (p-1)(T_F + T_B - T_W); T_F=2, T_B=3, T_W=1 (us).
  const sim::SimTime zb =
      VirtualPipelineMakespan(Schedule::kZbH1, 4, 1, 8, Costs{2000, 3000, 1000});
  EXPECT_EQ(zb, sim::SimTime::Nanoseconds(8 * 6000 + 3 * (2000 + 3000 - 1000)));
}

}  // namespace
}  // namespace foresight::plan
