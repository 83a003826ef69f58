#include "calibrate/measurement.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>

#include "base/check.h"

namespace foresight::calibrate {
namespace {

constexpr std::string_view kVersionKey = "foresight-measurement";

struct KindInfo {
  MeasurementKind kind;
  std::string_view name;
  std::vector<ColumnSpec> columns;
};

std::vector<ColumnSpec> WithTiming(std::vector<ColumnSpec> head, std::vector<ColumnSpec> tail) {
  head.push_back({"repeats", true});
  head.push_back({"time_median_s", true});
  head.push_back({"time_min_s", true});
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

const std::vector<KindInfo>& Kinds() {
  // Immutable after first use (function-local static const: no mutable global state).
  static const std::vector<KindInfo> kinds = {
      {MeasurementKind::kGemm, "gemm",
       WithTiming({{"dtype"}, {"layout"}, {"m", true}, {"n", true}, {"k", true}},
                  {{"flop_per_s", true}})},
      {MeasurementKind::kMemBw, "membw",
       WithTiming({{"op"}, {"working_set_bytes", true}, {"bytes", true}},
                  {{"bandwidth_bytes_per_s", true}})},
      {MeasurementKind::kLaunch, "launch", WithTiming({{"mode"}, {"launches", true}}, {})},
      {MeasurementKind::kMemcpy, "memcpy",
       WithTiming({{"direction"}, {"memory"}, {"bytes", true}}, {{"bandwidth_bytes_per_s", true}})},
      {MeasurementKind::kCollective, "collective",
       WithTiming({{"collective"}, {"dtype"}, {"ranks", true}, {"nodes", true}, {"bytes", true}},
                  {{"algbw_bytes_per_s", true}, {"busbw_bytes_per_s", true}})},
      {MeasurementKind::kCpuGemm, "cpu_gemm",
       WithTiming({{"dtype"}, {"m", true}, {"n", true}, {"k", true}, {"threads", true}},
                  {{"flop_per_s", true}})},
      {MeasurementKind::kCpuMemBw, "cpu_membw",
       WithTiming({{"op"}, {"working_set_bytes", true}, {"bytes", true}, {"threads", true}},
                  {{"bandwidth_bytes_per_s", true}})},
      {MeasurementKind::kCpuAdam, "cpu_adam",
       WithTiming({{"params", true}, {"threads", true}, {"bytes", true}},
                  {{"params_per_s", true}})},
      {MeasurementKind::kHostMemcpy, "host_memcpy",
       WithTiming({{"bytes", true}, {"threads", true}}, {{"bandwidth_bytes_per_s", true}})},
      {MeasurementKind::kOverlap, "overlap",
       WithTiming({{"victim"},
                   {"dtype"},
                   {"m", true},
                   {"n", true},
                   {"k", true},
                   {"collective"},
                   {"bytes", true},
                   {"ranks", true}},
                  {{"alone_s", true}, {"slowdown", true}})},
  };
  return kinds;
}

const KindInfo& Info(MeasurementKind kind) {
  for (const KindInfo& info : Kinds()) {
    if (info.kind == kind) return info;
  }
  FS_CHECK(false, "unknown MeasurementKind");
  return Kinds().front();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ValidKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<double> ParseDouble(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> SplitCells(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      cells.push_back(line.substr(start));
      break;
    }
    cells.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
  return cells;
}

std::string JoinNames(const std::vector<ColumnSpec>& columns) {
  std::string out;
  for (const ColumnSpec& c : columns) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

std::string KindList() {
  std::string out;
  for (const KindInfo& info : Kinds()) out += (out.empty() ? "" : ", ") + std::string(info.name);
  return out;
}

std::optional<std::string> Lookup(const Metadata& metadata, std::string_view key) {
  for (const auto& [k, v] : metadata) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view KindName(MeasurementKind kind) { return Info(kind).name; }

std::optional<MeasurementKind> ParseKind(std::string_view name) {
  for (const KindInfo& info : Kinds()) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

std::vector<MeasurementKind> AllKinds() {
  std::vector<MeasurementKind> out;
  for (const KindInfo& info : Kinds()) out.push_back(info.kind);
  return out;
}

const std::vector<ColumnSpec>& RequiredColumns(MeasurementKind kind) { return Info(kind).columns; }

int MeasurementTable::ColumnIndex(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

const std::string& MeasurementTable::Text(std::size_t row, std::string_view column) const {
  const int index = ColumnIndex(column);
  FS_CHECK(index >= 0, "measurement table has no column " + std::string(column));
  FS_CHECK(row < rows.size(), "measurement row index out of range");
  return rows[row][static_cast<std::size_t>(index)];
}

double MeasurementTable::Number(std::size_t row, std::string_view column) const {
  const std::string& text = Text(row, column);
  const std::optional<double> value = ParseDouble(text);
  FS_CHECK(value.has_value(), "cell is not a number: " + text);
  return *value;
}

void MeasurementTable::AddRow(std::vector<std::string> cells) {
  FS_CHECK(cells.size() == columns.size(), "row has " + std::to_string(cells.size()) +
                                               " cells, table has " +
                                               std::to_string(columns.size()) + " columns");
  rows.push_back(std::move(cells));
  row_lines.push_back(0);
}

std::optional<std::string> MeasurementFile::Meta(std::string_view key) const {
  return Lookup(metadata, key);
}

std::optional<std::string> MeasurementFile::Meta(const MeasurementTable& table,
                                                 std::string_view key) const {
  if (auto v = Lookup(table.metadata, key)) return v;
  return Lookup(metadata, key);
}

std::vector<const MeasurementTable*> MeasurementFile::TablesOf(MeasurementKind kind) const {
  std::vector<const MeasurementTable*> out;
  for (const MeasurementTable& t : tables) {
    if (t.kind == kind) out.push_back(&t);
  }
  return out;
}

MeasurementTable MakeTable(MeasurementKind kind) {
  MeasurementTable table;
  table.kind = kind;
  for (const ColumnSpec& c : RequiredColumns(kind)) table.columns.emplace_back(c.name);
  return table;
}

std::string FormatNumber(double value) {
  FS_CHECK(std::isfinite(value), "FormatNumber of a non-finite value");
  char buffer[64];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (ParseDouble(buffer) == value) break;
  }
  return buffer;
}

Result<MeasurementFile> ParseMeasurements(std::string_view text, const std::string& path) {
  MeasurementFile file;
  file.path = path;
  // State: metadata block of the current (not yet headed) table, or the file block.
  enum class State { kFile, kTableMeta, kRows } state = State::kFile;
  int line_number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    const std::string_view line = Trim(raw);
    if (line.empty() || line.substr(0, 2) == "##") {
      if (end == text.size()) break;
      continue;
    }
    auto error = [&](int column, const std::string& message) {
      return Error::At(path, line_number, column, message);
    };
    if (line.front() == '#') {
      const std::size_t colon = line.find(':');
      const std::string_view key = Trim(
          line.substr(1, colon == std::string_view::npos ? std::string_view::npos : colon - 1));
      if (colon == std::string_view::npos || !ValidKey(key)) {
        return error(1, "malformed metadata line '" + std::string(line) +
                            "': expected '# key: value' with key of [a-z0-9_-], or '##' comment");
      }
      const std::string value(Trim(line.substr(colon + 1)));
      if (key == "kind") {
        const std::optional<MeasurementKind> kind = ParseKind(value);
        if (!kind) {
          return error(static_cast<int>(colon) + 3,
                       "unknown measurement kind '" + value + "'; expected one of: " + KindList());
        }
        if (state == State::kTableMeta) {
          return error(1, "'# kind: " + value + "' but the previous table (kind " +
                              std::string(KindName(file.tables.back().kind)) +
                              ") has no header row");
        }
        MeasurementTable table;
        table.kind = *kind;
        file.tables.push_back(std::move(table));
        state = State::kTableMeta;
        continue;
      }
      if (state == State::kRows) {
        return error(1, "metadata line '" + std::string(line) +
                            "' after data rows; a new table must start with '# kind: ...'");
      }
      Metadata& block = state == State::kFile ? file.metadata : file.tables.back().metadata;
      if (key == kVersionKey && state == State::kFile && value != "1") {
        return error(static_cast<int>(colon) + 3,
                     "unsupported measurement format version '" + value + "'; expected 1");
      }
      if (key == kVersionKey && state == State::kFile) continue;  // format, not metadata
      if (Lookup(block, key)) {
        return error(2, "duplicate metadata key '" + std::string(key) + "'");
      }
      block.emplace_back(std::string(key), value);
      continue;
    }
    if (state == State::kFile) {
      return error(1, "data before '# kind: ...'; expected a '# kind: <" + KindList() +
                          ">' line before the header row");
    }
    MeasurementTable& table = file.tables.back();
    const std::vector<std::string_view> cells = SplitCells(line);
    if (state == State::kTableMeta) {
      table.header_line = line_number;
      int column = 1;
      for (std::string_view cell : cells) {
        const std::string name(Trim(cell));
        if (name.empty()) return error(column, "empty column name in header row");
        if (table.ColumnIndex(name) >= 0) {
          return error(column, "duplicate column '" + name + "' in header row");
        }
        table.columns.push_back(name);
        column += static_cast<int>(cell.size()) + 1;
      }
      for (const ColumnSpec& spec : RequiredColumns(table.kind)) {
        if (table.ColumnIndex(spec.name) < 0) {
          return error(1, "header row of a '" + std::string(KindName(table.kind)) +
                              "' table lacks column '" + std::string(spec.name) +
                              "'; required columns: " + JoinNames(RequiredColumns(table.kind)));
        }
      }
      state = State::kRows;
      continue;
    }
    if (cells.size() != table.columns.size()) {
      return error(1, "row has " + std::to_string(cells.size()) + " cells; the header (line " +
                          std::to_string(table.header_line) + ") has " +
                          std::to_string(table.columns.size()) + " columns");
    }
    std::vector<std::string> row;
    for (std::string_view cell : cells) row.emplace_back(Trim(cell));
    int column = 1;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      for (const ColumnSpec& spec : RequiredColumns(table.kind)) {
        if (spec.numeric && spec.name == table.columns[i] && !ParseDouble(row[i])) {
          return error(
              column, "column '" + table.columns[i] + "': '" + row[i] + "' is not a finite number");
        }
      }
      column += static_cast<int>(cells[i].size()) + 1;
    }
    table.rows.push_back(std::move(row));
    table.row_lines.push_back(line_number);
  }
  if (state == State::kTableMeta) {
    return Error::At(path, line_number, 1,
                     "table of kind '" + std::string(KindName(file.tables.back().kind)) +
                         "' has no header row at end of file");
  }
  if (file.tables.empty()) {
    return Error::At(path, line_number, 1,
                     "no measurement table: expected a '# kind: <" + KindList() + ">' line");
  }
  return file;
}

Result<MeasurementFile> ReadMeasurements(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open measurement file for reading", path, 0, 0};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return ParseMeasurements(buffer.str(), path);
}

bool LooksLikeMeasurements(std::string_view text) {
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    if (first && line.front() != '#') return false;
    first = false;
    if (line.substr(0, 1) == "#" && line.find(':') != std::string_view::npos) {
      const std::size_t colon = line.find(':');
      if (Trim(line.substr(1, colon - 1)) == "kind") {
        return ParseKind(Trim(line.substr(colon + 1))).has_value();
      }
    }
  }
  return false;
}

void WriteMeasurements(const MeasurementFile& file, std::ostream& out) {
  auto check_meta = [](const Metadata& metadata) {
    for (const auto& [key, value] : metadata) {
      FS_CHECK(ValidKey(key) && key != "kind", "invalid metadata key '" + key + "'");
      FS_CHECK(value.find('\n') == std::string::npos,
               "metadata value of '" + key + "' contains a newline");
    }
  };
  check_meta(file.metadata);
  for (const MeasurementTable& table : file.tables) check_meta(table.metadata);
  out << "# " << kVersionKey << ": 1\n";
  for (const auto& [key, value] : file.metadata) {
    if (key == kVersionKey) continue;
    out << "# " << key << ": " << value << "\n";
  }
  bool first = true;
  for (const MeasurementTable& table : file.tables) {
    if (!first) out << "\n";
    first = false;
    for (const ColumnSpec& spec : RequiredColumns(table.kind)) {
      FS_CHECK(table.ColumnIndex(spec.name) >= 0,
               "table lacks required column " + std::string(spec.name));
    }
    out << "# kind: " << KindName(table.kind) << "\n";
    for (const auto& [key, value] : table.metadata) out << "# " << key << ": " << value << "\n";
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      out << (i ? "," : "") << table.columns[i];
    }
    out << "\n";
    for (const std::vector<std::string>& row : table.rows) {
      FS_CHECK(row.size() == table.columns.size(), "row width differs from header");
      for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << row[i];
      out << "\n";
    }
  }
}

Status WriteMeasurementsFile(const MeasurementFile& file, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return Error{"cannot open measurement file for writing", path, 0, 0};
  WriteMeasurements(file, out);
  out.close();
  if (!out) return Error{"failed writing measurement file", path, 0, 0};
  return Status::Ok();
}

}  // namespace foresight::calibrate
