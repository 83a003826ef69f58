#include "calibrate/import_steps.h"

#include <cmath>

#include "calibrate/internal/fit_text.h"

namespace foresight::calibrate {
namespace {

std::string Normalize(std::string_view name) {
  std::string s = internal::ToLower(internal::Trim(name));
  if (s.rfind("# ", 0) == 0) s = s.substr(2);
  return s;
}

// Index of each StepTableColumns() entry in the header, -1 when absent.
std::vector<int> MapColumns(const std::vector<internal::Field>& header) {
  std::vector<int> index(StepTableColumns().size(), -1);
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string name = Normalize(header[c].text);
    for (std::size_t k = 0; k < StepTableColumns().size(); ++k) {
      if (name == StepTableColumns()[k]) index[k] = static_cast<int>(c);
    }
  }
  return index;
}

}  // namespace

const std::vector<std::string_view>& StepTableColumns() {
  static const std::vector<std::string_view> kColumns = {"gpus",
                                                         "global batch",
                                                         "micro batch",
                                                         "hidden size",
                                                         "attention heads",
                                                         "layers",
                                                         "sequence length",
                                                         "tensor parallelism",
                                                         "data parallelism",
                                                         "pipeline parallelism",
                                                         "iteration time (ms)"};
  return kColumns;
}

bool LooksLikeStepTable(std::string_view text) {
  const auto lines = internal::SplitLines(text);
  if (lines.empty()) return false;
  for (int index : MapColumns(internal::SplitCsv(lines[0]))) {
    if (index < 0) return false;
  }
  return true;
}

Result<StepTable> ParseStepTable(std::string_view text, const std::string& path) {
  const auto lines = internal::SplitLines(text);
  if (lines.empty()) return Error::At(path, 1, 1, "empty step table");
  const auto header = internal::SplitCsv(lines[0]);
  const auto index = MapColumns(header);
  for (std::size_t k = 0; k < index.size(); ++k) {
    if (index[k] < 0)
      return Error::At(
          path, 1, 1,
          "step table header lacks the column '" + std::string(StepTableColumns()[k]) + "'");
  }
  StepTable table;
  table.path = path;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int line_no = static_cast<int>(i) + 1;
    if (internal::Trim(lines[i]).empty()) continue;
    const auto cells = internal::SplitCsv(lines[i]);
    if (cells.size() != header.size())
      return Error::At(path, line_no, 1,
                       "expected " + std::to_string(header.size()) + " cells, found " +
                           std::to_string(cells.size()));
    std::int64_t v[10] = {};
    for (std::size_t k = 0; k < 10; ++k) {
      const auto& cell = cells[index[k]];
      const auto n = internal::ParseNumber(cell.text);
      if (!n || *n < 1 || std::floor(*n) != *n)
        return Error::At(path, line_no, cell.column,
                         "expected a positive integer for '" + std::string(StepTableColumns()[k]) +
                             "', found '" + std::string(cell.text) + "'");
      v[k] = static_cast<std::int64_t>(*n);
    }
    const auto& time_cell = cells[index[10]];
    const auto ms = internal::ParseNumber(time_cell.text);
    if (!ms || *ms <= 0)
      return Error::At(
          path, line_no, time_cell.column,
          "expected a positive iteration time in ms, found '" + std::string(time_cell.text) + "'");
    StepRow row{line_no, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], *ms * 1e-3};
    if (row.tp * row.dp * row.pp != row.gpus)
      return Error::At(path, line_no, cells[index[0]].column,
                       "GPUs = " + std::to_string(row.gpus) +
                           " but TP*DP*PP = " + std::to_string(row.tp * row.dp * row.pp));
    table.rows.push_back(row);
  }
  if (table.rows.empty()) return Error::At(path, 1, 1, "step table has no rows");
  return table;
}

}  // namespace foresight::calibrate
