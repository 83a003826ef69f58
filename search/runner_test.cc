#include "search/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
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

// A deterministic evaluation: the square of the point, and its square root.
Row Square(std::int64_t i) {
  Row row;
  row.record["square"] = i * i;
  row.record["root"] = std::sqrt(static_cast<double>(i));
  return row;
}

std::string HashOf(std::int64_t i) { return HashInputs("square " + std::to_string(i)); }

TEST(RunPointsTest, SameRowsAndFileForAnyNumberOfJobs) {
  const std::vector<std::string> columns = {"square", "root"};
  std::string first_file;
  for (int jobs : {1, 2, 5}) {
    RunOptions options;
    options.jobs = jobs;
    options.out_path = testing::TempDir() + "/runner_jobs.csv";
    RunStats stats;
    Result<std::vector<Row>> rows = RunPoints(40, columns, HashOf, Square, options, &stats);
    ASSERT_TRUE(rows.ok()) << rows.error().ToString();
    ASSERT_EQ(rows->size(), 40u);
    for (std::int64_t i = 0; i < 40; ++i) {
      EXPECT_EQ((*rows)[static_cast<std::size_t>(i)].point, i);
      EXPECT_EQ((*rows)[static_cast<std::size_t>(i)].record["square"], i * i);
    }
    EXPECT_EQ(stats.evaluated, 40);
    const std::string file = ReadAll(options.out_path);
    if (first_file.empty()) first_file = file;
    EXPECT_EQ(file, first_file) << "jobs " << jobs;
  }
}

TEST(RunPointsTest, ResumeAfterAKillEvaluatesOnlyTheMissingPoints) {
  const std::vector<std::string> columns = {"square", "root"};
  for (const std::string ext : {".csv", ".jsonl"}) {
    const std::string path = testing::TempDir() + "/runner_resume" + ext;
    RunOptions options;
    options.jobs = 2;
    options.out_path = path;
    RunStats stats;
    ASSERT_TRUE(RunPoints(10, columns, HashOf, Square, options, &stats).ok());
    const std::string complete = ReadAll(path);
    // Simulate a kill: keep the header and rows 0..5, and half of row 6.
    std::size_t cut = 0;
    for (int lines = 0; lines < (ext == ".csv" ? 7 : 6); ++lines) {
      cut = complete.find('\n', cut) + 1;
    }
    const std::size_t next = complete.find('\n', cut);
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        << complete.substr(0, cut + (next - cut) / 2);

    std::atomic<int> calls{0};
    auto counted = [&calls](std::int64_t i) {
      ++calls;
      return Square(i);
    };
    options.resume = true;
    Result<std::vector<Row>> rows = RunPoints(10, columns, HashOf, counted, options, &stats);
    ASSERT_TRUE(rows.ok()) << rows.error().ToString();
    EXPECT_EQ(calls.load(), 4);  // points 6..9
    EXPECT_EQ(stats.reused, 6);
    EXPECT_EQ(stats.evaluated, 4);
    EXPECT_EQ(ReadAll(path), complete);  // no duplicate, no torn row, same bytes
  }
}

}  // namespace
}  // namespace foresight::search
