#include <gtest/gtest.h>

#include <vector>

#include "plan/cost.h"

namespace foresight::plan {
namespace {

std::vector<CostedOp> Ops(const std::vector<double>& microseconds) {
  std::vector<CostedOp> ops;
  for (double us : microseconds) {
    CostedOp op;
    op.duration = sim::SimTime::FromSeconds(us * 1e-6);
    ops.push_back(op);
  }
  return ops;
}

double Us(const CostedOp& op) { return op.duration.ToSeconds() * 1e6; }

TEST(PlanHostDispatch, QueueByHand) {
  // d = 10 us; GPU times 2, 50, 1, 1, 1 us.
  //   op0: issued 10, start 10, end 12  -> 12 (waits 10 for the host)
  //   op1: issued 20, start 20, end 70  -> 58
  //   op2: issued 30, start 70, end 71  -> 1 (queued behind op1: no host wait)
  //   op3: issued 40, start 71, end 72  -> 1
  //   op4: issued 50, start 72, end 73  -> 1
  // Total 73 us = max_i (issued_i + remaining GPU time) = issued_1 + 53 = 20 + 53.
  auto ops = Ops({2, 50, 1, 1, 1});
  ApplyHostDispatch(ops, 10e-6);
  EXPECT_NEAR(Us(ops[0]), 12, 1e-6);
  EXPECT_NEAR(Us(ops[1]), 58, 1e-6);
  EXPECT_NEAR(Us(ops[2]), 1, 1e-6);
  EXPECT_NEAR(Us(ops[3]), 1, 1e-6);
  EXPECT_NEAR(Us(ops[4]), 1, 1e-6);
}

TEST(PlanHostDispatch, RestartsByHand) {
  // d = 10 us; GPU times 50, 1, 1, 1 us; the queue restarts at op 2.
  //   op0: issued 10, start 10, end 60  -> 60
  //   op1: issued 20, start 60, end 61  -> 1 (queued)
  //   op2: restart: the host waits for the GPU (61), issued 71, start 71, end 72 -> 11
  //   op3: issued 81, start 81, end 82  -> 10
  // Without the restart op2 and op3 would have queued: 62 and 63 (1 us each).
  auto ops = Ops({50, 1, 1, 1});
  ApplyHostDispatch(ops, 10e-6, {2});
  EXPECT_NEAR(Us(ops[0]), 60, 1e-6);
  EXPECT_NEAR(Us(ops[1]), 1, 1e-6);
  EXPECT_NEAR(Us(ops[2]), 11, 1e-6);
  EXPECT_NEAR(Us(ops[3]), 10, 1e-6);
  // Restarts at 0 and at the end (index = size), as compile.cc's cut lists can hold, change
  // nothing: same as QueueByHand.
  auto same = Ops({2, 50, 1, 1, 1});
  ApplyHostDispatch(same, 10e-6, {0, 5});
  EXPECT_NEAR(Us(same[0]), 12, 1e-6);
  EXPECT_NEAR(Us(same[1]), 58, 1e-6);
  EXPECT_NEAR(Us(same[2]), 1, 1e-6);
}

TEST(PlanHostDispatch, LimitsAndZero) {
  // Host-bound throughout: 100 kernels of 1 us at d = 5 us take 100 * 5 + 1 = 501 us (the last
  // kernel runs after its issue).
  auto tiny = Ops(std::vector<double>(100, 1.0));
  ApplyHostDispatch(tiny, 5e-6);
  double total = 0;
  for (const auto& op : tiny) total += Us(op);
  EXPECT_NEAR(total, 501, 1e-6);
  // GPU-bound throughout: 10 kernels of 100 us at d = 5 us: 5 + 10 * 100 = 1005 us.
  auto big = Ops(std::vector<double>(10, 100.0));
  ApplyHostDispatch(big, 5e-6);
  total = 0;
  for (const auto& op : big) total += Us(op);
  EXPECT_NEAR(total, 1005, 1e-6);
  // d = 0: unchanged.
  auto same = Ops({3, 4});
  ApplyHostDispatch(same, 0);
  EXPECT_NEAR(Us(same[0]), 3, 1e-6);
  EXPECT_NEAR(Us(same[1]), 4, 1e-6);
}

}  // namespace
}  // namespace foresight::plan
