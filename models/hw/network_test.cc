// Topology, placement, collective algorithms and their flow decomposition (issue 3).
// Every expectation is derived by hand in the comment next to it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "models/hw/algorithms.h"
#include "models/hw/comm_pricer.h"
#include "models/hw/hardware.h"
#include "models/hw/placement.h"
#include "models/hw/topology.h"

namespace foresight::hw {
namespace {

using ::testing::HasSubstr;

// A toy profile: `gpus` GPUs per node, NVLink busbw 100e9 B/s (alpha 5 us), NIC share busbw
// 10e9 B/s (alpha 20 us), PCIe 1e12 B/s (never the bottleneck), nics_per_node = `nics`.
std::string ToyYaml(int gpus, int nics, const std::string& fabric = "") {
  return "name: toy\n"
         "gpu: {name: toy, peak_flops_per_s: {fp32: 1e12, tf32: 2e12, bf16: 4e12, fp16: 4e12},\n"
         "      memory_bytes: 1000000000, hbm_bandwidth_bytes_per_s: 1e12, sm_count: 4}\n"
         "node:\n"
         "  gpus_per_node: " +
         std::to_string(gpus) +
         "\n"
         "  scale_up: {bandwidth_bytes_per_s: 100e9, latency_seconds: 5e-6}\n"
         "  pcie: {bandwidth_bytes_per_s: 1e12}\n"
         "network:\n"
         "  nics_per_node: " +
         std::to_string(nics) +
         "\n"
         "  nic: {bandwidth_bytes_per_s: 10e9, latency_seconds: 20e-6}\n" +
         fabric;
}

HardwareProfile Toy(int gpus, int nics, const std::string& fabric = "") {
  Result<HardwareProfile> hw = ParseHardware(ToyYaml(gpus, nics, fabric), "toy.yaml");
  EXPECT_TRUE(hw.ok()) << hw.error().ToString();
  return *hw;
}

Error FabricError(const std::string& fabric) {
  Result<HardwareProfile> hw = ParseHardware(ToyYaml(8, 8, fabric), "toy.yaml");
  EXPECT_FALSE(hw.ok());
  return hw.ok() ? Error{} : hw.error();
}

// ---- analytical algorithms -------------------------------------------------------------

TEST(NetworkTest, RingAllReduceOnUniformRingMatchesClosedForm) {
  // n = 8 on one node, S = 1 GiB, B = 100e9, alpha = 5 us. Simple protocol (LL128 pays
  // 1/0.9375 on 17.5 ms of bytes, more than it saves in latency):
  //   2(n-1)/n * S / B + 2(n-1) * alpha + base(ring, Simple)
  //   = 1.75 * 1073741824 / 1e11 + 14 * 5e-6 + 8.4e-6 = 0.018790480920 s.
  const HardwareProfile hw = Toy(8, 8);
  const double s = 1073741824.0;
  Result<Pricing> p =
      PriceCollective(hw, NetOp::kAllReduce, s, GroupSpan{8, 8, 1}, Algorithm::kRing);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->protocol, Protocol::kSimple);
  EXPECT_NEAR(p->seconds(), 1.75 * s / 1e11 + 14 * 5e-6 + 8.4e-6, 1e-12);

  // The flow model on the same node: each GPU sends 1.75 S to the next over its own NVSwitch
  // port (no sharing), after the same latency: equal to within a picosecond.
  Result<Topology> topo = BuildTopology(hw, 1);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  Result<Pricing> f =
      FlowCollective(hw, *topo, NetOp::kAllReduce, s, {{0, 1, 2, 3, 4, 5, 6, 7}}, Algorithm::kRing);
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->seconds(), p->seconds(), 2e-12);
}

TEST(NetworkTest, SmallMessagesPickLowLatencyProtocol) {
  // 8 bytes on 8 ranks: bytes are negligible; ring latency per protocol is
  // base + 14 * 5 us * ratio: LL 6.6 + 14 * 5 * 0.6/3.4 = 18.95 us; LL128 14 + 39.1 = 53.1 us;
  // Simple 8.4 + 70 = 78.4 us. Auto picks ring/LL.
  const HardwareProfile hw = Toy(8, 8);
  Result<Pricing> p = PriceCollective(hw, NetOp::kAllReduce, 8, GroupSpan{8, 8, 1});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->algorithm, Algorithm::kRing);
  EXPECT_EQ(p->protocol, Protocol::kLL);
  EXPECT_NEAR(p->latency_seconds, 6.6e-6 + 14 * 5e-6 * 0.6 / 3.4, 1e-12);
}

TEST(NetworkTest, RingRampFlattensTheBytesTermOfSmallRings) {
  // Ramp min(1, S / (n * r)) with r = 1 MiB per rank on n = 8 ranks: full from 8 MiB.
  //   S = 2 MiB -> 0.25; S = 8 MiB and 1 GiB -> 1; r = 0 -> 1 (not modelled).
  EXPECT_DOUBLE_EQ(RingRamp(2097152, 8, 1048576), 0.25);
  EXPECT_DOUBLE_EQ(RingRamp(8388608, 8, 1048576), 1.0);
  EXPECT_DOUBLE_EQ(RingRamp(1073741824.0, 8, 1048576), 1.0);
  EXPECT_DOUBLE_EQ(RingRamp(1024, 8, 0), 1.0);

  // Priced: toy node (B = 100e9, alpha = 5 us), ring all-reduce of S = 4 MiB on 8 ranks with
  // r = 1 MiB (ramp 0.5; LL and LL128 ramp alike). Bytes term without protocol factor:
  // 1.75 * 4194304 / 1e11 / 0.5 = 146.80064 us.
  //   LL:     6.6 + 70 * 0.6/3.4 + 146.80064 / 0.5    = 312.55 us
  //   LL128: 14.0 + 70 * 1.9/3.4 + 146.80064 / 0.9375 = 209.70 us
  //   Simple: 8.4 + 70           + 146.80064          = 225.20 us  -> auto picks LL128.
  HardwareProfile hw = Toy(8, 8);
  hw.fabric.ring_ramp_bytes_per_rank = 1048576;
  Result<Pricing> p =
      PriceCollective(hw, NetOp::kAllReduce, 4194304, GroupSpan{8, 8, 1}, Algorithm::kRing);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->protocol, Protocol::kLL128);
  EXPECT_NEAR(p->seconds(), 14e-6 + 70e-6 * 1.9 / 3.4 + 1.75 * 4194304 / 1e11 / 0.5 / 0.9375,
              1e-12);
  // At 1 GiB the ramp is 1: the closed form of the uniform ring (first test) again.
  p = PriceCollective(hw, NetOp::kAllReduce, 1073741824.0, GroupSpan{8, 8, 1}, Algorithm::kRing);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->seconds(), 1.75 * 1073741824.0 / 1e11 + 14 * 5e-6 + 8.4e-6, 1e-12);
}

TEST(NetworkTest, TreeBeatsRingAtSmallSizesAcrossManyNodes) {
  // 64 nodes, 1 rank each: ring LL latency 6.6 us + 126 * 20 us * 0.6/3.4 = 451.3 us;
  // tree LL latency 6.8 us + 2 * 6 * 20 us * 0.6/3.4 = 49.2 us. Auto picks tree.
  const HardwareProfile hw = Toy(8, 8);
  Result<Pricing> p = PriceCollective(hw, NetOp::kAllReduce, 1024, GroupSpan{64, 1, 64});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->algorithm, Algorithm::kTree);
  EXPECT_NEAR(p->latency_seconds, 6.8e-6 + 2 * 6 * 20e-6 * 0.6 / 3.4, 1e-12);
}

TEST(NetworkTest, TreeFillIsStagesTimesOneStageOfBytes) {
  // 22 stages of min(S, F) = 8 MiB at 4e11 B/s: 22 * 8388608 / 4e11 = 461.373 us; a 1 MiB
  // message fills its stages with itself: 22 * 1048576 / 4e11 = 57.672 us; F = 0: not modelled.
  EXPECT_DOUBLE_EQ(TreeFillSeconds(33554432, 22, 8388608, 4e11), 22 * 8388608 / 4e11);
  EXPECT_DOUBLE_EQ(TreeFillSeconds(1048576, 22, 8388608, 4e11), 22 * 1048576 / 4e11);
  EXPECT_DOUBLE_EQ(TreeFillSeconds(33554432, 22, 0, 4e11), 0.0);
}

TEST(NetworkTest, TreeAcrossNodesPaysItsPipelineFillAndTheBusiestNodesVolume) {
  // 4 nodes x 8 GPUs (toy: B_up = 1e11, B_nic = 1e10 per GPU, 8 NICs; alpha 5 / 20 us),
  // S = 64 MiB, tree_pipeline_bytes F = 8 MiB. depth = ceil(log2 4) = 2; stages
  // 2 * (depth + p - 1) = 18; B_ring = min(1e11, 8 * 1e10) = 8e10.
  //   bytes: max(2(n-1)/n S / B_up, 2 S / (p B_nic)) = max(1300.2, 1677.7 us) = 1677.7 us
  //          (a node interior in one of the two trees sends twice the data it reduces);
  //   per protocol (bytes and fill / bw(P), latency steps 2 * (2 * 20 + 7 * 5) us * lat(P)):
  //     Simple: 0 + 150 * 28/3.4 = 1235.3 + fill 18 * 8 MiB / 8e10 = 1887.4 + 1677.7 = 4800 us
  //     LL128: 14 + 150 * 1.25/3.4 = 69.1 + 1887.4/0.9375 + 1677.7/0.9375 = 3872 us
  //     LL:   6.8 + 150 * 0.6/3.4 = 33.3 + 1887.4/0.5 + 1677.7/0.5 = 7164 us  -> LL128.
  HardwareProfile hw = Toy(8, 8);
  hw.fabric.tree_pipeline_bytes = 8388608;
  const double s = 67108864;
  Result<Pricing> p =
      PriceCollective(hw, NetOp::kAllReduce, s, GroupSpan{32, 8, 4}, Algorithm::kTree);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->protocol, Protocol::kLL128);
  EXPECT_NEAR(p->latency_seconds,
              14e-6 + 2 * (2 * 20e-6 + 7 * 5e-6) * 1.25 / 3.4 + 18 * 8388608 / (8e10 * 0.9375),
              1e-12);
  EXPECT_NEAR(p->bytes_seconds, 2 * s / (8e10 * 0.9375), 1e-12);
  // Two nodes: each node sends its half up one tree and down the other, once the data it
  // reduces: max(1.875 S / 1e11, 1 * S / 8e10) -> the NVLink chain bounds it, 1.875 S / 1e11.
  hw.fabric.tree_pipeline_bytes = 0;
  p = PriceCollective(hw, NetOp::kAllReduce, 1e9, GroupSpan{16, 8, 2}, Algorithm::kTree);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->bytes_seconds,
              1.875e9 / (1e11 * (p->protocol == Protocol::kSimple ? 1.0 : 0.9375)), 1e-12);
  EXPECT_NE(p->protocol, Protocol::kLL);
}

TEST(NetworkTest, NvlsTreeAcrossNodesIsATreeBetweenNodes) {
  // 4 nodes x 8 GPUs, NVLS at 1e11 * 0.8, S = 1e9, F = 8 MiB. Latency: 2 * 5 us * 25/3.4
  // (NVLS in the node) + 2 * depth * alpha_nic = 2 * 2 * 20 us (NCCL's NVLS-tree:
  // 2 * log2(nNodes) * interLat) + fill 2 * (depth + 1) = 6 stages * 8 MiB / 8e10 = 629.1 us.
  // Bytes: max(S / 8e10 = 12.5 ms, tree volume 2 S / (8 * 1e10) = 25 ms) = 25 ms.
  HardwareProfile hw = Toy(8, 8, "fabric: {nvls: true, nvls_efficiency: 0.8}\n");
  hw.fabric.tree_pipeline_bytes = 8388608;
  Result<Pricing> p =
      PriceCollective(hw, NetOp::kAllReduce, 1e9, GroupSpan{32, 8, 4}, Algorithm::kNvls);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->latency_seconds, 2 * 5e-6 * 25 / 3.4 + 4 * 20e-6 + 6 * 8388608 / 8e10, 1e-12);
  EXPECT_NEAR(p->bytes_seconds, 2e9 / 8e10, 1e-12);
}

TEST(NetworkTest, P2pChannelsFollowNcclsPerPeerRules) {
  // DGX H100: NIC 50 GB/s per GPU, 8 NICs. Per network peer NCCL starts from
  // ceil(50 / 14) = 4 channels; p2p channels P = pow2Up(2 * 8) = 16; halved while
  // c * ceil(ranks / 8) > 16: 16 ranks: 4 * 2 = 8 -> 4; 80 ranks: 4 * 10 = 40 -> 2 * 10 = 20 -> 1.
  Result<HardwareProfile> h100 = LoadHardware("dgx-h100");
  ASSERT_TRUE(h100.ok());
  EXPECT_EQ(P2pNetChannelsPerPeer(*h100, 16), 4);
  EXPECT_EQ(P2pNetChannelsPerPeer(*h100, 80), 1);
  EXPECT_EQ(P2pNetChannelsPerPeer(*h100, 8), 4);
  // One send inside an 8-GPU node (per peer 32, total 32, chunk 512 KiB): the start count is
  // 32 halved until 8 * c <= 32, i.e. 4; it doubles while bytes per channel exceed 32 * 512 KiB
  // = 16 MiB: 32 MiB -> 4, 64 MiB -> 4, 128 MiB -> 8, 256 MiB -> 16, 512 MiB and 1 GiB -> 32.
  const double kib = 1024, mib = 1024 * kib;
  EXPECT_EQ(P2pChannelsForSend(32 * mib, 32, 32, 8, 512 * kib, false), 4);
  EXPECT_EQ(P2pChannelsForSend(64 * mib, 32, 32, 8, 512 * kib, false), 4);
  EXPECT_EQ(P2pChannelsForSend(128 * mib, 32, 32, 8, 512 * kib, false), 8);
  EXPECT_EQ(P2pChannelsForSend(256 * mib, 32, 32, 8, 512 * kib, false), 16);
  EXPECT_EQ(P2pChannelsForSend(512 * mib, 32, 32, 8, 512 * kib, false), 32);
  EXPECT_EQ(P2pChannelsForSend(1024 * mib, 32, 32, 8, 512 * kib, false), 32);
  // Across nodes (chunk 128 KiB: max part 128 KiB): 16 ranks, per peer 4, total 16: start 1
  // (4 * 16 > 16, 2 * 16 > 16), then 2, 4 while 64 MiB / c > 128 KiB; 80 ranks, per peer 1: 1.
  EXPECT_EQ(P2pChannelsForSend(64 * mib, 4, 16, 16, 128 * kib, true), 4);
  EXPECT_EQ(P2pChannelsForSend(64 * mib, 1, 16, 80, 128 * kib, true), 1);
}

TEST(NetworkTest, SendRecvRunsOnItsP2pChannels) {
  // Toy node (B_up = 1e11, alpha 5 us), NVLink p2p channel 1e10 B/s, 8 ranks on one node:
  // 64 MiB on 4 channels: min(1e11, 4e10) -> 67108864 / 4e10 = 1677.7 us; 128 MiB on 8
  // channels: 134217728 / 8e10 = the same 1677.7 us (the plateau); 512 MiB on 32 channels is
  // link bound: 536870912 / 1e11. Latency base(Simple) 8.4 us + alpha 5 us.
  HardwareProfile hw = Toy(8, 8);
  hw.fabric.p2p_nvlink_channel_bytes_per_s = 1e10;
  const GroupSpan node{8, 8, 1};
  Result<Pricing> p = PriceCollective(hw, NetOp::kSendRecv, 67108864, node);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->bytes_seconds, 67108864 / 4e10, 1e-12);
  EXPECT_NEAR(p->latency_seconds, 8.4e-6 + 5e-6, 1e-12);
  p = PriceCollective(hw, NetOp::kSendRecv, 134217728, node);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->bytes_seconds, 134217728 / 8e10, 1e-12);
  p = PriceCollective(hw, NetOp::kSendRecv, 536870912, node);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->bytes_seconds, 536870912 / 1e11, 1e-12);
  // Across 10 nodes (80 ranks): the toy NIC (10 GB/s) gets ceil(10 / 14) = 1 channel per peer;
  // with a 4e9 B/s channel: 1e9 / min(1e10, 4e9) = 0.25 s; latency 8.4 + 20 us.
  hw.fabric.p2p_channel_bytes_per_s = 4e9;
  p = PriceCollective(hw, NetOp::kSendRecv, 1e9, GroupSpan{80, 8, 10});
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->bytes_seconds, 0.25, 1e-12);
  EXPECT_NEAR(p->latency_seconds, 8.4e-6 + 20e-6, 1e-12);
}

TEST(NetworkTest, LaunchCostIsPaidOncePerCollective) {
  // The uniform ring of the first test (1 GiB on 8 ranks: 1.75 S / 1e11 + 14 * 5 us + 8.4 us)
  // plus a 10 us launch cost, once; send/recv (64 MiB on one node: S / 1e11 + 8.4 + 5 us) too.
  HardwareProfile hw = Toy(8, 8);
  hw.fabric.collective_launch_seconds = 10e-6;
  const double s = 1073741824.0;
  Result<Pricing> p = PriceCollective(hw, NetOp::kAllReduce, s, GroupSpan{8, 8, 1});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->algorithm, Algorithm::kRing);
  EXPECT_NEAR(p->seconds(), 1.75 * s / 1e11 + 14 * 5e-6 + 8.4e-6 + 10e-6, 1e-12);
  p = PriceCollective(hw, NetOp::kSendRecv, 67108864, GroupSpan{8, 8, 1});
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->seconds(), 67108864 / 1e11 + 8.4e-6 + 5e-6 + 10e-6, 1e-12);
}

TEST(NetworkTest, NvlsNeedsTheFabricFlagAndHalvesTraffic) {
  const HardwareProfile plain = Toy(8, 8);
  Result<Pricing> refused =
      PriceCollective(plain, NetOp::kAllReduce, 1e9, GroupSpan{8, 8, 1}, Algorithm::kNvls);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("fabric.nvls is false"));
  // With NVLS each GPU moves S once each way at line * nvls_efficiency = 1e11 * 0.8:
  // 1e9 / 8e10 = 12.5 ms, latency 2 * 5 us * 25/3.4; the ring would need 1.75 * 10 ms.
  // Auto picks NVLS for 1 GB.
  const HardwareProfile hw = Toy(8, 8, "fabric: {nvls: true, nvls_efficiency: 0.8}\n");
  Result<Pricing> p = PriceCollective(hw, NetOp::kAllReduce, 1e9, GroupSpan{8, 8, 1});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->algorithm, Algorithm::kNvls);
  EXPECT_NEAR(p->seconds(), 1e9 / 8e10 + 2 * 5e-6 * 25 / 3.4, 1e-12);
  // The flow model: S * (1 / 0.8) bytes on each GPU's 1e11 B/s NVSwitch port: the same.
  Result<Topology> topo = BuildTopology(hw, 1);
  ASSERT_TRUE(topo.ok());
  Result<Pricing> f = FlowCollective(hw, *topo, NetOp::kAllReduce, 1e9, {{0, 1, 2, 3, 4, 5, 6, 7}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->algorithm, Algorithm::kNvls);
  EXPECT_NEAR(f->seconds(), p->seconds(), 2e-12);
}

// ---- flow decomposition ------------------------------------------------------------------

TEST(NetworkTest, HierarchicalDecompositionVolumes) {
  // 2 nodes x 4 GPUs, S = 1e9. Phase 1: a 4-ring per node, (p-1)/p S = 0.75e9 per flow
  // (8 flows); phase 2: p = 4 inter-node rings of 2 ranks, 2 (N-1)/N S / p = 0.25e9 per flow
  // (8 flows); phase 3: as phase 1 (8 flows). 24 flows carry bytes, 0.75e9 * 16 + 0.25e9 * 8
  // = 14e9 bytes in all.
  const HardwareProfile hw = Toy(4, 4);
  Result<Topology> topo = BuildTopology(hw, 2);
  ASSERT_TRUE(topo.ok());
  Result<Pricing> price =
      PriceCollective(hw, NetOp::kAllReduce, 1e9, GroupSpan{8, 4, 2}, Algorithm::kHierarchical);
  ASSERT_TRUE(price.ok());
  const auto flows = FlowsFor(*topo, NetOp::kAllReduce, 1e9, *price, {{0, 1, 2, 3, 4, 5, 6, 7}});
  int with_bytes = 0, big = 0, small = 0;
  double total = 0;
  for (const auto& f : flows) {
    if (f.bytes == 0) continue;
    ++with_bytes;
    total += f.bytes;
    if (f.bytes == 0.75e9) ++big;
    if (f.bytes == 0.25e9) ++small;
  }
  EXPECT_EQ(with_bytes, 24);
  EXPECT_EQ(big, 16);
  EXPECT_EQ(small, 8);
  EXPECT_DOUBLE_EQ(total, 14e9);
  // On idle links the phases run back to back: 0.75e9 / 1e11 + 0.25e9 / 1e10 + 0.75e9 / 1e11
  // = 40 ms of bytes, the analytical hierarchical bytes term.
  Result<Pricing> f = FlowCollective(hw, *topo, NetOp::kAllReduce, 1e9, {{0, 1, 2, 3, 4, 5, 6, 7}},
                                     Algorithm::kHierarchical);
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->bytes_seconds, 0.040, 1e-9);
  EXPECT_NEAR(price->bytes_seconds, 0.040, 1e-12);
}

TEST(NetworkTest, ConcurrentGroupsShareOneNic) {
  // 2 nodes x 8 GPUs with ONE NIC per node (gpus_per_nic = 8, NIC line 8 * 10e9 = 80e9).
  // One 2-rank all-reduce group (GPUs 0 and 8): ring flows 0->8 and 8->0 of 2 (1/2) S = S
  // each, alone on the NIC: S / 80e9. Eight such groups (local GPU j with j + 8) at once:
  // 8 flows per direction share 80e9 max-min fairly, 10e9 each: S / 10e9, 8x slower.
  const HardwareProfile hw = Toy(8, 1);
  Result<Topology> topo = BuildTopology(hw, 2);
  ASSERT_TRUE(topo.ok());
  const double s = 1e9;
  Result<Pricing> alone =
      FlowCollective(hw, *topo, NetOp::kAllReduce, s, {{0, 8}}, Algorithm::kRing);
  std::vector<std::vector<std::int64_t>> groups;
  for (std::int64_t j = 0; j < 8; ++j) groups.push_back({j, j + 8});
  Result<Pricing> shared =
      FlowCollective(hw, *topo, NetOp::kAllReduce, s, groups, Algorithm::kRing);
  ASSERT_TRUE(alone.ok() && shared.ok());
  EXPECT_NEAR(alone->bytes_seconds, s / 80e9, 1e-9);
  EXPECT_NEAR(shared->bytes_seconds, s / 10e9, 1e-9);
}

TEST(NetworkTest, OversubscribedSpineSlowsCrossLeafTraffic) {
  // 2 nodes, 1 GPU and 1 NIC each (10e9), one node per leaf, oversubscription 4: each leaf's
  // uplink is 10e9 / 4 = 2.5e9. A send/recv ring of 2 (S each way) crosses the spine:
  // S / 2.5e9 instead of S / 10e9.
  const HardwareProfile hw =
      Toy(1, 1, "fabric: {topology: fat_tree, nodes_per_leaf: 1, oversubscription: 4}\n");
  Result<Topology> topo = BuildTopology(hw, 2);
  ASSERT_TRUE(topo.ok());
  EXPECT_EQ(topo->Route(0, 1).size(), 8u);  // gpu-pcie-nic-leaf-spine-leaf-nic-pcie-gpu
  Result<Pricing> f = FlowCollective(hw, *topo, NetOp::kSendRecv, 1e9, {{0, 1}});
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->bytes_seconds, 1e9 / 2.5e9, 1e-9);
}

// ---- topology --------------------------------------------------------------------------

TEST(NetworkTest, RailOptimizedRoutes) {
  // 4 nodes x 8 GPUs, 8 NICs, 2 nodes per leaf: leaves (rail k, group j), 8 rails x 2 groups.
  const HardwareProfile hw = Toy(8, 8, "fabric: {nodes_per_leaf: 2}\n");
  Result<Topology> topo = BuildTopology(hw, 4);
  ASSERT_TRUE(topo.ok());
  EXPECT_EQ(topo->Route(0, 1).size(), 2u);   // same node: GPU -> NVSwitch -> GPU
  EXPECT_EQ(topo->Route(0, 8).size(), 6u);   // node 0 -> node 1, rail 0, same leaf
  EXPECT_EQ(topo->Route(0, 9).size(), 8u);   // rail 0 -> rail 1: up to the spine
  EXPECT_EQ(topo->Route(0, 16).size(), 8u);  // rail 0, group 0 -> group 1: spine
  // Vertices: per node 8 GPUs + 1 NVSwitch + 8 PCIe switches + 8 NICs = 25; 16 leaves and
  // 1 spine: 4 * 25 + 17 = 117.
  EXPECT_EQ(boost::num_vertices(topo->graph()), 117u);
  // Leaf uplink = 2 NICs * 10e9 / 1 = 20e9; NIC edge 10e9; NVLink edge 100e9.
  const auto path = topo->Route(0, 9);
  EXPECT_DOUBLE_EQ(topo->Capacities()[path[2]], 10e9);  // NIC -> leaf
  EXPECT_DOUBLE_EQ(topo->Capacities()[path[3]], 20e9);  // leaf -> spine
}

TEST(NetworkTest, ThreeTierFatTreeCrossesTheCore) {
  // 4 nodes, 1 NIC each, fat tree, 1 node per leaf, 2 leaves per pod: nodes 0,1 in pod 0.
  const HardwareProfile hw =
      Toy(1, 1, "fabric: {topology: fat_tree, tiers: 3, nodes_per_leaf: 1, leaves_per_pod: 2}\n");
  Result<Topology> topo = BuildTopology(hw, 4);
  ASSERT_TRUE(topo.ok());
  EXPECT_EQ(topo->Route(0, 1).size(), 8u);   // leaf - spine(pod 0) - leaf
  EXPECT_EQ(topo->Route(0, 2).size(), 10u);  // leaf - spine - core - spine - leaf
}

TEST(NetworkTest, GpusSharingANic) {
  // 8 GPUs, gpus_per_nic 2: 4 NICs per node at 2 * 10e9 = 20e9 line rate.
  const HardwareProfile hw = Toy(8, 4, "fabric: {gpus_per_nic: 2}\n");
  Result<Topology> topo = BuildTopology(hw, 2);
  ASSERT_TRUE(topo.ok());
  const auto a = topo->Route(0, 8);
  const auto b = topo->Route(1, 9);
  EXPECT_EQ(a[1], b[1]);  // the same PCIe switch -> NIC edge
  EXPECT_DOUBLE_EQ(topo->Capacities()[a[1]], 20e9);
  EXPECT_NE(topo->Route(2, 10)[1], a[1]);  // GPU 2 uses NIC 1
}

// ---- placement ---------------------------------------------------------------------------

TEST(NetworkTest, MegatronPlacementOfASmallWorld) {
  // tp = 2, dp = 2, pp = 2, order tp-cp-ep-dp-pp: r = tp + 2 dp + 4 pp.
  Result<Placement> p = MakePlacement({.tp = 2, .cp = 1, .ep = 1, .dp = 2, .pp = 2});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->world(), 8);
  using G = std::vector<std::vector<std::int64_t>>;
  EXPECT_EQ(p->Groups(ParallelDim::kTp), (G{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(p->Groups(ParallelDim::kDp), (G{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(p->Groups(ParallelDim::kPp), (G{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(p->Groups(ParallelDim::kCp), (G{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}}));
  EXPECT_EQ(p->Coordinate(7, ParallelDim::kPp), 1);
  // DP-first order: r = dp + 2 tp + 4 pp.
  Result<Placement> q =
      MakePlacement({.tp = 2, .cp = 1, .ep = 1, .dp = 2, .pp = 2}, "dp-tp-cp-ep-pp");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->Groups(ParallelDim::kDp), (G{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(q->Groups(ParallelDim::kTp), (G{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  // tp = 4, dp = 4 on 8-GPU nodes: each DP group {j, j+4, j+8, j+12} spans 2 nodes, 2 per node.
  Result<Placement> r = MakePlacement({.tp = 4, .cp = 1, .ep = 1, .dp = 4, .pp = 1});
  ASSERT_TRUE(r.ok());
  const auto dp = r->Groups(ParallelDim::kDp);
  EXPECT_EQ(dp[1], (std::vector<std::int64_t>{1, 5, 9, 13}));
  const GroupSpan span = SpanOfGroup(dp[1], 8);
  EXPECT_EQ(span.size, 4);
  EXPECT_EQ(span.nodes, 2);
  EXPECT_EQ(span.ranks_per_node, 2);
}

TEST(NetworkTest, MegatronGradientAndExpertDataParallelGroups) {
  // tp = 2, cp = 2, ep = 2, dp = 2 (the user's dp 4 with ep carved out), pp = 1: 16 ranks,
  // r = tp + 2 cp + 4 ep + 8 dp. The dense gradient group {cp, ep, dp} is dp*cp = 8 ranks at
  // stride tp = 2; the expert-data-parallel group {cp, dp} is dp*cp/ep = 4 ranks: cp at
  // stride 2, dp at stride 8 (plan/parallel.h ExpertDataParallelSpan).
  using G = std::vector<std::vector<std::int64_t>>;
  Result<Placement> p = MakePlacement({.tp = 2, .cp = 2, .ep = 2, .dp = 2, .pp = 1});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Groups({ParallelDim::kCp, ParallelDim::kEp, ParallelDim::kDp}),
            (G{{0, 2, 4, 6, 8, 10, 12, 14}, {1, 3, 5, 7, 9, 11, 13, 15}}));
  EXPECT_EQ(p->Groups({ParallelDim::kCp, ParallelDim::kDp}),
            (G{{0, 2, 8, 10}, {1, 3, 9, 11}, {4, 6, 12, 14}, {5, 7, 13, 15}}));
  EXPECT_EQ(p->Groups({ParallelDim::kEp}), p->Groups(ParallelDim::kEp));
}

TEST(NetworkTest, FlowPricerPlacesExpertGroupsAcrossAnOversubscribedLeaf) {
  // 2 nodes x 2 GPUs, one NIC per node shared by both GPUs (line 2 * 10e9 = 20e9), one node per
  // leaf, oversubscription 4: each leaf uplink carries 20e9 / 4 = 5e9. tp = 1, cp = 2, ep = 2,
  // dp = 1 (user's dp 2), pp = 1: r = cp + 2 ep, so the EP groups (stride tp*cp = 2) are
  // {0, 2} and {1, 3}: both cross the leaves. An all-to-all of S = 1e9 B per rank in a group
  // of 2 sends S/2 each way. Alone, flow 0 -> 2 gets the 5e9 uplink: 0.1 s. Both groups at
  // once: 0 -> 2 and 1 -> 3 share node 0's NIC and uplink: 2.5e9 each, 0.5e9 / 2.5e9 = 0.2 s.
  const HardwareProfile hw =
      Toy(2, 1, "fabric: {topology: fat_tree, nodes_per_leaf: 1, oversubscription: 4}\n");
  NetworkConfig flow;
  flow.model = "flow";
  const ParallelSizes sizes{.tp = 1, .cp = 2, .ep = 2, .dp = 1, .pp = 1};
  Result<std::shared_ptr<const CommPricer>> pricer = MakeCommPricer(hw, flow, 2, 2, sizes);
  ASSERT_TRUE(pricer.ok()) << pricer.error().ToString();
  const double s = 1e9;
  const GroupSpan ep_span{2, 1, 2};  // SpanOf(ep = 2, stride tp*cp = 2, 2 GPUs per node)
  Result<Pricing> analytical = PriceCollective(hw, NetOp::kAllToAll, s, ep_span);
  ASSERT_TRUE(analytical.ok());
  const double latency = analytical->latency_seconds;
  EXPECT_NEAR((*pricer)->Seconds(CollectiveOp::kAllToAll, s, GroupKind::kEp, ep_span) - latency,
              0.2, 1e-9);
  // The same groups one at a time (FlowCollective of group {0, 2} alone): 0.1 s.
  Result<Topology> topo = BuildTopology(hw, 2);
  ASSERT_TRUE(topo.ok());
  Result<Pricing> alone = FlowCollective(hw, *topo, NetOp::kAllToAll, s, {{0, 2}});
  ASSERT_TRUE(alone.ok());
  EXPECT_NEAR(alone->bytes_seconds, 0.1, 1e-9);
  // The CP groups {0, 1}, {2, 3} stay on NVLink (100e9): a send_recv ring of 2 moves S each
  // way, S / 100e9 = 0.01 s, unaffected by the fabric.
  const GroupSpan cp_span{2, 2, 1};
  Result<Pricing> cp_analytical = PriceCollective(hw, NetOp::kSendRecv, s, cp_span);
  ASSERT_TRUE(cp_analytical.ok());
  EXPECT_NEAR((*pricer)->Seconds(CollectiveOp::kSendRecv, s, GroupKind::kCp, cp_span) -
                  cp_analytical->latency_seconds,
              0.01, 1e-9);
  // Expert data parallel {cp, dp}: dp*cp/ep = 2 ranks, the same groups {0, 1}, {2, 3} as CP,
  // so any collective costs what it costs on the CP groups.
  EXPECT_DOUBLE_EQ((*pricer)->Seconds(CollectiveOp::kAllReduce, s, GroupKind::kEdp, cp_span),
                   (*pricer)->Seconds(CollectiveOp::kAllReduce, s, GroupKind::kCp, cp_span));
  // A span the placement cannot match (ep groups of 4 requested) falls back to the closed form
  // (another size: results are cached by op, bytes and kind, the compiler's span being fixed).
  const GroupSpan wrong{4, 2, 2};
  EXPECT_DOUBLE_EQ((*pricer)->Seconds(CollectiveOp::kAllToAll, 2 * s, GroupKind::kEp, wrong),
                   CollectiveSeconds(hw, CollectiveOp::kAllToAll, 2 * s, wrong));
}

TEST(NetworkTest, BadPlacementOrders) {
  const ParallelSizes sizes{.tp = 2, .cp = 1, .ep = 1, .dp = 2, .pp = 1};
  EXPECT_THAT(MakePlacement(sizes, "tp-dp").error().message, HasSubstr("names 2 dimensions"));
  EXPECT_THAT(MakePlacement(sizes, "tp-tp-cp-ep-dp").error().message, HasSubstr("twice"));
  EXPECT_THAT(MakePlacement(sizes, "tp-cp-ep-dp-xx").error().message,
              HasSubstr("unknown dimension 'xx'"));
  EXPECT_THAT(MakePlacement({.tp = 0}, "tp-cp-ep-dp-pp").error().message,
              HasSubstr("tp size must be >= 1"));
}

// ---- fabric schema -----------------------------------------------------------------------

TEST(NetworkTest, FittedFabricParametersLoadFromYaml) {
  // The five parameters validate-collectives fits can be written into a profile.
  const HardwareProfile hw = Toy(8, 8,
                                 "fabric:\n  ring_ramp_bytes_per_rank: 524288\n"
                                 "  tree_pipeline_bytes: 8388608\n"
                                 "  p2p_channel_bytes_per_s: 1.6e10\n"
                                 "  p2p_nvlink_channel_bytes_per_s: 2.06e10\n"
                                 "  collective_launch_seconds: 2.5e-6\n");
  EXPECT_EQ(hw.fabric.ring_ramp_bytes_per_rank, 524288);
  EXPECT_EQ(hw.fabric.tree_pipeline_bytes, 8388608);
  EXPECT_EQ(hw.fabric.p2p_channel_bytes_per_s, 1.6e10);
  EXPECT_EQ(hw.fabric.p2p_nvlink_channel_bytes_per_s, 2.06e10);
  EXPECT_EQ(hw.fabric.collective_launch_seconds, 2.5e-6);
  // A 64 MiB send/recv inside the node: 4 NVLink p2p channels (P2pChannelsForSend, 8 ranks)
  // at 2.06e10 each = 8.24e10 B/s < the toy's 1e11 link: 67108864 / 8.24e10 s.
  Result<Pricing> p = PriceCollective(hw, NetOp::kSendRecv, 67108864, GroupSpan{8, 8, 1});
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->bytes_seconds, 67108864 / 8.24e10, 1e-12);
}

TEST(NetworkTest, MalformedFabricRejected) {
  // The fabric section starts on line 11 of ToyYaml.
  Error e = FabricError("fabric:\n  tiers: 4\n");
  EXPECT_THAT(e.ToString(), HasSubstr("toy.yaml:12:10"));
  EXPECT_THAT(e.message, HasSubstr("fabric.tiers must be 2 (leaf, spine) or 3"));
  e = FabricError("fabric:\n  topology: torus\n");
  EXPECT_THAT(e.message, HasSubstr("expected one of rail_optimized, fat_tree, found 'torus'"));
  e = FabricError("fabric:\n  oversubscription: 0.5\n");
  EXPECT_THAT(e.message, HasSubstr("fabric.oversubscription must be >= 1, found 0.5"));
  e = FabricError("fabric:\n  gpus_per_nic: 3\n");
  EXPECT_THAT(e.message, HasSubstr("fabric.gpus_per_nic must divide node.gpus_per_node (8)"));
  e = FabricError("fabric:\n  nvls: yes\n");
  EXPECT_THAT(e.message, HasSubstr("fabric.nvls: expected true or false"));
  e = FabricError("fabric:\n  nvls_efficiency: 1.5\n");
  EXPECT_THAT(e.message, HasSubstr("fabric.nvls_efficiency must be in (0, 1], found 1.5"));
  e = FabricError("fabric:\n  tree_pipeline_bytes: -1\n");
  EXPECT_THAT(e.message, HasSubstr("fabric.tree_pipeline_bytes must be >= 0, found -1"));
  e = FabricError("fabric:\n  spines: 4\n");
  EXPECT_THAT(e.message, HasSubstr("spines"));
  EXPECT_THAT(e.message, HasSubstr("oversubscription"));  // the valid keys are listed
  // A topology the builder cannot derive the NIC sharing of.
  const HardwareProfile odd = Toy(8, 3);
  EXPECT_THAT(BuildTopology(odd, 2).error().message,
              HasSubstr("cannot derive fabric.gpus_per_nic"));
}

}  // namespace
}  // namespace foresight::hw
