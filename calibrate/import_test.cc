// Importers against the real published files in ../shared/data (values read from the files by
// eye and quoted in the comments) and against malformed input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "calibrate/detect.h"
#include "calibrate/import_nccl_tests.h"
#include "calibrate/import_steps.h"
#include "calibrate/import_vtrain.h"

namespace foresight::calibrate {
namespace {

const std::string kData = std::string(FORESIGHT_SOURCE_DIR) + "/../shared/data/";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<CommSeries> Nccl(const std::string& name) {
  const std::string path = kData + "nccl-tests/" + name;
  auto r = ParseNcclTests(Read(path), path);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? *r : std::vector<CommSeries>{};
}

TEST(ImportNcclTestsTest, EveryPublishedLogParses) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kData + "nccl-tests")) {
    const std::string path = entry.path().string();
    const std::string text = Read(path);
    const InputKind kind = DetectKind(text);
    ASSERT_TRUE(kind == InputKind::kNcclTests || kind == InputKind::kBusbwSummary) << path;
    auto series =
        kind == InputKind::kNcclTests ? ParseNcclTests(text, path) : ParseBusbwSummary(text, path);
    ASSERT_TRUE(series.ok()) << series.error().ToString();
    ASSERT_FALSE(series->empty()) << path;
    for (const CommSeries& s : *series) {
      EXPECT_GE(s.ranks, 2) << path;
      EXPECT_GE(s.nodes, 1) << path;
      EXPECT_EQ(s.ranks % s.nodes, 0) << path;
      EXPECT_FALSE(s.points.empty()) << path;
    }
    ++files;
  }
  EXPECT_EQ(files, 21);  // ls data/nccl-tests | wc -l
}

TEST(ImportNcclTestsTest, GcmFixtureFirstRow) {
  // "33554432  8388608  float  sum  -1  344.8  97.32  170.31  0  349.5 ..." on line 20; 8 Rank
  // lines on one host.
  const auto s = Nccl("a100_gcm-fixture_1node_8gpu_all_reduce_perf.txt");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].op, CommOp::kAllReduce);
  EXPECT_EQ(s[0].ranks, 8);
  EXPECT_EQ(s[0].nodes, 1);
  ASSERT_EQ(s[0].points.size(), 12u);  // 6 rows x (out-of-place, in-place)
  EXPECT_EQ(s[0].points[0].bytes, 33554432);
  EXPECT_DOUBLE_EQ(s[0].points[0].seconds, 344.8e-6);
  EXPECT_FALSE(s[0].points[0].in_place);
  EXPECT_DOUBLE_EQ(s[0].points[1].seconds, 349.5e-6);
  EXPECT_EQ(s[0].points[0].line, 20);
  EXPECT_EQ(s[0].hardware, "NVIDIA A100-SXM4-80GB");
}

TEST(ImportNcclTestsTest, CoreweaveRanksFromBusbwRatioNodesFromQuirk) {
  // Device list elided ("..."); busbw/algbw = 115.64/59.68 = 1.9377 = 2(n-1)/n -> n = 32.
  const auto s = Nccl("a100_coreweave_multinode_32rank_all_reduce_perf_ib_sharp.txt");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].ranks, 32);
  EXPECT_EQ(s[0].nodes, 4);
  EXPECT_EQ(s[0].algorithm, "sharp");
  EXPECT_EQ(s[0].points.front().bytes, 8);
  EXPECT_DOUBLE_EQ(s[0].points.front().seconds, 58.23e-6);
  EXPECT_EQ(s[0].points.back().bytes, 8589934592.0);
  EXPECT_DOUBLE_EQ(s[0].points.back().seconds, 143961e-6);
}

TEST(ImportNcclTestsTest, PartialSendrecvFromCommandLineAndFileName) {
  // No device list; "./build/sendrecv_perf -b 128M -e 1G -f 2 -g 8"; first row 1211.2 us.
  const auto s = Nccl("a100_unknown-repo_1node_8gpu_sendrecv_perf_partial.txt");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].op, CommOp::kSendRecv);
  EXPECT_EQ(s[0].ranks, 8);
  EXPECT_EQ(s[0].nodes, 1);
  EXPECT_EQ(s[0].points[0].bytes, 134217728);
  EXPECT_DOUBLE_EQ(s[0].points[0].seconds, 1211.2e-6);
}

TEST(ImportNcclTestsTest, MultiNodeAndZeroByteRows) {
  const auto ar = Nccl("h100_xxrjun-cluster01_10node_80gpu_all_reduce_perf.txt");
  ASSERT_EQ(ar.size(), 1u);
  EXPECT_EQ(ar[0].ranks, 80);
  EXPECT_EQ(ar[0].nodes, 10);
  const auto a2a = Nccl("h100_xxrjun-cluster01_2node_16gpu_alltoall_perf.txt");
  ASSERT_EQ(a2a.size(), 1u);
  EXPECT_EQ(a2a[0].op, CommOp::kAllToAll);
  EXPECT_EQ(a2a[0].ranks, 16);
  EXPECT_EQ(a2a[0].nodes, 2);
  // Four 0-byte rows come first; the first timed row is "128  4  float  sum  -1  41.94".
  const auto rs = Nccl("h100_together_1node_8gpu_reduce_scatter_perf_ring.txt");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].op, CommOp::kReduceScatter);
  EXPECT_EQ(rs[0].algorithm, "ring");
  EXPECT_EQ(rs[0].points[0].bytes, 128);
  EXPECT_DOUBLE_EQ(rs[0].points[0].seconds, 41.94e-6);
  const auto nvls = Nccl("h100_together_1node_8gpu_all_reduce_perf_nvls.txt");
  EXPECT_EQ(nvls[0].algorithm, "ring");  // quirk: the header says NVLS was not active
}

TEST(ImportNcclTestsTest, BusbwSummary) {
  const std::string path = kData + "nccl-tests/azure_summaries_a100_h200_1node_allreduce_busbw.txt";
  auto s = ParseBusbwSummary(Read(path), path);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(s->size(), 2u);
  ASSERT_EQ((*s)[0].points.size(), 24u);  // 1K .. 8G
  // "1K 0.04 0.06": t = S * 2(n-1)/n / busbw = 1024 * 1.75 / 0.04e9 s.
  EXPECT_DOUBLE_EQ((*s)[0].points[0].bytes, 1024);
  EXPECT_NEAR((*s)[0].points[0].seconds, 1024 * 1.75 / 0.04e9, 1e-15);
  EXPECT_DOUBLE_EQ((*s)[1].points[7].bytes, 131072);  // the "132K" label
  EXPECT_EQ((*s)[1].hardware, "ND H200 v5 busbw (GB/s)");
}

TEST(ImportNcclTestsTest, MalformedRowsAreFileLineErrors) {
  const std::string header =
      "# Collective test starting: all_reduce_perf\n"
      "#  Rank  0 Group  0 Pid 1 on h device  0 [0x00] GPU\n"
      "#  Rank  1 Group  0 Pid 2 on h device  1 [0x00] GPU\n"
      "#       size  count  type  redop  root  time  algbw  busbw #wrong  time  algbw  busbw "
      "#wrong\n";
  auto bad_number =
      ParseNcclTests(header +
                         "  1024  256  float  sum  -1  12.x  0.08  0.08  0  12.0  0.08  "
                         "0.08  0\n",
                     "bad.txt");
  ASSERT_FALSE(bad_number.ok());
  EXPECT_EQ(bad_number.error().file, "bad.txt");
  EXPECT_EQ(bad_number.error().line, 5);
  EXPECT_EQ(bad_number.error().column, 30);  // the "12.x" field
  auto short_row = ParseNcclTests(header + "  1024  256  float  sum  -1  12.0\n", "short.txt");
  ASSERT_FALSE(short_row.ok());
  EXPECT_EQ(short_row.error().line, 5);
  EXPECT_NE(short_row.error().message.find("13"), std::string::npos);
  auto no_table = ParseNcclTests("# just a comment\n", "empty.txt");
  ASSERT_FALSE(no_table.ok());
  EXPECT_EQ(no_table.error().line, 1);
  auto no_op = ParseNcclTests(
      "#  size  count  type  redop  time  algbw  busbw  error\n  1024 256 float sum 10 0.1 0.1 0\n",
      "mystery.txt");
  ASSERT_FALSE(no_op.ok());
  EXPECT_NE(no_op.error().message.find("collective"), std::string::npos);
}

TEST(ImportVtrainTest, AllSweepsParseWithRanksFromContent) {
  for (int n = 2; n <= 8; ++n) {
    const std::string path = kData + "vtrain-a100/allreduce_a100_" + std::to_string(n) + "gpu.csv";
    const std::string text = Read(path);
    EXPECT_EQ(DetectKind(text), InputKind::kVtrainAllReduce);
    auto s = ParseVtrainAllReduce(text, path);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    EXPECT_EQ(s->ranks, n);
    EXPECT_EQ(s->nodes, 1);
    EXPECT_EQ(s->points.size(), 2048u);  // 1024 rows x 2
  }
  // allreduce_a100_2gpu.csv line 2: "1048576,262144,float,44210,23.72,45100,23.25".
  const std::string path = kData + "vtrain-a100/allreduce_a100_2gpu.csv";
  auto s = ParseVtrainAllReduce(Read(path), path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->points[0].bytes, 1048576);
  EXPECT_DOUBLE_EQ(s->points[0].seconds, 44210e-9);
  EXPECT_DOUBLE_EQ(s->points[1].seconds, 45100e-9);
  EXPECT_EQ(s->points[0].line, 2);
}

TEST(ImportVtrainTest, MalformedInput) {
  const std::string h = std::string(kVtrainAllReduceHeader) + "\n";
  auto cells = ParseVtrainAllReduce(h + "1048576,262144,float,44210,23.72\n", "x_2gpu.csv");
  ASSERT_FALSE(cells.ok());
  EXPECT_EQ(cells.error().line, 2);
  auto number = ParseVtrainAllReduce(h + "1048576,262144,float,abc,23.72,45100,23.25\n", "x.csv");
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.error().line, 2);
  EXPECT_EQ(number.error().column, 22);
  // busbw = algbw (n = 2) but the name says 4 GPUs.
  auto mismatch = ParseVtrainAllReduce(h + "1048576,262144,float,44210,23.72,45100,23.25\n",
                                       "allreduce_4gpu.csv");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("file name says 4"), std::string::npos);
}

TEST(ImportStepsTest, VtrainGroundTruthTables) {
  const std::string single = kData + "vtrain-a100/ground_truth_single.csv";
  const std::string text = Read(single);
  EXPECT_EQ(DetectKind(text), InputKind::kStepTable);
  auto t = ParseStepTable(text, single);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 1440u);
  // Line 2: "2,16,8,1024,16,24,1024,1,1,2,372.160408".
  const StepRow& r = t->rows[0];
  EXPECT_EQ(r.line, 2);
  EXPECT_EQ(r.gpus, 2);
  EXPECT_EQ(r.global_batch, 16);
  EXPECT_EQ(r.micro_batch, 8);
  EXPECT_EQ(r.hidden, 1024);
  EXPECT_EQ(r.heads, 16);
  EXPECT_EQ(r.layers, 24);
  EXPECT_EQ(r.seq_len, 1024);
  EXPECT_EQ(r.tp, 1);
  EXPECT_EQ(r.dp, 1);
  EXPECT_EQ(r.pp, 2);
  EXPECT_DOUBLE_EQ(r.step_seconds, 0.372160408);
  const std::string multi = kData + "vtrain-a100/ground_truth_multi.csv";
  auto m = ParseStepTable(Read(multi), multi);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->rows.size(), 109u);
}

TEST(ImportStepsTest, MalformedInput) {
  const std::string h =
      "# GPUs,global batch,micro batch,hidden size,attention heads,# layers,sequence length,"
      "tensor parallelism,data parallelism,pipeline parallelism,iteration time (ms)\n";
  auto product = ParseStepTable(h + "8,16,8,1024,16,24,1024,2,2,1,100\n", "s.csv");
  ASSERT_FALSE(product.ok());
  EXPECT_EQ(product.error().line, 2);
  EXPECT_NE(product.error().message.find("TP*DP*PP = 4"), std::string::npos);
  auto fraction = ParseStepTable(h + "2,16,8.5,1024,16,24,1024,1,1,2,100\n", "s.csv");
  ASSERT_FALSE(fraction.ok());
  EXPECT_EQ(fraction.error().column, 6);
  auto missing = ParseStepTable("GPUs,global batch\n2,16\n", "s.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().line, 1);
}

TEST(DetectTest, KindsFromContent) {
  EXPECT_EQ(DetectKind("# foresight-measurement: 1\n# kind: launch\nmode,launches,repeats,"
                       "time_median_s,time_min_s\n"),
            InputKind::kMeasurements);
  EXPECT_EQ(DetectKind(Read(kData + "nccl-tests/h100_xxrjun-cluster01_1node_8gpu_all_reduce_"
                                    "perf.txt")),
            InputKind::kNcclTests);
  EXPECT_EQ(DetectKind(Read(kData + "nccl-tests/azure_summaries_a100_h200_1node_allreduce_"
                                    "busbw.txt")),
            InputKind::kBusbwSummary);
  EXPECT_EQ(DetectKind("hello, world\n"), InputKind::kUnknown);
}

}  // namespace
}  // namespace foresight::calibrate
