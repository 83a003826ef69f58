// Importer for measured step-time tables: one training configuration per row with its measured
// iteration time, e.g. vTrain's ground_truth_single.csv / ground_truth_multi.csv
// (github.com/VIA-Research/vTrain):
//   # GPUs,global batch,micro batch,hidden size,attention heads,# layers,sequence length,
//   tensor parallelism,data parallelism,pipeline parallelism,iteration time (ms)
// Columns are found by name (case-insensitive, a leading "# " ignored, any order; extra columns
// such as "Parameters (billion)" are kept in `extra`). A UTF-8 byte-order mark is skipped.
// Every integer column must hold a positive integer, the time a positive number, and
// GPUs = TP * DP * PP. Errors name file:line:column. O(file size).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace foresight::calibrate {

struct StepRow {
  int line = 0;  // 1-based source line
  std::int64_t gpus = 0;
  std::int64_t global_batch = 0;
  std::int64_t micro_batch = 0;
  std::int64_t hidden = 0;
  std::int64_t heads = 0;
  std::int64_t layers = 0;
  std::int64_t seq_len = 0;
  std::int64_t tp = 0;
  std::int64_t dp = 0;
  std::int64_t pp = 0;
  double step_seconds = 0;
};

struct StepTable {
  std::string path;
  std::vector<StepRow> rows;
};

// The column names, in the order StepRow lists them (time last).
const std::vector<std::string_view>& StepTableColumns();

Result<StepTable> ParseStepTable(std::string_view text, const std::string& path);

// True when the first line names every StepTableColumns() column.
bool LooksLikeStepTable(std::string_view text);

}  // namespace foresight::calibrate
