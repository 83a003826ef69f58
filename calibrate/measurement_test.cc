#include "calibrate/measurement.h"

#include <gtest/gtest.h>

#include <sstream>

namespace foresight::calibrate {
namespace {

std::string Write(const MeasurementFile& file) {
  std::ostringstream out;
  WriteMeasurements(file, out);
  return out.str();
}

// The error message of parsing `text`, as "file:line:column: message".
std::string ParseError(const std::string& text) {
  auto parsed = ParseMeasurements(text, "m.csv");
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.ok() ? "" : parsed.error().ToString();
}

TEST(MeasurementTest, EveryKindNameRoundTrips) {
  for (MeasurementKind kind : AllKinds()) {
    EXPECT_EQ(ParseKind(KindName(kind)), kind);
    // Every kind carries the three timing columns.
    const MeasurementTable t = MakeTable(kind);
    EXPECT_GE(t.ColumnIndex("repeats"), 0);
    EXPECT_GE(t.ColumnIndex("time_median_s"), 0);
    EXPECT_GE(t.ColumnIndex("time_min_s"), 0);
  }
  EXPECT_EQ(AllKinds().size(), 10u);
  EXPECT_FALSE(ParseKind("gpu_gemm").has_value());
}

TEST(MeasurementTest, WriteThenReadGivesTheSameFile) {
  MeasurementFile file;
  file.metadata = {{"host", "node01"}, {"device", "NVIDIA H100 80GB HBM3"}, {"cuda", "13.0"}};
  MeasurementTable gemm = MakeTable(MeasurementKind::kGemm);
  gemm.metadata = {{"note", "cuBLASLt heuristic 0"}};
  // 2*4096^3 flop in 1.71e-4 s = 8.0374e14 flop/s (1.37439e11 / 1.71e-4).
  gemm.AddRow({"bf16", "NT", "4096", "4096", "4096", "20", "0.000171", "0.000169", "8.0374e14"});
  gemm.AddRow({"fp32", "NN", "128", "256", "64", "20", "1e-05", "9.5e-06", "419430400"});
  MeasurementTable coll = MakeTable(MeasurementKind::kCollective);
  coll.AddRow({"all_reduce", "bf16", "8", "1", "1048576", "10", "2e-05", "1.9e-05", "52428800000",
               "91750400000"});
  file.tables = {gemm, coll};

  const std::string text = Write(file);
  auto read = ParseMeasurements(text, "x.csv");
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(read->metadata, file.metadata);
  ASSERT_EQ(read->tables.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(read->tables[i].kind, file.tables[i].kind);
    EXPECT_EQ(read->tables[i].metadata, file.tables[i].metadata);
    EXPECT_EQ(read->tables[i].columns, file.tables[i].columns);
    EXPECT_EQ(read->tables[i].rows, file.tables[i].rows);
  }
  // Lines: 1 version, 2-4 file metadata, 5 kind, 6 note, 7 header, 8-9 rows, 10 blank, 11 kind,
  // 12 header, 13 row.
  EXPECT_EQ(read->tables[0].header_line, 7);
  EXPECT_EQ(read->tables[0].row_lines, (std::vector<int>{8, 9}));
  EXPECT_EQ(read->tables[1].row_lines, (std::vector<int>{13}));
  EXPECT_DOUBLE_EQ(read->tables[0].Number(0, "flop_per_s"), 8.0374e14);
  EXPECT_EQ(read->tables[1].Text(0, "collective"), "all_reduce");
  EXPECT_EQ(read->Meta(read->tables[0], "note"), "cuBLASLt heuristic 0");
  EXPECT_EQ(read->Meta(read->tables[0], "host"), "node01");
  EXPECT_EQ(read->TablesOf(MeasurementKind::kCollective).size(), 1u);
  EXPECT_TRUE(LooksLikeMeasurements(text));
  EXPECT_EQ(Write(*read), text);  // write(read(write(x))) == write(x)
}

TEST(MeasurementTest, FormatNumberRoundTripsExactly) {
  for (double v : {0.1, 1.0 / 3.0, 8.0374e14, 1e-300, 123456789.0, -2.5}) {
    auto parsed = ParseMeasurements(
        "# kind: host_memcpy\nbytes,threads,repeats,time_median_s,time_min_s,"
        "bandwidth_bytes_per_s\n1,1,1," +
            FormatNumber(v) + ",1,1\n",
        "f");
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->tables[0].Number(0, "time_median_s"), v);
  }
  EXPECT_EQ(FormatNumber(0.5), "0.5");
}

TEST(MeasurementTest, ExtraColumnsAnyOrderCrlfAndComments) {
  const std::string text =
      "## produced by hand\r\n# host: h\r\n\r\n# kind: launch\r\n"
      "launches,mode,extra,time_min_s,time_median_s,repeats\r\n"
      "1000,sync,x,4e-6,4.5e-6,7\r\n";
  auto parsed = ParseMeasurements(text, "m.csv");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->tables[0].Text(0, "extra"), "x");
  EXPECT_DOUBLE_EQ(parsed->tables[0].Number(0, "time_median_s"), 4.5e-6);
  EXPECT_EQ(parsed->tables[0].row_lines[0], 6);
}

TEST(MeasurementTest, MalformedInputNamesFileLineColumn) {
  const std::string launch_header =
      "# kind: launch\nmode,launches,repeats,time_median_s,time_min_s\n";
  EXPECT_EQ(ParseError(launch_header + "sync,10,5,abc,1e-6\n"),
            "m.csv:3:11: column 'time_median_s': 'abc' is not a finite number");
  EXPECT_EQ(ParseError(launch_header + "sync,10,5,1e-6\n"),
            "m.csv:3:1: row has 4 cells; the header (line 2) has 5 columns");
  EXPECT_EQ(ParseError(launch_header + "sync,10,5,nan,1\n"),
            "m.csv:3:11: column 'time_median_s': 'nan' is not a finite number");
  EXPECT_NE(ParseError("# kind: launch\nmode,repeats,time_median_s,time_min_s\n")
                .find("m.csv:2:1: header row of a 'launch' table lacks column 'launches'"),
            std::string::npos);
  EXPECT_NE(ParseError("# host: a\n# kind: gpu_gemm\n")
                .find("m.csv:2:9: unknown measurement "
                      "kind 'gpu_gemm'; expected one of: "
                      "gemm, membw"),
            std::string::npos);
  EXPECT_NE(ParseError("mode,launches\n").find("m.csv:1:1: data before '# kind: ...'"),
            std::string::npos);
  EXPECT_EQ(ParseError("# host: a\n# host: b\n# kind: launch\n"),
            "m.csv:2:2: duplicate metadata key 'host'");
  EXPECT_NE(ParseError("# Host Name: x\n").find("m.csv:1:1: malformed metadata line"),
            std::string::npos);
  EXPECT_EQ(ParseError("# kind: launch\n"),
            "m.csv:2:1: table of kind 'launch' has no header row at end of file");
  EXPECT_NE(ParseError("# host: a\n").find("m.csv:2:1: no measurement table"), std::string::npos);
  EXPECT_EQ(ParseError(launch_header + "sync,10,5,1,1\n# note: late\n"),
            "m.csv:4:1: metadata line '# note: late' after data rows; a new table must start "
            "with '# kind: ...'");
  EXPECT_EQ(ParseError("# foresight-measurement: 2\n"),
            "m.csv:1:26: unsupported measurement format version '2'; expected 1");
  EXPECT_EQ(ParseError("# kind: launch\nmode,mode\n"),
            "m.csv:2:6: duplicate column 'mode' in header row");
}

TEST(MeasurementTest, ReadReportsMissingFile) {
  auto read = ReadMeasurements("/nonexistent/dir/m.csv");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().file, "/nonexistent/dir/m.csv");
}

TEST(MeasurementTest, LooksLikeRejectsOtherFormats) {
  EXPECT_FALSE(LooksLikeMeasurements("# nThread 1 nGpus 8 minBytes 8\n#  size count type\n"));
  EXPECT_FALSE(LooksLikeMeasurements("model,tp,pp,time\n"));
  EXPECT_TRUE(LooksLikeMeasurements("\n# host: a\n# kind: cpu_adam\n"));
}

}  // namespace
}  // namespace foresight::calibrate
