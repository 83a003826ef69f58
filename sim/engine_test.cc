#include "sim/engine.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace foresight::sim {
namespace {

SimTime Ns(std::int64_t ns) { return SimTime::Nanoseconds(ns); }

RunResult RunOk(const TaskGraph& g) {
  Result<RunResult> r = Engine().Run(g);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

TEST(EngineTest, EmptyGraphHasZeroMakespan) {
  TaskGraph g;
  g.AddStream("s", 0);
  g.Build();
  RunResult r = RunOk(g);
  EXPECT_EQ(r.makespan, SimTime::Zero());
  EXPECT_EQ(r.events_processed, 0);
  EXPECT_TRUE(r.start.empty());
}

TEST(EngineTest, TasksOnOneStreamRunBackToBackInInsertionOrder) {
  TaskGraph g;
  const StreamId s = g.AddStream("compute", 0);
  const TaskId a = g.AddTask(s, Ns(20), 0);
  const TaskId b = g.AddTask(s, Ns(10), 0);
  g.Build();
  RunResult r = RunOk(g);
  // No edges, but one stream: a = [0, 20), b = [20, 30) even though b is shorter.
  EXPECT_EQ(r.start[a], Ns(0));
  EXPECT_EQ(r.end[a], Ns(20));
  EXPECT_EQ(r.start[b], Ns(20));
  EXPECT_EQ(r.end[b], Ns(30));
  EXPECT_EQ(r.makespan, Ns(30));
  EXPECT_EQ(r.events_processed, 2);
}

TEST(EngineTest, TasksOnDifferentStreamsOverlap) {
  TaskGraph g;
  g.AddTask(g.AddStream("compute", 0), Ns(10), 0);
  g.AddTask(g.AddStream("comm", 0), Ns(25), 0);
  g.Build();
  RunResult r = RunOk(g);
  EXPECT_EQ(r.start[0], Ns(0));
  EXPECT_EQ(r.start[1], Ns(0));
  EXPECT_EQ(r.makespan, Ns(25));  // max(10, 25)
}

TEST(EngineTest, CrossStreamEdgeDelaysTaskAndEverythingBehindItOnItsStream) {
  TaskGraph g;
  const StreamId s0 = g.AddStream("compute", 0);
  const StreamId s1 = g.AddStream("comm", 0);
  const TaskId a = g.AddTask(s0, Ns(10), 0);
  const TaskId c = g.AddTask(s1, Ns(3), 0);
  const TaskId b = g.AddTask(s1, Ns(5), 0);
  const TaskId d = g.AddTask(s1, Ns(2), 0);  // no edges, but behind b on comm
  g.AddEdge(a, b);
  g.Build();
  RunResult r = RunOk(g);
  // a = [0, 10); c = [0, 3); b starts at max(end c = 3, end a = 10) = 10, ends 15;
  // d cannot overtake b: [15, 17).
  EXPECT_EQ(r.end[a], Ns(10));
  EXPECT_EQ(r.start[c], Ns(0));
  EXPECT_EQ(r.start[b], Ns(10));
  EXPECT_EQ(r.end[b], Ns(15));
  EXPECT_EQ(r.start[d], Ns(15));
  EXPECT_EQ(r.makespan, Ns(17));
}

TEST(EngineTest, DiamondMakespanIsLongestPath) {
  // A(2) -> {B(5), C(3)} -> D(4), every task on its own stream.
  // Paths: A-B-D = 2 + 5 + 4 = 11, A-C-D = 2 + 3 + 4 = 9, so makespan 11.
  // Starts: A 0, B 2, C 2, D = max(end B 7, end C 5) = 7.
  TaskGraph g;
  const TaskId a = g.AddTask(g.AddStream("a", 0), Ns(2), 0);
  const TaskId b = g.AddTask(g.AddStream("b", 0), Ns(5), 0);
  const TaskId c = g.AddTask(g.AddStream("c", 0), Ns(3), 0);
  const TaskId d = g.AddTask(g.AddStream("d", 0), Ns(4), 0);
  g.AddEdge(a, b);
  g.AddEdge(a, c);
  g.AddEdge(b, d);
  g.AddEdge(c, d);
  g.Build();
  RunResult r = RunOk(g);
  EXPECT_EQ(r.start[b], Ns(2));
  EXPECT_EQ(r.start[c], Ns(2));
  EXPECT_EQ(r.end[c], Ns(5));
  EXPECT_EQ(r.start[d], Ns(7));
  EXPECT_EQ(r.makespan, Ns(11));
}

TEST(EngineTest, DiamondWithBranchesSharingAStreamSerializesThem) {
  // Same diamond, B and C on one stream (B added first): C starts at end B = 7, ends 10;
  // D starts at max(7, 10) = 10, so makespan = 2 + 5 + 3 + 4 = 14.
  TaskGraph g;
  const StreamId shared = g.AddStream("shared", 0);
  const TaskId a = g.AddTask(g.AddStream("a", 0), Ns(2), 0);
  const TaskId b = g.AddTask(shared, Ns(5), 0);
  const TaskId c = g.AddTask(shared, Ns(3), 0);
  const TaskId d = g.AddTask(g.AddStream("d", 0), Ns(4), 0);
  g.AddEdge(a, b);
  g.AddEdge(a, c);
  g.AddEdge(b, d);
  g.AddEdge(c, d);
  g.Build();
  RunResult r = RunOk(g);
  EXPECT_EQ(r.start[c], Ns(7));
  EXPECT_EQ(r.start[d], Ns(10));
  EXPECT_EQ(r.makespan, Ns(14));
}

TEST(EngineTest, ComputeCommOverlapIsBoundByTheSlowerStream) {
  // n = 4 compute chunks of f = 10 ns; chunk i's gradient is sent on the comm stream (c = 15 ns)
  // once it is computed. Since c > f the comm stream never idles after the first send:
  // M_i = [f + i c, f + (i + 1) c), makespan f + n c = 10 + 60 = 70. An optimizer step on the
  // compute stream waits for the last send: [70, 75).
  TaskGraph g;
  const StreamId compute = g.AddStream("compute", 0);
  const StreamId comm = g.AddStream("comm", 0);
  std::vector<TaskId> sends;
  for (int i = 0; i < 4; ++i) {
    const TaskId chunk = g.AddTask(compute, Ns(10), i);
    sends.push_back(g.AddTask(comm, Ns(15), i));
    g.AddEdge(chunk, sends.back());
  }
  const TaskId optimizer = g.AddTask(compute, Ns(5), 99);
  g.AddEdge(sends.back(), optimizer);
  g.Build();
  RunResult r = RunOk(g);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.start[sends[i]], Ns(10 + 15 * i)) << i;
  EXPECT_EQ(r.start[optimizer], Ns(70));
  EXPECT_EQ(r.makespan, Ns(75));
}

TEST(EngineTest, ZeroDurationTasksStartAndEndAtTheSameInstant) {
  TaskGraph g;
  const StreamId s0 = g.AddStream("s0", 0);
  const StreamId s1 = g.AddStream("s1", 0);
  const TaskId z0 = g.AddTask(s0, Ns(0), 0);
  const TaskId z1 = g.AddTask(s0, Ns(0), 0);
  const TaskId x = g.AddTask(s1, Ns(10), 0);
  const TaskId z2 = g.AddTask(s1, Ns(0), 0);  // released mid-run by x
  const TaskId y = g.AddTask(s0, Ns(3), 0);
  g.AddEdge(z2, y);
  g.Build();
  RunResult r = RunOk(g);
  // z0, z1 at 0; x = [0, 10); z2 = [10, 10); y waits for z2 (and z1): [10, 13).
  EXPECT_EQ(r.end[z0], Ns(0));
  EXPECT_EQ(r.start[z1], Ns(0));
  EXPECT_EQ(r.end[z1], Ns(0));
  EXPECT_EQ(r.start[z2], Ns(10));
  EXPECT_EQ(r.end[z2], Ns(10));
  EXPECT_EQ(r.start[y], Ns(10));
  EXPECT_EQ(r.end[x], Ns(10));
  EXPECT_EQ(r.makespan, Ns(13));
}

TEST(EngineTest, UniformGpipeMakespanMatchesClosedForm) {
  // GPipe with p stages (one stream each), m micro-batches, forward f and backward b per
  // micro-batch per stage; stream order: all forwards, then all backwards.
  // Forward wavefront: F(s, i) starts at (s + i) f, so the last stage finishes its forwards at
  // T = (m + p - 1) f. Backward wavefront from there: B(s, i) starts at T + (p - 1 - s + i) b,
  // so B(0, m - 1) ends at T + (m + p - 1) b: makespan = (m + p - 1)(f + b). Each stage is busy
  // m (f + b), so the bubble fraction is (p - 1) / (m + p - 1).
  struct Case {
    int p, m;
    std::int64_t f_ns, b_ns;
  };
  for (const Case& c : {Case{4, 8, 3, 5}, Case{1, 1, 2, 2}, Case{2, 1, 7, 1}, Case{8, 32, 7, 11},
                        Case{16, 4, 1, 2}, Case{4, 4, 10, 20}}) {
    SCOPED_TRACE(testing::Message()
                 << "p=" << c.p << " m=" << c.m << " f=" << c.f_ns << " b=" << c.b_ns);
    TaskGraph g;
    std::vector<std::vector<TaskId>> fwd(c.p), bwd(c.p);
    for (int s = 0; s < c.p; ++s) {
      const StreamId stream = g.AddStream("stage" + std::to_string(s), s);
      for (int i = 0; i < c.m; ++i) fwd[s].push_back(g.AddTask(stream, Ns(c.f_ns), 0));
      for (int i = 0; i < c.m; ++i) bwd[s].push_back(g.AddTask(stream, Ns(c.b_ns), 1));
    }
    for (int s = 0; s + 1 < c.p; ++s) {
      for (int i = 0; i < c.m; ++i) {
        g.AddEdge(fwd[s][i], fwd[s + 1][i]);
        g.AddEdge(bwd[s + 1][i], bwd[s][i]);
      }
    }
    g.Build();
    RunResult r = RunOk(g);
    const std::int64_t t_fwd = (c.m + c.p - 1) * c.f_ns;
    for (int s = 0; s < c.p; ++s) {
      for (int i = 0; i < c.m; ++i) {
        EXPECT_EQ(r.start[fwd[s][i]], Ns((s + i) * c.f_ns));
        EXPECT_EQ(r.start[bwd[s][i]], Ns(t_fwd + (c.p - 1 - s + i) * c.b_ns));
      }
    }
    const std::int64_t makespan_ns = (c.m + c.p - 1) * (c.f_ns + c.b_ns);
    EXPECT_EQ(r.makespan, Ns(makespan_ns));
    // Bubble fraction idle / makespan == (p - 1) / (m + p - 1), compared cross-multiplied.
    const std::int64_t idle_ns = r.makespan.ps() / 1000 - c.m * (c.f_ns + c.b_ns);
    EXPECT_EQ(idle_ns * (c.m + c.p - 1), (c.p - 1) * (r.makespan.ps() / 1000));
  }
}

RunResult RunOk(const TaskGraph& g, const EngineOptions& options) {
  Result<RunResult> r = Engine().Run(g, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

TEST(EngineInterferenceTest, OverlappingComputeAndCommSlowEachOther) {
  // One GPU: compute C (10 us of work) and NCCL M (4 us) start together. compute_slowdown 0.25
  // (rate 0.8), comm_slowdown 0.5 (rate 2/3). M: 4 / (2/3) = 6 us. C does 6 * 0.8 = 4.8 us of
  // work by then and the remaining 5.2 us at full rate: ends at 11.2 us.
  TaskGraph g;
  const TaskId c = g.AddTask(g.AddStream("compute", 0, StreamKind::kCompute), Ns(10000), 0);
  const TaskId m = g.AddTask(g.AddStream("comm", 0, StreamKind::kComm), Ns(4000), 0);
  g.Build();
  const RunResult r = RunOk(g, {.compute_slowdown = 0.25, .comm_slowdown = 0.5});
  EXPECT_EQ(r.end[m], Ns(6000));
  EXPECT_EQ(r.end[c], Ns(11200));
  EXPECT_EQ(r.makespan, Ns(11200));
  EXPECT_EQ(r.events_processed, 2);
  // Without interference, and on different GPUs, nothing is slowed.
  const RunResult plain = RunOk(g, {});
  EXPECT_EQ(plain.end[c], Ns(10000));
  EXPECT_EQ(plain.end[m], Ns(4000));
  TaskGraph apart;
  const TaskId c2 =
      apart.AddTask(apart.AddStream("compute", 0, StreamKind::kCompute), Ns(10000), 0);
  const TaskId m2 = apart.AddTask(apart.AddStream("comm", 1, StreamKind::kComm), Ns(4000), 0);
  apart.Build();
  const RunResult r2 = RunOk(apart, {.compute_slowdown = 0.25, .comm_slowdown = 0.5});
  EXPECT_EQ(r2.end[c2], Ns(10000));
  EXPECT_EQ(r2.end[m2], Ns(4000));
}

TEST(EngineInterferenceTest, RatesChangeOnlyWhileBothKindsRun) {
  // compute_slowdown 1 (rate 0.5), comm_slowdown 0. C = 10 us of compute. The comm stream runs
  // M1 (2 us) at once and M2 (1 us) after M1 and after O (3 us on a copy stream, kind other,
  // never slowed and never slowing):
  //   [0, 2]  C and M1: C does 1 us of work, M1 ends at 2
  //   [2, 3]  C alone: +1 us (2 in all); O ends at 3, M2 starts
  //   [3, 4]  C and M2: +0.5 us (2.5); M2 ends at 4
  //   [4, ..] C alone: 7.5 us left, ends at 11.5 us.
  TaskGraph g;
  const StreamId compute = g.AddStream("compute", 7, StreamKind::kCompute);
  const StreamId comm = g.AddStream("comm", 7, StreamKind::kComm);
  const StreamId copy = g.AddStream("d2h", 7);
  const TaskId c = g.AddTask(compute, Ns(10000), 0);
  const TaskId m1 = g.AddTask(comm, Ns(2000), 0);
  const TaskId m2 = g.AddTask(comm, Ns(1000), 0);
  const TaskId o = g.AddTask(copy, Ns(3000), 0);
  g.AddEdge(o, m2);
  g.Build();
  const RunResult r = RunOk(g, {.compute_slowdown = 1.0, .comm_slowdown = 0.0});
  EXPECT_EQ(r.end[m1], Ns(2000));
  EXPECT_EQ(r.end[o], Ns(3000));
  EXPECT_EQ(r.start[m2], Ns(3000));
  EXPECT_EQ(r.end[m2], Ns(4000));
  EXPECT_EQ(r.end[c], Ns(11500));
}

TEST(EngineInterferenceTest, ZeroSlowdownsGiveTheSameScheduleAsPlainRun) {
  // A 4-stage GPipe with a comm stream per stage (same shape as the closed-form test above):
  // with both slowdowns 0 the options path is the plain engine, event for event.
  TaskGraph g;
  std::vector<TaskId> all;
  for (int s = 0; s < 4; ++s) {
    const StreamId compute = g.AddStream("compute", s, StreamKind::kCompute);
    const StreamId comm = g.AddStream("comm", s, StreamKind::kComm);
    for (int i = 0; i < 8; ++i) {
      const TaskId f = g.AddTask(compute, Ns(3 + i), 0);
      const TaskId a = g.AddTask(comm, Ns(2), 1);
      g.AddEdge(f, a);
      all.push_back(f);
      all.push_back(a);
    }
  }
  g.Build();
  const RunResult plain = RunOk(g);
  const RunResult opts = RunOk(g, {});
  EXPECT_EQ(opts.start, plain.start);
  EXPECT_EQ(opts.end, plain.end);
  // With slowdowns every compute task overlapped by a comm task takes longer: the makespan grows.
  const RunResult slowed = RunOk(g, {.compute_slowdown = 0.5, .comm_slowdown = 0.5});
  EXPECT_GT(slowed.makespan, plain.makespan);
  EXPECT_EQ(slowed.events_processed, static_cast<std::int64_t>(all.size()));
}

TEST(EngineTest, DependencyCycleIsReportedNotHung) {
  TaskGraph g;
  const TaskId ok = g.AddTask(g.AddStream("warmup", 0), Ns(1), 0);
  const TaskId a = g.AddTask(g.AddStream("fwd", 2), Ns(1), 7);
  const TaskId b = g.AddTask(g.AddStream("bwd", 2), Ns(1), 8);
  g.AddEdge(a, b);
  g.AddEdge(b, a);
  g.Build();
  Result<RunResult> r = Engine().Run(g);
  ASSERT_FALSE(r.ok());
  // Task `ok` ran; a and b wait on each other. The lowest-id stuck task is a (id 1).
  EXPECT_EQ(ok, 0);
  EXPECT_EQ(r.error().message,
            "simulation deadlock: 2 of 3 tasks never ran; task 1 (tag 7) on stream 'fwd' of rank "
            "2 waits on task 2 (tag 8) on stream 'bwd' of rank 2, which never ran (a dependency "
            "cycle, or an edge against stream order)");
}

TEST(EngineTest, EdgeAgainstStreamOrderIsReportedAsDeadlock) {
  // t0 then t1 on one stream, plus an edge t1 -> t0: t0 waits for t1, t1 waits for t0 (stream).
  TaskGraph g;
  const StreamId s = g.AddStream("compute", 3);
  const TaskId t0 = g.AddTask(s, Ns(1), 0);
  const TaskId t1 = g.AddTask(s, Ns(1), 0);
  g.AddEdge(t1, t0);
  g.Build();
  Result<RunResult> r = Engine().Run(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("2 of 2 tasks never ran; task 0 (tag 0) on stream 'compute' "
                                   "of rank 3 waits on task 1"),
            std::string::npos)
      << r.error().message;
}

TEST(EngineTest, SelfEdgeIsReportedAsDeadlock) {
  TaskGraph g;
  const TaskId t = g.AddTask(g.AddStream("s", 0), Ns(1), 0);
  g.AddEdge(t, t);
  g.Build();
  Result<RunResult> r = Engine().Run(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("task 0 (tag 0) on stream 's' of rank 0 waits on task 0"),
            std::string::npos)
      << r.error().message;
}

TEST(EngineDeathTest, RunOnUnbuiltGraphIsACheckFailure) {
  TaskGraph g;
  g.AddTask(g.AddStream("s", 0), Ns(1), 0);
  EXPECT_DEATH((void)Engine().Run(g), "not built");
}

}  // namespace
}  // namespace foresight::sim
