// Memory tracking in Engine::Run: peaks, breakdowns, initial bytes, same-instant ordering.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <utility>

#include "sim/engine.h"

namespace foresight::sim {
namespace {

constexpr int kWeights = 0;
constexpr int kActivations = 1;
constexpr int kWorkspace = 2;

SimTime Ns(std::int64_t ns) { return SimTime::Nanoseconds(ns); }

std::array<std::int64_t, kMaxMemoryCategories> Breakdown(std::int64_t weights,
                                                         std::int64_t activations,
                                                         std::int64_t workspace) {
  std::array<std::int64_t, kMaxMemoryCategories> b{};
  b[kWeights] = weights;
  b[kActivations] = activations;
  b[kWorkspace] = workspace;
  return b;
}

RunResult RunOk(const TaskGraph& g) {
  Result<RunResult> r = Engine().Run(g);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

TEST(EngineMemoryTest, PeakTimeAndBreakdownOnAHandComputedTimeline) {
  TaskGraph g;
  const StreamId s = g.AddStream("compute", 0);
  const PoolId hbm = g.AddPool("hbm");
  g.SetInitialBytes(hbm, kWeights, 100);
  const TaskId a = g.AddTask(s, Ns(10), 0);  // [0, 10)
  const TaskId b = g.AddTask(s, Ns(5), 0);   // [10, 15)
  const TaskId c = g.AddTask(s, Ns(10), 0);  // [15, 25)
  g.AddMemoryEvent(a, hbm, kActivations, false, 50);
  g.AddMemoryEvent(a, hbm, kActivations, true, -20);
  g.AddMemoryEvent(b, hbm, kWorkspace, false, 30);
  g.AddMemoryEvent(b, hbm, kWorkspace, true, -30);
  g.AddMemoryEvent(b, hbm, kActivations, true, -30);
  g.AddMemoryEvent(c, hbm, kWorkspace, false, 60);
  g.AddMemoryEvent(c, hbm, kWorkspace, true, -60);
  g.Build();
  RunResult r = RunOk(g);
  // t=0:  initial 100; a starts +50 act            -> 150 (new peak at 0)
  // t=10: a ends -20 act -> 130; b starts +30 ws   -> 160 (new peak at 10: w100 a30 ws30)
  // t=15: b ends -30 ws, -30 act -> 100; c +60 ws  -> 160 (equal, not larger: peak stays at 10)
  // t=25: c ends -60 ws                            -> 100 final
  ASSERT_EQ(r.pools.size(), 1u);
  EXPECT_EQ(r.pools[0].peak_bytes, 160);
  EXPECT_EQ(r.pools[0].peak_time, Ns(10));
  EXPECT_EQ(r.pools[0].peak_breakdown, Breakdown(100, 30, 30));
  EXPECT_EQ(r.pools[0].final_bytes, 100);
  EXPECT_EQ(r.makespan, Ns(25));
}

TEST(EngineMemoryTest, InitialBytesCountTowardsThePeak) {
  TaskGraph g;
  const StreamId s = g.AddStream("compute", 0);
  const PoolId hbm = g.AddPool("hbm");
  g.SetInitialBytes(hbm, kWeights, 400);
  g.SetInitialBytes(hbm, kActivations, 100);
  const TaskId t = g.AddTask(s, Ns(10), 0);
  g.AddMemoryEvent(t, hbm, kActivations, true, -100);  // only frees
  g.Build();
  RunResult r = RunOk(g);
  // The peak is the initial 400 + 100 = 500, at time zero; after t ends 400 remain.
  EXPECT_EQ(r.pools[0].peak_bytes, 500);
  EXPECT_EQ(r.pools[0].peak_time, SimTime::Zero());
  EXPECT_EQ(r.pools[0].peak_breakdown, Breakdown(400, 100, 0));
  EXPECT_EQ(r.pools[0].final_bytes, 400);
}

TEST(EngineMemoryTest, PoolsAreTrackedIndependently) {
  TaskGraph g;
  const StreamId s0 = g.AddStream("compute", 0);
  const StreamId s1 = g.AddStream("compute", 1);
  const PoolId p0 = g.AddPool("rank0");
  const PoolId p1 = g.AddPool("rank1");
  const PoolId unused = g.AddPool("host");
  const TaskId a = g.AddTask(s0, Ns(4), 0);  // [0, 4)
  const TaskId b = g.AddTask(s1, Ns(6), 0);  // [0, 6)
  const TaskId c = g.AddTask(s1, Ns(1), 0);  // [6, 7)
  g.AddMemoryEvent(a, p0, kActivations, false, 10);
  g.AddMemoryEvent(b, p1, kActivations, false, 20);
  g.AddMemoryEvent(c, p1, kWorkspace, false, 5);
  g.Build();
  RunResult r = RunOk(g);
  // p0: 10 at 0, never freed. p1: 20 at 0, +5 at 6 -> 25 at 6. host: nothing.
  ASSERT_EQ(r.pools.size(), 3u);
  EXPECT_EQ(r.pools[p0].peak_bytes, 10);
  EXPECT_EQ(r.pools[p0].final_bytes, 10);
  EXPECT_EQ(r.pools[p1].peak_bytes, 25);
  EXPECT_EQ(r.pools[p1].peak_time, Ns(6));
  EXPECT_EQ(r.pools[p1].peak_breakdown, Breakdown(0, 20, 5));
  EXPECT_EQ(r.pools[unused].peak_bytes, 0);
  EXPECT_EQ(r.pools[unused].final_bytes, 0);
}

TEST(EngineMemoryTest, PeakIsCheckedAfterEachEventOfATask) {
  // One task allocates 100 of workspace, then releases 60 of activations, both at its start.
  // Events apply one at a time in insertion order: 0 -> 100 (peak) -> 40.
  TaskGraph g;
  const PoolId hbm = g.AddPool("hbm");
  g.SetInitialBytes(hbm, kActivations, 60);
  const TaskId t = g.AddTask(g.AddStream("s", 0), Ns(3), 0);
  g.AddMemoryEvent(t, hbm, kWorkspace, false, 100);
  g.AddMemoryEvent(t, hbm, kActivations, false, -60);
  g.Build();
  RunResult r = RunOk(g);
  // 60 + 100 = 160 after the first event; 160 - 60 = 100 after the second.
  EXPECT_EQ(r.pools[0].peak_bytes, 160);
  EXPECT_EQ(r.pools[0].peak_breakdown, Breakdown(0, 60, 100));
  EXPECT_EQ(r.pools[0].final_bytes, 100);
}

// Builds: a (stream 0) and x (stream 1) both run [0, 10); c (stream 2, 5 ns) depends on a.
// a holds 100 of weights-category bytes, x 40 of activations, c allocates 150 of workspace.
// `x_first` adds x before a, so x starts (and is sequenced) first.
RunResult RunCoincidentEnds(bool x_first) {
  TaskGraph g;
  const PoolId hbm = g.AddPool("hbm");
  const StreamId s0 = g.AddStream("s0", 0);
  const StreamId s1 = g.AddStream("s1", 0);
  const StreamId s2 = g.AddStream("s2", 0);
  TaskId x = -1;
  if (x_first) x = g.AddTask(s1, Ns(10), 0);
  const TaskId a = g.AddTask(s0, Ns(10), 0);
  if (!x_first) x = g.AddTask(s1, Ns(10), 0);
  const TaskId c = g.AddTask(s2, Ns(5), 0);
  g.AddEdge(a, c);
  g.AddMemoryEvent(a, hbm, kWeights, false, 100);
  g.AddMemoryEvent(a, hbm, kWeights, true, -100);
  g.AddMemoryEvent(x, hbm, kActivations, false, 40);
  g.AddMemoryEvent(x, hbm, kActivations, true, -40);
  g.AddMemoryEvent(c, hbm, kWorkspace, false, 150);
  g.AddMemoryEvent(c, hbm, kWorkspace, true, -150);
  g.Build();
  return RunOk(g);
}

TEST(EngineMemoryTest, CompletionsAtOneInstantApplyInEventOrder) {
  // a sequenced before x: at t=10, a's free (140 -> 40), then c's alloc (-> 190, the peak, with
  // x's 40 still held), then x's free (-> 150). An upper bound, as documented in engine.h.
  RunResult a_first = RunCoincidentEnds(/*x_first=*/false);
  EXPECT_EQ(a_first.pools[0].peak_bytes, 190);
  EXPECT_EQ(a_first.pools[0].peak_time, Ns(10));
  EXPECT_EQ(a_first.pools[0].peak_breakdown, Breakdown(0, 40, 150));
  // x sequenced before a: at t=10, x's free (140 -> 100), a's free (-> 0), c's alloc (-> 150).
  // 150 > 140 (the peak at t=0), so the peak is 150 at t=10 with only c's workspace.
  RunResult x_first = RunCoincidentEnds(/*x_first=*/true);
  EXPECT_EQ(x_first.pools[0].peak_bytes, 150);
  EXPECT_EQ(x_first.pools[0].peak_time, Ns(10));
  EXPECT_EQ(x_first.pools[0].peak_breakdown, Breakdown(0, 0, 150));
  EXPECT_EQ(x_first.pools[0].final_bytes, 0);
}

}  // namespace
}  // namespace foresight::sim
