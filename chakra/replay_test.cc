#include "chakra/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "chakra/internal/test_util.h"
#include "chakra/replay_report.h"
#include "models/hw/hardware.h"

namespace foresight::chakra {
namespace {

using ::testing::HasSubstr;
using testing::MakeNode;
using testing::MakeTrace;

hw::HardwareProfile H100() {
  Result<hw::HardwareProfile> hw = hw::LoadHardware("dgx-h100");
  EXPECT_TRUE(hw.ok());
  return *hw;
}

Result<ReplayResult> ReplayTraces(std::vector<RankTrace> traces, const ReplayOptions& options,
                                  std::vector<RankGraph>* keep = nullptr) {
  std::vector<RankGraph> graphs;
  for (RankTrace& t : traces) {
    Result<RankGraph> g = BuildRankGraph(std::move(t));
    if (!g.ok()) return g.error();
    graphs.push_back(std::move(g).value());
  }
  Result<ReplayResult> r = Replay(graphs, H100(), options);
  if (keep != nullptr) *keep = std::move(graphs);
  return r;
}

TraceNode Cpu(std::uint64_t id, std::uint64_t us, std::vector<std::uint64_t> deps = {}) {
  TraceNode n = MakeNode(id, NodeType::kComp, us, std::move(deps));
  n.is_cpu_op = true;
  return n;
}

TraceNode Coll(std::uint64_t id, CommType type, std::int64_t bytes, std::vector<std::uint64_t> deps,
               const std::string& pg = "") {
  TraceNode n = MakeNode(id, NodeType::kCommColl, 0, std::move(deps));
  n.comm_type = type;
  n.comm_size = bytes;
  if (!pg.empty()) n.pg_name = pg;
  return n;
}

TEST(ChakraReplayTest, StreamsFollowDependenciesAndIssueOrder) {
  // Node 1 (cpu, 10 us) -> node 2 (GPU, 100 us); node 3 (GPU, 50 us) is free but issues after
  // node 2 on the compute stream (smallest ready id first: 1, 2, 3). Compute: 2 runs [10, 110],
  // 3 runs [110, 160]; step = 160 us.
  Result<ReplayResult> r =
      ReplayTraces({MakeTrace(0, {Cpu(1, 10), MakeNode(2, NodeType::kComp, 100, {1}),
                                  MakeNode(3, NodeType::kComp, 50)})},
                   {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_DOUBLE_EQ(r->step_time_s, 160e-6);
  EXPECT_DOUBLE_EQ(r->ranks[0].compute_s, 150e-6);
  EXPECT_DOUBLE_EQ(r->ranks[0].cpu_s, 10e-6);
  EXPECT_DOUBLE_EQ(r->ranks[0].comm_s, 0);
}

TEST(ChakraReplayTest, RooflineUsesNumOpsAndTensorSize) {
  const hw::HardwareProfile hw = H100();
  TraceNode k = MakeNode(1, NodeType::kComp, 999);
  k.num_ops = 2'000'000'000'000;                      // 2e12 FLOPs
  k.tensor_size = 4'000'000'000;                      // 4e9 bytes
  TraceNode plain = MakeNode(2, NodeType::kComp, 7);  // neither: keeps its 7 us
  ReplayOptions options;
  options.compute = ComputeTiming::kRoofline;
  Result<ReplayResult> r = ReplayTraces({MakeTrace(0, {k, plain})}, options);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  // launch + max(flops / (peak_bf16 * gemm.max_efficiency),
  //              bytes / (hbm * memory.max_efficiency * B / (B + bytes_half)))
  const hw::GpuSpec& g = hw.gpu;
  const double compute_s = 2e12 / (g.peak_flops_per_s_bf16 * g.gemm.max_efficiency);
  const double mem_eff = g.memory.max_efficiency * 4e9 / (4e9 + g.memory.bytes_half);
  const double memory_s = 4e9 / (g.hbm_bandwidth_bytes_per_s * mem_eff);
  const double expected = g.kernel_launch_seconds + std::max(compute_s, memory_s) + 7e-6;
  EXPECT_NEAR(r->step_time_s, expected, 2e-12);  // two roundings to picoseconds
  EXPECT_EQ(r->roofline_fallbacks, 1);
}

TEST(ChakraReplayTest, CollectiveStartsWhenTheLastParticipantArrives) {
  const hw::HardwareProfile hw = H100();
  const double bytes = 1e9;
  // Rank 0 computes 100 us, rank 1 300 us, then both all-reduce 1e9 bytes. Two ranks on one
  // node: ring over NVLink, T = 2(n-1)/n * S / busbw + 2(n-1) * alpha = S / busbw + 2 alpha.
  const double busbw = hw.node.scale_up.bandwidth_bytes_per_s * hw.node.scale_up.efficiency;
  const double t_ar = bytes / busbw + 2 * hw.node.scale_up.latency_seconds;
  std::vector<RankTrace> traces = {
      MakeTrace(0, {MakeNode(1, NodeType::kComp, 100),
                    Coll(2, CommType::kAllReduce, 1'000'000'000, {1})}),
      MakeTrace(1, {MakeNode(1, NodeType::kComp, 300),
                    Coll(2, CommType::kAllReduce, 1'000'000'000, {1})})};
  Result<ReplayResult> r = ReplayTraces(traces, {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->collective_instances, 1);
  EXPECT_NEAR(r->ranks[0].end_s, 300e-6 + t_ar, 1e-12);
  EXPECT_NEAR(r->ranks[1].end_s, 300e-6 + t_ar, 1e-12);
  EXPECT_NEAR(r->ranks[0].comm_s, t_ar, 1e-12);
  EXPECT_NEAR(r->ranks[0].exposed_comm_s, t_ar, 1e-12);  // rank 0's compute ended at 100 us

  // One GPU per node: the ring runs over the NICs, T = S / busbw_nic + 2 alpha_nic.
  ReplayOptions spread;
  spread.gpus_per_node = 1;
  Result<ReplayResult> far = ReplayTraces(traces, spread);
  ASSERT_TRUE(far.ok());
  const double nic = hw.network.nic.bandwidth_bytes_per_s * hw.network.nic.efficiency;
  EXPECT_NEAR(far->step_time_s, 300e-6 + bytes / nic + 2 * hw.network.nic.latency_seconds, 1e-12);
}

TEST(ChakraReplayTest, ReceiveWaitsForTheMatchingSend) {
  const hw::HardwareProfile hw = H100();
  TraceNode send = MakeNode(2, NodeType::kCommSend, 0, {1});
  send.comm_dst = 1;
  send.comm_tag = 7;
  send.comm_size = 100'000'000;
  TraceNode recv = MakeNode(1, NodeType::kCommRecv, 0);
  recv.comm_src = 0;
  recv.comm_tag = 7;
  recv.comm_size = 100'000'000;
  Result<ReplayResult> r =
      ReplayTraces({MakeTrace(0, {MakeNode(1, NodeType::kComp, 100), send}),
                    MakeTrace(1, {recv, MakeNode(2, NodeType::kComp, 50, {1})})},
                   {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  // Same node: T = S / busbw_up + alpha_up; rank 1 computes after the receive: 100 + T + 50 us.
  const double t = 1e8 / (hw.node.scale_up.bandwidth_bytes_per_s * hw.node.scale_up.efficiency) +
                   hw.node.scale_up.latency_seconds;
  EXPECT_EQ(r->point_to_point, 1);
  EXPECT_NEAR(r->ranks[1].end_s, 150e-6 + t, 1e-12);
}

TEST(ChakraReplayTest, MismatchesAreErrorsNamingFilesAndNodes) {
  Result<ReplayResult> count = ReplayTraces(
      {MakeTrace(0, {Coll(1, CommType::kAllReduce, 8, {}), Coll(2, CommType::kAllReduce, 8, {1})}),
       MakeTrace(1, {Coll(1, CommType::kAllReduce, 8, {})})},
      {});
  ASSERT_FALSE(count.ok());
  EXPECT_THAT(count.error().ToString(),
              HasSubstr("test.1.et: rank 1 issues 1 collectives on process group '' but rank 0 "
                        "(test.0.et) issues 2"));

  Result<ReplayResult> type = ReplayTraces({MakeTrace(0, {Coll(1, CommType::kAllReduce, 8, {})}),
                                            MakeTrace(1, {Coll(4, CommType::kAllGather, 8, {})})},
                                           {});
  ASSERT_FALSE(type.ok());
  EXPECT_THAT(type.error().ToString(), HasSubstr("test.1.et: node 4: collective 0 of process "
                                                 "group '' is ALL_GATHER here but node 1"));

  TraceNode unsized = Coll(3, CommType::kAllReduce, 8, {});
  unsized.comm_size.reset();
  Result<ReplayResult> size = ReplayTraces({MakeTrace(0, {unsized})}, {});
  ASSERT_FALSE(size.ok());
  EXPECT_THAT(size.error().ToString(), HasSubstr("test.0.et: node 3: COMM_COLL_NODE without"));
  ReplayOptions recorded;
  recorded.comm = CommTiming::kRecorded;
  EXPECT_TRUE(ReplayTraces({MakeTrace(0, {unsized})}, recorded).ok());

  TraceNode send = MakeNode(5, NodeType::kCommSend, 0);
  send.comm_dst = 1;
  send.comm_tag = 3;
  send.comm_size = 8;
  Result<ReplayResult> lonely =
      ReplayTraces({MakeTrace(0, {send}), MakeTrace(1, {MakeNode(1, NodeType::kComp, 1)})}, {});
  ASSERT_FALSE(lonely.ok());
  EXPECT_THAT(lonely.error().ToString(),
              HasSubstr("test.0.et: node 5: send to rank 1 (tag 3) has no matching receive in "
                        "test.1.et"));

  send.comm_dst = 5;
  Result<ReplayResult> range = ReplayTraces({MakeTrace(0, {send})}, {});
  ASSERT_FALSE(range.ok());
  EXPECT_THAT(range.error().ToString(), HasSubstr("node 5: comm_dst = 5 is not another rank"));
}

TEST(ChakraReplayTest, OversizedDurationsAndSizesAreErrors) {
  // 2^62 us is far past SimTime's +-106 days; so is 2^62 bytes over NVLink.
  Result<ReplayResult> slow =
      ReplayTraces({MakeTrace(0, {MakeNode(9, NodeType::kComp, std::uint64_t{1} << 62)})}, {});
  ASSERT_FALSE(slow.ok());
  EXPECT_THAT(slow.error().ToString(), HasSubstr("test.0.et: node 9: a duration of"));
  Result<ReplayResult> big =
      ReplayTraces({MakeTrace(0, {Coll(4, CommType::kAllReduce, std::int64_t{1} << 62, {})}),
                    MakeTrace(1, {Coll(4, CommType::kAllReduce, std::int64_t{1} << 62, {})})},
                   {});
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().ToString(), HasSubstr("node 4: a duration of"));
  // Many long tasks: each in range, the sum is not.
  std::vector<TraceNode> nodes;
  for (std::uint64_t id = 1; id <= 10; ++id) nodes.push_back(MakeNode(id, NodeType::kComp, 1e12));
  Result<ReplayResult> sum = ReplayTraces({MakeTrace(0, nodes)}, {});
  ASSERT_FALSE(sum.ok());
  EXPECT_THAT(sum.error().ToString(), HasSubstr("add up to more than 9e6 s"));
}

TEST(ChakraReplayTest, CrossedCollectiveOrdersDeadlockWithAnError) {
  // Rank 0 runs group a then b, rank 1 b then a, each second one waiting on the first.
  Result<ReplayResult> r =
      ReplayTraces({MakeTrace(0, {Coll(1, CommType::kAllReduce, 8, {}, "a"),
                                  Coll(2, CommType::kAllReduce, 8, {1}, "b")}),
                    MakeTrace(1, {Coll(1, CommType::kAllReduce, 8, {}, "b"),
                                  Coll(2, CommType::kAllReduce, 8, {1}, "a")})},
                   {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(), HasSubstr("the replay cannot finish"));
}

TEST(ChakraReplayTest, TraceAndJsonDescribeEveryNode) {
  std::vector<RankGraph> graphs;
  Result<ReplayResult> r =
      ReplayTraces({MakeTrace(0, {Cpu(1, 10), MakeNode(2, NodeType::kComp, 100, {1}),
                                  Coll(3, CommType::kAllReduce, 1024, {2})})},
                   {}, &graphs);
  ASSERT_TRUE(r.ok());
  const ReplayLabels labels{"t", "prefix", "dgx-h100"};
  std::ostringstream trace;
  WriteReplayTrace(labels, graphs, *r, trace);
  const nlohmann::json j = nlohmann::json::parse(trace.str());
  int spans = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++spans;
    if (e["args"]["id"] == 2) {
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 10.0);  // after the 10 us cpu node
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 100.0);
    }
  }
  EXPECT_EQ(spans, 3);  // arrive and barrier tasks are not drawn
  const nlohmann::json s = nlohmann::json::parse(RenderReplayJson(labels, {}, *r));
  EXPECT_DOUBLE_EQ(s["step_time_s"].get<double>(), r->step_time_s);
  EXPECT_EQ(s["ranks"].size(), 1u);
  EXPECT_THAT(RenderReplaySummary(labels, {}, *r), HasSubstr("step time"));
}

}  // namespace
}  // namespace foresight::chakra
