#include "models/hw/collective.h"

#include <gtest/gtest.h>

namespace foresight::hw {
namespace {

// Round numbers: NVLink bus bandwidth 400e9 x 0.75 = 300e9 B/s, alpha 2 us;
// NIC bus bandwidth 50e9 x 0.8 = 40e9 B/s, alpha 10 us.
HardwareProfile ToyCluster() {
  HardwareProfile hw;
  hw.name = "toy";
  hw.node.gpus_per_node = 8;
  hw.node.scale_up = LinkSpec{400e9, 0.75, 2e-6};
  hw.network.nic = LinkSpec{50e9, 0.8, 10e-6};
  return hw;
}

constexpr double kTol = 1e-12;

TEST(CollectiveTest, RingAllReduceOnOneNode) {
  // n = 8, S = 3e9: 2 x 7 / 8 x 3e9 / 300e9 = 0.0175 s, plus 2 x 7 x 2 us = 28 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllReduce, 3e9, {8, 8, 1}),
              0.0175 + 28e-6, kTol);
}

TEST(CollectiveTest, RingAllGatherAndReduceScatterOnOneNode) {
  // n = 8, S = 3e9: 7 / 8 x 3e9 / 300e9 = 0.00875 s, plus 7 x 2 us = 14 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllGather, 3e9, {8, 8, 1}),
              0.00875 + 14e-6, kTol);
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kReduceScatter, 3e9, {8, 8, 1}),
              0.00875 + 14e-6, kTol);
}

TEST(CollectiveTest, GroupThatDoesNotFillTheNode) {
  // n = 4 on one node: 2 x 3 / 4 x 3e9 / 300e9 = 0.015 s, plus 6 x 2 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllReduce, 3e9, {4, 4, 1}),
              0.015 + 12e-6, kTol);
}

TEST(CollectiveTest, HierarchicalAllReduceTwoNodesOfEight) {
  // Intra reduce-scatter (p = 8, S = 3e9):    7/8 x 3e9 / 300e9 + 7 x 2 us  = 0.008764 s
  // Inter all-reduce (N = 2, S/p = 375e6):    2 x 1/2 x 375e6 / 40e9 + 2 x 10 us = 0.009395 s
  // Intra all-gather (p = 8, S = 3e9):        0.008764 s
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllReduce, 3e9, {16, 8, 2}),
              0.008764 + 0.009395 + 0.008764, kTol);
}

TEST(CollectiveTest, HierarchicalAllGatherAndReduceScatterTwoNodesOfEight) {
  // Inter (N = 2, S/p = 375e6): 1/2 x 375e6 / 40e9 + 10 us = 0.0046975 s;
  // intra (p = 8, S = 3e9): 0.008764 s.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllGather, 3e9, {16, 8, 2}),
              0.0046975 + 0.008764, kTol);
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kReduceScatter, 3e9, {16, 8, 2}),
              0.0046975 + 0.008764, kTol);
}

TEST(CollectiveTest, OneRankPerNodeIsAFlatRingOverTheNics) {
  // N = 4, S = 1e9: 2 x 3/4 x 1e9 / 40e9 = 0.0375 s, plus 2 x 3 x 10 us = 60 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllReduce, 1e9, {4, 1, 4}),
              0.0375 + 60e-6, kTol);
  // All-gather: 3/4 x 1e9 / 40e9 = 0.01875 s, plus 3 x 10 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllGather, 1e9, {4, 1, 4}),
              0.01875 + 30e-6, kTol);
}

TEST(CollectiveTest, AllToAllOnOneNodeAndAcrossNodes) {
  // One node, n = 8, S = 3e9: 7/8 x 3e9 / 300e9 = 0.00875 s, plus 7 x 2 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllToAll, 3e9, {8, 8, 1}),
              0.00875 + 14e-6, kTol);
  // Two nodes of 8, n = 16, S = 3.2e9: intra 7/16 x 3.2e9 / 300e9 = 0.004667 s; inter
  // 8/16 x 3.2e9 / 40e9 = 0.04 s (the NIC part dominates); latency 7 x 2 us + 8 x 10 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllToAll, 3.2e9, {16, 8, 2}),
              0.04 + 14e-6 + 80e-6, kTol);
  // One rank per node, n = 4: 3/4 x 4e9 / 40e9 = 0.075 s, plus 3 x 10 us.
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllToAll, 4e9, {4, 1, 4}),
              0.075 + 30e-6, kTol);
}

TEST(CollectiveTest, SingleRankAndEmptyBufferCostNothing) {
  EXPECT_EQ(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllReduce, 1e9, {1, 1, 1}), 0);
  EXPECT_EQ(CollectiveSeconds(ToyCluster(), CollectiveOp::kAllReduce, 0, {8, 8, 1}), 0);
  EXPECT_EQ(PointToPointSeconds(ToyCluster(), 0, false), 0);
}

TEST(CollectiveTest, PointToPoint) {
  // Same node: 3e9 / 300e9 + 2 us; across nodes: 4e9 / 40e9 + 10 us.
  EXPECT_NEAR(PointToPointSeconds(ToyCluster(), 3e9, true), 0.01 + 2e-6, kTol);
  EXPECT_NEAR(PointToPointSeconds(ToyCluster(), 4e9, false), 0.1 + 10e-6, kTol);
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kSendRecv, 4e9, {2, 1, 2}), 0.1 + 10e-6,
              kTol);
  EXPECT_NEAR(CollectiveSeconds(ToyCluster(), CollectiveOp::kSendRecv, 3e9, {2, 2, 1}), 0.01 + 2e-6,
              kTol);
}

TEST(CollectiveTest, BusBandwidthFollowsNcclTestsDefinition) {
  // nccl-tests: busbw = algbw x 2(n-1)/n for all-reduce, x (n-1)/n for all-gather, with
  // algbw = S / time. Without latency the model's busbw must equal the link's.
  HardwareProfile hw = ToyCluster();
  hw.node.scale_up.latency_seconds = 0;
  const double bytes = 1e9;
  for (int n : {2, 3, 5, 8}) {
    const GroupSpan span{n, n, 1};
    const double ar = CollectiveSeconds(hw, CollectiveOp::kAllReduce, bytes, span);
    const double ag = CollectiveSeconds(hw, CollectiveOp::kAllGather, bytes, span);
    EXPECT_NEAR(bytes / ar * 2.0 * (n - 1) / n, 300e9, 1e-3) << n;
    EXPECT_NEAR(bytes / ag * (n - 1.0) / n, 300e9, 1e-3) << n;
  }
}

TEST(CollectiveTest, CatalogReproducesPublishedAllReduceMeasurements) {
  // Published nccl-tests ring all-reduce on one node of 8 GPUs (data/): time for the size.
  struct Case {
    const char* hardware;
    double bytes;
    double measured_seconds;
  };
  const Case cases[] = {
      // vtrain-a100/allreduce_a100_8gpu.csv, 1073741824 B: 8193.0 us out of place.
      {"dgx-a100-80gb", 1073741824.0, 8193.0e-6},
      // nccl-tests/h100_together_1node_8gpu_all_reduce_perf_ring.txt, 8 GiB: 40772.4 us
      // (busbw 368.69 GB/s).
      {"dgx-h100", 8589934592.0, 40772.4e-6},
  };
  for (const Case& c : cases) {
    Result<HardwareProfile> hw = LoadHardware(c.hardware);
    ASSERT_TRUE(hw.ok()) << hw.error().ToString();
    const double seconds = CollectiveSeconds(*hw, CollectiveOp::kAllReduce, c.bytes, {8, 8, 1});
    EXPECT_NEAR(seconds / c.measured_seconds, 1.0, 0.02) << c.hardware;
  }
}

TEST(SpanOfTest, ContiguousGroups) {
  const auto expect = [](GroupSpan s, int size, int ranks_per_node, int nodes) {
    EXPECT_EQ(s.size, size);
    EXPECT_EQ(s.ranks_per_node, ranks_per_node);
    EXPECT_EQ(s.nodes, nodes);
  };
  expect(SpanOf(8, 1, 8), 8, 8, 1);    // TP = 8: one full node
  expect(SpanOf(4, 1, 8), 4, 4, 1);    // TP = 4: half a node
  expect(SpanOf(1, 1, 8), 1, 1, 1);    // trivial group
  expect(SpanOf(16, 1, 8), 16, 8, 2);  // ranks 0..15: two full nodes
}

TEST(SpanOfTest, StridedGroups) {
  const auto expect = [](GroupSpan s, int size, int ranks_per_node, int nodes) {
    EXPECT_EQ(s.size, size);
    EXPECT_EQ(s.ranks_per_node, ranks_per_node);
    EXPECT_EQ(s.nodes, nodes);
  };
  // DP over TP = 2: ranks 0, 2, ..., 14 -> 4 on node 0 (0-6), 4 on node 1 (8-14).
  expect(SpanOf(8, 2, 8), 8, 4, 2);
  // Two members 4 apart (ranks 0 and 4) share node 0.
  expect(SpanOf(2, 4, 8), 2, 2, 1);
  // Stride equal to or above the node size: one member per node.
  expect(SpanOf(4, 8, 8), 4, 1, 4);
  expect(SpanOf(4, 64, 8), 4, 1, 4);
  expect(SpanOf(3, 12, 8), 3, 1, 3);  // ranks 0, 12, 24 on nodes 0, 1, 3
  // Uneven: ranks 0, 4, 8 touch floor(8 / 8) + 1 = 2 nodes; ranks_per_node = ceil(3 / 2) = 2
  // (the documented summary of a 2 + 1 split).
  expect(SpanOf(3, 4, 8), 3, 2, 2);
}

}  // namespace
}  // namespace foresight::hw
