#include "calibrate/import_vtrain.h"

#include <cmath>

#include "calibrate/internal/fit_text.h"

namespace foresight::calibrate {

Result<CommSeries> ParseVtrainAllReduce(std::string_view text, const std::string& path) {
  const auto lines = internal::SplitLines(text);
  if (lines.empty() || internal::Trim(lines[0]) != kVtrainAllReduceHeader)
    return Error::At(
        path, 1, 1,
        "expected the vTrain all-reduce header '" + std::string(kVtrainAllReduceHeader) + "'");
  CommSeries s;
  s.path = path;
  s.op = CommOp::kAllReduce;
  s.nodes = 1;
  double best_algbw = 0, ratio = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int line_no = static_cast<int>(i) + 1;
    if (internal::Trim(lines[i]).empty()) continue;
    const auto cells = internal::SplitCsv(lines[i]);
    if (cells.size() != 7)
      return Error::At(path, line_no, 1,
                       "expected 7 cells (size, count, type, time, busbw, time, busbw), found " +
                           std::to_string(cells.size()));
    double v[7] = {};
    for (int c : {0, 1, 3, 4, 5, 6}) {
      const auto n = internal::ParseNumber(cells[c].text);
      if (!n || *n <= 0)
        return Error::At(path, line_no, cells[c].column,
                         "expected a positive number, found '" + std::string(cells[c].text) + "'");
      v[c] = *n;
    }
    const double bytes = v[0];
    s.points.push_back({bytes, v[3] * 1e-9, false, line_no});
    s.points.push_back({bytes, v[5] * 1e-9, true, line_no});
    const double algbw = bytes / v[3];  // bytes per ns = GB/s
    if (algbw > best_algbw) {
      best_algbw = algbw;
      ratio = v[4] / algbw;
    }
  }
  if (s.points.empty()) return Error::At(path, 1, 1, "no data rows");
  if (ratio >= 2.0 || ratio <= 0)
    return Error::At(
        path, 2, 1,
        "busbw/algbw ratio " + std::to_string(ratio) + " is not 2(n-1)/n for any rank count n");
  s.ranks = std::llround(2.0 / (2.0 - ratio));
  s.notes.push_back("ranks from busbw/algbw = 2(n-1)/n on the largest message");
  if (auto named = internal::IntegerBefore(internal::BaseName(path), "gpu");
      named && *named != s.ranks)
    return Error::At(path, 2, 1,
                     "busbw/algbw implies " + std::to_string(s.ranks) +
                         " ranks but the file name says " + std::to_string(*named));
  s.algorithm = "default";
  s.hardware = "A100 (vTrain dataset)";
  s.notes.push_back("op all_reduce and nodes = 1 from the vTrain dataset README");
  return s;
}

}  // namespace foresight::calibrate
