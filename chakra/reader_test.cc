#include "chakra/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "chakra/graph.h"
#include "chakra/internal/gzip.h"
#include "chakra/internal/test_util.h"
#include "chakra/writer.h"

namespace foresight::chakra {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeNode;
using testing::MakeTrace;

const TraceNode& NodeById(const RankTrace& t, std::uint64_t id) {
  for (const TraceNode& n : t.nodes) {
    if (n.id == id) return n;
  }
  ADD_FAILURE() << "no node " << id;
  return t.nodes.front();
}

// Facts that MLCommons Chakra's own feeder tests assert for this file (../shared/data/README.md,
// github.com/mlcommons/chakra tests/feeder/tests.cpp at commit 21585d8).
TEST(ChakraReaderTest, RealTraceHasTheFeederTestFacts) {
  const std::string bytes = testing::RealTraceBytes();
  ASSERT_FALSE(bytes.empty()) << "cannot read ../shared/data/chakra/feeder_tests_trace.tar.gz";
  EXPECT_EQ(bytes.size(), 2978371u);  // the archive's listing: 2,978,371 bytes
  Result<RankTrace> trace = ParseRankTrace(bytes, "chakra.0.et", 0);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();

  const std::vector<std::uint64_t> free_ids = DataDependencyFreeIds(*trace);
  ASSERT_GE(free_ids.size(), 2u);
  EXPECT_EQ(free_ids[0], 216u);
  EXPECT_EQ(free_ids[1], 432u);

  const TraceNode& first = NodeById(*trace, 216);
  EXPECT_EQ(first.type, NodeType::kComp);
  EXPECT_EQ(first.is_cpu_op, std::optional<bool>(true));
  ASSERT_NE(first.FindAttr("rf_id"), nullptr);
  EXPECT_EQ(*first.FindAttr("rf_id"), AttributeValue(std::int64_t{2}));

  const TraceNode& second = NodeById(*trace, 432);
  EXPECT_EQ(second.type, NodeType::kCommColl);
  EXPECT_EQ(second.is_cpu_op, std::optional<bool>(true));
  ASSERT_NE(second.FindAttr("rf_id"), nullptr);
  EXPECT_EQ(*second.FindAttr("rf_id"), AttributeValue(std::int64_t{110}));

  const std::vector<std::uint64_t> children = DataChildrenOf(*trace, 216);
  ASSERT_GE(children.size(), 3u);
  EXPECT_THAT(std::vector<std::uint64_t>(children.begin(), children.begin() + 3),
              ElementsAre(217u, 430u, 435u));

  // Following data dependencies the graph is acyclic; the feeder's topological issue order
  // starts with the smallest dependency-free id.
  Result<RankGraph> graph = BuildRankGraph(std::move(trace).value());
  ASSERT_TRUE(graph.ok()) << graph.error().ToString();
  EXPECT_EQ(graph->trace.nodes[static_cast<std::size_t>(graph->order.front())].id, 216u);
}

TEST(ChakraReaderTest, RealTraceControlDependenciesFormACycle) {
  // The PyTorch converter's control edges point at call-tree parents and close cycles in this
  // trace; following them must be reported, not hang or crash.
  Result<RankTrace> trace = ParseRankTrace(testing::RealTraceBytes(), "chakra.0.et", 0);
  ASSERT_TRUE(trace.ok());
  Result<RankGraph> graph = BuildRankGraph(std::move(trace).value(), GraphOptions{true});
  ASSERT_FALSE(graph.ok());
  // 2,283 nodes: what remains after Kahn's algorithm over data + control edges (to present
  // nodes) in a separate Python pass over a protoc --decode of the file.
  EXPECT_THAT(graph.error().ToString(),
              HasSubstr("chakra.0.et: dependency cycle (2283 nodes cannot run)"));
  EXPECT_THAT(graph.error().ToString(), HasSubstr(" -> node "));
}

TEST(ChakraReaderTest, GzipAndFilesReadTheSameNodes) {
  const std::string bytes = testing::RealTraceBytes();
  Result<RankTrace> plain = ParseRankTrace(bytes, "plain", 0);
  ASSERT_TRUE(plain.ok());
  testing::TempDir dir;
  {
    std::ofstream out(dir.Path("t.0.et"), std::ios::binary);
    const std::string gz = internal::Gzip(bytes);
    out.write(gz.data(), static_cast<std::streamsize>(gz.size()));
  }
  Result<std::vector<RankTrace>> read = ReadTraces(dir.Path("t"), 1);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ((*read)[0].nodes, plain->nodes);
  EXPECT_EQ((*read)[0].metadata, plain->metadata);
}

TEST(ChakraReaderTest, MissingRankFileIsReportedNotGuessed) {
  testing::TempDir dir;
  ASSERT_TRUE(
      WriteRankTrace(MakeTrace(0, {MakeNode(1, NodeType::kComp, 5)}), dir.Path("p.0.et")).ok());
  Result<std::vector<RankTrace>> read = ReadTraces(dir.Path("p"), 3);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().file, dir.Path("p.1.et"));
  EXPECT_THAT(read.error().message, HasSubstr("missing Chakra trace file for rank 1"));
  EXPECT_THAT(read.error().message, HasSubstr("2 of 3 expected files"));
}

std::string Serialized(std::vector<TraceNode> nodes) {
  return SerializeRankTrace(MakeTrace(0, std::move(nodes)));
}

TEST(ChakraReaderTest, TruncatedFileNamesTheNodeBeforeIt) {
  const std::string bytes =
      Serialized({MakeNode(7, NodeType::kComp, 1), MakeNode(8, NodeType::kComp, 1, {7})});
  // Cut the last message in half.
  Result<RankTrace> r = ParseRankTrace(bytes.substr(0, bytes.size() - 3), "x.0.et", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(), HasSubstr("x.0.et: truncated file: the node message 2"));
  EXPECT_THAT(r.error().ToString(), HasSubstr("after node id 7"));
}

TEST(ChakraReaderTest, CorruptAndOversizedMessagesAreErrors) {
  std::string bytes = Serialized({MakeNode(7, NodeType::kComp, 1)});
  // A node message of 3 bytes holding an invalid wire type (7) for field 1.
  std::string corrupt = bytes + std::string("\x03\x0f\xff\xff", 4);
  Result<RankTrace> r = ParseRankTrace(corrupt, "c.0.et", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(), HasSubstr("corrupt node message 2 (after node id 7)"));

  // A length prefix of 2^28 bytes (varint 80 80 80 80 01) exceeds the 64 MiB message limit.
  Result<RankTrace> big = ParseRankTrace(bytes + std::string("\x80\x80\x80\x80\x01", 5), "b", 0);
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().ToString(), HasSubstr("claims 268435456 bytes, over the limit"));

  // A length prefix cut in the middle of its varint.
  Result<RankTrace> cut = ParseRankTrace(bytes + std::string("\x80", 1), "v", 0);
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.error().ToString(), HasSubstr("truncated or corrupt length prefix"));

  ReadLimits few;
  few.max_nodes = 1;
  Result<RankTrace> many = ParseRankTrace(
      Serialized({MakeNode(1, NodeType::kComp, 1), MakeNode(2, NodeType::kComp, 1)}), "m", 0, few);
  ASSERT_FALSE(many.ok());
  EXPECT_THAT(many.error().ToString(), HasSubstr("more than 1 nodes"));

  Result<RankTrace> empty = ParseRankTrace("", "e.0.et", 0);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().ToString(), HasSubstr("e.0.et: empty file"));

  const std::string gz = internal::Gzip(bytes);
  Result<RankTrace> gz_cut = ParseRankTrace(gz.substr(0, gz.size() / 2), "g.0.et", 0);
  ASSERT_FALSE(gz_cut.ok());
  EXPECT_THAT(gz_cut.error().ToString(), HasSubstr("g.0.et: truncated gzip stream"));
}

TEST(ChakraReaderTest, BadNodeContentNamesTheNode) {
  TraceNode bad_type = MakeNode(11, static_cast<NodeType>(42), 1);
  Result<RankTrace> r = ParseRankTrace(Serialized({bad_type}), "t.0.et", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(), HasSubstr("t.0.et: node 11: unknown node type 42"));

  TraceNode bad_attr = MakeNode(12, NodeType::kCommColl, 1);
  bad_attr.other_attrs.push_back(Attribute{"comm_size", std::string("big")});
  r = ParseRankTrace(Serialized({bad_attr}), "t.0.et", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(),
              HasSubstr("node 12: attribute 'comm_size': expected an integer value"));

  TraceNode bad_enum = MakeNode(13, NodeType::kCommColl, 1);
  bad_enum.other_attrs.push_back(Attribute{"comm_type", std::int64_t{12}});
  r = ParseRankTrace(Serialized({bad_enum}), "t.0.et", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(),
              HasSubstr("node 13: attribute 'comm_type' = 12 is out of range"));
}

TEST(ChakraReaderTest, GraphErrorsNameFileAndNodes) {
  Result<RankGraph> dup = BuildRankGraph(
      MakeTrace(0, {MakeNode(5, NodeType::kComp, 1), MakeNode(5, NodeType::kComp, 1)}));
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.error().ToString(), HasSubstr("test.0.et: duplicate node 5"));

  Result<RankGraph> missing = BuildRankGraph(MakeTrace(0, {MakeNode(5, NodeType::kComp, 1, {9})}));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().ToString(),
              HasSubstr("node 5 has a data dependency on node 9, which is not in the file"));

  Result<RankGraph> cycle = BuildRankGraph(
      MakeTrace(0, {MakeNode(1, NodeType::kComp, 1), MakeNode(2, NodeType::kComp, 1, {1, 4}),
                    MakeNode(3, NodeType::kComp, 1, {2}), MakeNode(4, NodeType::kComp, 1, {3})}));
  ASSERT_FALSE(cycle.ok());
  // 2 waits for 4, 4 for 3, 3 for 2.
  EXPECT_THAT(cycle.error().ToString(),
              HasSubstr("dependency cycle (3 nodes cannot run): node 2 -> node 4 -> node 3 -> "
                        "node 2"));

  // A control dependency on an absent node is dropped and counted when control deps are on.
  TraceNode n = MakeNode(1, NodeType::kComp, 1);
  n.ctrl_deps = {99};
  Result<RankGraph> ctrl = BuildRankGraph(MakeTrace(0, {n}), GraphOptions{true});
  ASSERT_TRUE(ctrl.ok());
  EXPECT_EQ(ctrl->dropped_ctrl_deps, 1);
}

TEST(ChakraReaderTest, RandomCorruptionNeverCrashes) {
  // Flip bytes of a valid file (fixed seed): every outcome must be a trace or an Error.
  TraceNode coll = MakeNode(3, NodeType::kCommColl, 4, {1, 2});
  coll.comm_type = CommType::kAllGather;
  coll.comm_size = 4096;
  coll.pg_name = "dp";
  const std::string good =
      Serialized({MakeNode(1, NodeType::kComp, 1), MakeNode(2, NodeType::kComp, 2, {1}), coll});
  std::mt19937 rng(12345);
  int errors = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    }
    if (trial % 7 == 0) bytes.resize(rng() % bytes.size());
    Result<RankTrace> r = ParseRankTrace(bytes, "fuzz.0.et", 0);
    if (!r.ok()) {
      ++errors;
      EXPECT_EQ(r.error().file, "fuzz.0.et");
      continue;
    }
    Result<RankGraph> g = BuildRankGraph(std::move(r).value(), GraphOptions{trial % 2 == 0});
    if (!g.ok()) ++errors;
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace foresight::chakra
