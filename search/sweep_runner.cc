#include "search/sweep_runner.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "scenarios/sweep.h"
#include "search/evaluation.h"

namespace foresight::search {
namespace {

std::string Fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

std::string RenderTable(const std::vector<std::vector<std::string>>& cells) {
  std::vector<std::size_t> widths;
  for (const auto& row : cells) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::string cell = row[c];
      // The last cell (error text) is not padded.
      if (c + 1 < row.size()) cell.resize(widths[c], ' ');
      line += (c == 0 ? "" : "  ") + cell;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

Result<SweepReport> RunSweep(const std::string& path,
                             const std::vector<scenarios::SetOverride>& sets,
                             const RunOptions& options) {
  Result<scenarios::Sweep> sweep = scenarios::Sweep::LoadFile(path);
  if (!sweep.ok()) return sweep.error();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string fingerprint = text.str();
  for (const scenarios::SetOverride& s : sets) fingerprint += "\n--set " + s.key + "=" + s.value;

  SweepReport report;
  report.keys = sweep->keys();
  report.columns = report.keys;
  for (const std::string& c : OutputColumns()) report.columns.push_back(c);
  const scenarios::Sweep& sw = *sweep;
  auto hash_of = [&](std::int64_t i) {
    return HashInputs(fingerprint + "\n" + sw.Point(i).Canonical());
  };
  auto evaluate = [&](std::int64_t i) {
    Row row;
    for (const scenarios::SweepValue& v : sw.Point(i).values) row.record[v.key] = v.yaml;
    Result<scenarios::Scenario> scenario = sw.LoadPoint(i, sets);
    if (!scenario.ok()) {
      MarkNotEvaluated("invalid", scenario.error().ToString(), &row);
    } else {
      EvaluateScenario(*scenario, &row);
    }
    return row;
  };
  Result<std::vector<Row>> rows =
      RunPoints(sw.num_points(), report.columns, hash_of, evaluate, options, &report.stats);
  if (!rows.ok()) return rows.error();
  report.rows = std::move(rows).value();
  return report;
}

std::string RenderSweepTable(const SweepReport& report) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header = {"point"};
  for (const std::string& k : report.keys) header.push_back(k);
  for (const char* h : {"step_time_s", "tokens/s", "MFU", "peak_GiB", "fits", "note"}) {
    header.push_back(h);
  }
  cells.push_back(header);
  std::int64_t ok = 0;
  for (const Row& row : report.rows) {
    std::vector<std::string> line = {std::to_string(row.point)};
    for (const std::string& k : report.keys) line.push_back(TextOf(row.record, k));
    const std::string status = TextOf(row.record, "status");
    if (status == "ok") {
      ++ok;
      line.push_back(Fixed(NumberOf(row.record, "step_time_s"), 3));
      line.push_back(Fixed(NumberOf(row.record, "tokens_per_s"), 0));
      line.push_back(Fixed(100 * NumberOf(row.record, "mfu"), 1) + "%");
      line.push_back(Fixed(NumberOf(row.record, "peak_bytes") / (1024.0 * 1024 * 1024), 1));
      line.push_back(TextOf(row.record, "fits") == "true" ? "yes" : "NO");
      line.push_back("");
    } else {
      for (int c = 0; c < 5; ++c) line.push_back("-");
      std::string error = TextOf(row.record, "error");
      const std::size_t newline = error.find('\n');
      if (newline != std::string::npos) error = error.substr(0, newline) + " (...)";
      line.push_back(status + ": " + error);
    }
    cells.push_back(std::move(line));
  }
  std::string out = RenderTable(cells);
  out += std::to_string(report.rows.size()) + " points: " + std::to_string(ok) + " simulated, " +
         std::to_string(static_cast<std::int64_t>(report.rows.size()) - ok) + " invalid or failed";
  return out + "\n";
}

}  // namespace foresight::search
