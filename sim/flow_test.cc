#include "sim/flow.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace foresight::sim {
namespace {

TEST(FlowTest, SingleLinkSharedEqually) {
  // One link of 9 B/s carrying three flows: 9 / 3 = 3 each.
  const auto rates = MaxMinFairRates({9.0}, {{{0}}, {{0}}, {{0}}});
  ASSERT_EQ(rates.size(), 3u);
  for (double r : rates) EXPECT_DOUBLE_EQ(r, 3.0);
}

TEST(FlowTest, TwoLinkParkingLot) {
  // Links A (cap 10) and B (cap 4). f0 uses A, f1 uses A and B, f2 uses B.
  // B is the bottleneck: 4 / 2 = 2 for f1 and f2; A then has 10 - 2 = 8 left for f0.
  const auto rates = MaxMinFairRates({10.0, 4.0}, {{{0}}, {{0, 1}}, {{1}}});
  EXPECT_DOUBLE_EQ(rates[0], 8.0);
  EXPECT_DOUBLE_EQ(rates[1], 2.0);
  EXPECT_DOUBLE_EQ(rates[2], 2.0);
}

TEST(FlowTest, ThreeLevelFilling) {
  // Links L0 cap 3, L1 cap 5, L2 cap 12. f0: L0; f1: L0, L1; f2: L1, L2; f3: L2; f4: L2.
  // Level 1: L0 share 3/2 = 1.5 (L1 5/2 = 2.5, L2 12/3 = 4): f0 = f1 = 1.5.
  // Level 2: L1 has 5 - 1.5 = 3.5 for f2 alone: 3.5 (L2 12/3 = 4 is larger).
  // Level 3: L2 has 12 - 3.5 = 8.5 for f3, f4: 4.25 each.
  const auto rates = MaxMinFairRates({3.0, 5.0, 12.0}, {{{0}}, {{0, 1}}, {{1, 2}}, {{2}}, {{2}}});
  EXPECT_DOUBLE_EQ(rates[0], 1.5);
  EXPECT_DOUBLE_EQ(rates[1], 1.5);
  EXPECT_DOUBLE_EQ(rates[2], 3.5);
  EXPECT_DOUBLE_EQ(rates[3], 4.25);
  EXPECT_DOUBLE_EQ(rates[4], 4.25);
}

TEST(FlowTest, EmptyPathIsUnconstrained) {
  const auto rates = MaxMinFairRates({1.0}, {{{}}, {{0}}});
  EXPECT_TRUE(std::isinf(rates[0]));
  EXPECT_DOUBLE_EQ(rates[1], 1.0);
}

TEST(FlowTest, ShortFlowFinishesFirstThenLongOneSpeedsUp) {
  // Link 1e9 B/s; a = 1e9 B, b = 0.5e9 B from t = 0. Both get 0.5e9 B/s; b is done at 1 s,
  // a then has 0.5e9 B left at 1e9 B/s: done at 1.5 s.
  std::vector<FlowSpec> flows(2);
  flows[0].bytes = 1e9;
  flows[0].links = {0};
  flows[1].bytes = 0.5e9;
  flows[1].links = {0};
  const FlowResult r = SimulateFlows({1e9}, flows);
  EXPECT_EQ(r.finish[1], SimTime::FromSeconds(1.0));
  EXPECT_EQ(r.finish[0], SimTime::FromSeconds(1.5));
  EXPECT_EQ(r.makespan, SimTime::FromSeconds(1.5));
}

TEST(FlowTest, DependencyAndDelay) {
  // a: 2e6 B on a 1e9 B/s link = 2 ms. b depends on a, starts 5 us later, 1e6 B = 1 ms.
  // c is independent on another link (1e6 B at 1e9 B/s = 1 ms).
  std::vector<FlowSpec> flows(3);
  flows[0] = {2e6, {0}, SimTime::Zero(), {}};
  flows[1] = {1e6, {0}, SimTime::Microseconds(5), {0}};
  flows[2] = {1e6, {1}, SimTime::Zero(), {}};
  const FlowResult r = SimulateFlows({1e9, 1e9}, flows);
  EXPECT_EQ(r.finish[0], SimTime::Microseconds(2000));
  EXPECT_EQ(r.start[1], SimTime::Microseconds(2005));
  EXPECT_EQ(r.finish[1], SimTime::Microseconds(3005));
  EXPECT_EQ(r.finish[2], SimTime::Microseconds(1000));
}

TEST(FlowTest, LateArrivalSharesRemainingTime) {
  // Link 1e9 B/s. a = 1e9 B at t = 0; b = 0.25e9 B arrives at 0.5 s (delay on a root flow).
  // 0..0.5 s: a alone, 0.5e9 B sent. Then 0.5e9 B/s each: b done after 0.5 s (t = 1.0 s),
  // a has sent 0.25e9 more (0.25e9 left), alone again: done at 1.25 s.
  std::vector<FlowSpec> flows(2);
  flows[0] = {1e9, {0}, SimTime::Zero(), {}};
  flows[1] = {0.25e9, {0}, SimTime::FromSeconds(0.5), {}};
  const FlowResult r = SimulateFlows({1e9}, flows);
  EXPECT_EQ(r.finish[1], SimTime::FromSeconds(1.0));
  EXPECT_EQ(r.finish[0], SimTime::FromSeconds(1.25));
}

TEST(FlowTest, IncrementalSolveTouchesOnlyChangedComponents) {
  // Two independent links (1e9 B/s each). Link 0: a = 1e9 B and b = 0.5e9 B; link 1: c = 3e9 B.
  // Solves: after the starts at t = 0 (all 3 flows), after b is done at 1 s (link 0's
  // component: a alone, now 1e9 B/s, 0.5e9 B left), after a is done at 1.5 s (link 0's component
  // is empty: 0 flows); c is done at 3 s, the last event, so no solve follows. Re-solved flows:
  // 3 + 1 + 0 = 4; the reference re-solves every active flow: 3 + 2 (a, c) + 1 (c) = 6.
  std::vector<FlowSpec> flows(3);
  flows[0] = {1e9, {0}, SimTime::Zero(), {}};
  flows[1] = {0.5e9, {0}, SimTime::Zero(), {}};
  flows[2] = {3e9, {1}, SimTime::Zero(), {}};
  const FlowResult fast = SimulateFlows({1e9, 1e9}, flows);
  const FlowResult reference = SimulateFlowsReference({1e9, 1e9}, flows);
  EXPECT_EQ(fast.finish[0], SimTime::FromSeconds(1.5));
  EXPECT_EQ(fast.finish[1], SimTime::FromSeconds(1.0));
  EXPECT_EQ(fast.finish[2], SimTime::FromSeconds(3.0));
  EXPECT_EQ(fast.rate_solves, 3);
  EXPECT_EQ(reference.rate_solves, 3);
  EXPECT_EQ(fast.rate_solve_flows, 4);
  EXPECT_EQ(reference.rate_solve_flows, 6);
}

// Random small instances (fixed seed): the incremental SimulateFlows must reproduce the
// straightforward SimulateFlowsReference exactly (every start and finish picosecond, the number
// of solves). Instances mix shared and disjoint links (several components that merge and
// split), equal sizes (tied completions), zero-byte and empty-path flows, delays and
// dependencies.
TEST(FlowTest, IncrementalMatchesReferenceOnRandomInstances) {
  std::mt19937_64 rng(20261201);
  for (int instance = 0; instance < 300; ++instance) {
    const int link_count = 1 + static_cast<int>(rng() % 12);
    const int flow_count = 1 + static_cast<int>(rng() % 40);
    std::vector<double> capacity(static_cast<std::size_t>(link_count));
    for (double& c : capacity) c = 1e9 * static_cast<double>(1 + rng() % 4);
    std::vector<FlowSpec> flows(static_cast<std::size_t>(flow_count));
    for (int f = 0; f < flow_count; ++f) {
      FlowSpec& spec = flows[static_cast<std::size_t>(f)];
      const int size_class = static_cast<int>(rng() % 8);
      spec.bytes = size_class == 0 ? 0.0 : 1e6 * static_cast<double>(1 + rng() % 5) * size_class;
      const int hops = static_cast<int>(rng() % 4);  // 0: unconstrained
      std::vector<std::int32_t> path;
      for (int h = 0; h < hops; ++h) {
        const auto link = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(link_count));
        if (std::find(path.begin(), path.end(), link) == path.end()) path.push_back(link);
      }
      spec.links = path;
      if (rng() % 3 == 0)
        spec.delay = SimTime::Microseconds(static_cast<std::int64_t>(rng() % 500));
      if (f > 0 && rng() % 3 == 0) {
        spec.depends_on.push_back(static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(f)));
      }
    }
    const FlowResult fast = SimulateFlows(capacity, flows);
    const FlowResult reference = SimulateFlowsReference(capacity, flows);
    ASSERT_EQ(fast.start, reference.start) << "instance " << instance;
    ASSERT_EQ(fast.finish, reference.finish) << "instance " << instance;
    ASSERT_EQ(fast.makespan, reference.makespan) << "instance " << instance;
    ASSERT_EQ(fast.rate_solves, reference.rate_solves) << "instance " << instance;
    ASSERT_LE(fast.rate_solve_flows, reference.rate_solve_flows) << "instance " << instance;
  }
}

}  // namespace
}  // namespace foresight::sim
