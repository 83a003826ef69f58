#include "search/results_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace foresight::search {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Row MakeRow(std::int64_t point, const std::string& name, double value) {
  Row row;
  row.point = point;
  row.hash = HashInputs("p" + std::to_string(point));
  row.record["name"] = name;
  row.record["value"] = value;
  row.record["ok"] = true;
  return row;
}

TEST(HashInputsTest, Fnv1a64KnownValues) {
  // FNV-1a 64 test vectors (Fowler, Noll, Vo): "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c.
  EXPECT_EQ(HashInputs(""), "cbf29ce484222325");
  EXPECT_EQ(HashInputs("a"), "af63dc4c8601ec8c");
}

TEST(ResultsFileTest, CsvRoundTripWithQuotesAndCommas) {
  const std::vector<std::string> columns = {"name", "value", "ok"};
  const Row row = MakeRow(3, "a, \"quoted\" name", 0.1);
  const std::string text = CsvHeader(columns) + FormatRow(row, Format::kCsv, columns);
  EXPECT_EQ(text,
            "point,hash,name,value,ok\n3," + row.hash + ",\"a, \"\"quoted\"\" name\",0.1,true\n");
  Result<std::vector<Row>> rows = ParseRows(text, "r.csv", Format::kCsv, columns);
  ASSERT_TRUE(rows.ok()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].record, row.record);
}

TEST(ResultsFileTest, PartialTrailingLineIsIgnored) {
  const std::vector<std::string> columns = {"name", "value", "ok"};
  const std::string whole = FormatRow(MakeRow(0, "x", 1.5), Format::kJsonLines, columns);
  const std::string partial = FormatRow(MakeRow(1, "y", 2.5), Format::kJsonLines, columns);
  Result<std::vector<Row>> rows =
      ParseRows(whole + partial.substr(0, 10), "r.jsonl", Format::kJsonLines, columns);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].point, 0);
  // A malformed whole line is an error with its line number.
  Result<std::vector<Row>> bad =
      ParseRows(whole + "{oops\n", "r.jsonl", Format::kJsonLines, columns);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
}

TEST(ResultsFileTest, ResumeKeepsMatchingRowsAndDropsTheRest) {
  const std::vector<std::string> columns = {"name", "value", "ok"};
  for (const std::string ext : {".csv", ".jsonl"}) {
    const std::string path = testing::TempDir() + "/resume_test" + ext;
    auto hash_of = [](std::int64_t i) { return HashInputs("p" + std::to_string(i)); };
    std::map<std::int64_t, Row> finished;
    {
      Result<ResultsFile> file = ResultsFile::Open(path, columns, false, 4, hash_of, &finished);
      ASSERT_TRUE(file.ok()) << file.error().ToString();
      ASSERT_TRUE(file->Append(MakeRow(2, "two", 2)).ok());
      ASSERT_TRUE(file->Append(MakeRow(0, "zero", 0)).ok());
      Row stale = MakeRow(1, "stale", 1);
      stale.hash = "0000000000000000";  // inputs changed since: must be recomputed
      ASSERT_TRUE(file->Append(stale).ok());
    }
    // A killed run: half a row at the end.
    const std::string torn = FormatRow(MakeRow(3, "three", 3), FormatForPath(path), columns);
    std::ofstream(path, std::ios::app) << torn.substr(0, torn.size() / 2);

    Result<ResultsFile> file = ResultsFile::Open(path, columns, true, 4, hash_of, &finished);
    ASSERT_TRUE(file.ok()) << file.error().ToString();
    ASSERT_EQ(finished.size(), 2u);
    EXPECT_EQ(finished.at(0).record["name"], "zero");
    EXPECT_EQ(finished.at(2).record["name"], "two");
    // The file now holds only whole, kept rows; appending continues after them.
    ASSERT_TRUE(file->Append(MakeRow(3, "three", 3)).ok());
    ASSERT_TRUE(file->Append(MakeRow(1, "one", 1)).ok());
    std::vector<Row> all = {finished.at(0), finished.at(2), MakeRow(3, "three", 3),
                            MakeRow(1, "one", 1)};
    ASSERT_TRUE(file->Finish(all).ok());
    std::string expected = FormatForPath(path) == Format::kCsv ? CsvHeader(columns) : std::string();
    for (int i = 0; i < 4; ++i) {
      const char* names[] = {"zero", "one", "two", "three"};
      expected += FormatRow(MakeRow(i, names[i], i), FormatForPath(path), columns);
    }
    EXPECT_EQ(ReadAll(path), expected);
  }
}

}  // namespace
}  // namespace foresight::search
