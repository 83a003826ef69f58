#include "search/results_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace foresight::search {
namespace {

std::string CsvCell(const Json& value) {
  std::string text = CellText(value);
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at)) {
    text.replace(at, 1, " | ");
  }
  if (text.find_first_of(",\"\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// Splits one CSV line (no newline inside cells). Returns false on an unterminated quote.
bool SplitCsv(const std::string& line, std::vector<std::string>* cells) {
  cells->clear();
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells->push_back(std::move(cell));
      cell.clear();
    } else {
      cell += c;
    }
  }
  cells->push_back(std::move(cell));
  return !quoted;
}

// A CSV cell back to a value: "" null, true/false, integers, numbers, else a string.
Json ParseCell(const std::string& text) {
  if (text.empty()) return nullptr;
  if (text == "true") return true;
  if (text == "false") return false;
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const long long integer = std::strtoll(begin, &end, 10);
  if (errno == 0 && end == begin + text.size()) return static_cast<std::int64_t>(integer);
  const double number = std::strtod(begin, &end);
  const bool numeric_start =
      std::isdigit(static_cast<unsigned char>(text[0])) != 0 || text[0] == '-' || text[0] == '.';
  if (numeric_start && end == begin + text.size()) return number;
  return text;
}

Error LineError(const std::string& path, int line, const std::string& message) {
  return Error::At(path, line, 0, message);
}

}  // namespace

std::string HashInputs(const std::string& text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

std::string CellText(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

Format FormatForPath(const std::string& path) {
  return path.size() >= 4 && path.substr(path.size() - 4) == ".csv" ? Format::kCsv
                                                                    : Format::kJsonLines;
}

std::string CsvHeader(const std::vector<std::string>& columns) {
  std::string line = "point,hash";
  for (const std::string& c : columns) line += "," + CsvCell(c);
  return line + "\n";
}

std::string FormatRow(const Row& row, Format format, const std::vector<std::string>& columns) {
  if (format == Format::kCsv) {
    std::string line = std::to_string(row.point) + "," + row.hash;
    for (const std::string& c : columns) {
      line += ",";
      if (row.record.contains(c)) line += CsvCell(row.record[c]);
    }
    return line + "\n";
  }
  Json j = Json::object();
  j["point"] = row.point;
  j["hash"] = row.hash;
  for (const auto& [key, value] : row.record.items()) j[key] = value;
  if (!row.result.is_null()) j["result"] = row.result;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<std::vector<Row>> ParseRows(const std::string& text, const std::string& path, Format format,
                                   const std::vector<std::string>& columns) {
  std::vector<Row> rows;
  std::size_t begin = 0;
  int line_number = 0;
  while (true) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;  // no newline: a partial line from a killed run
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    if (format == Format::kCsv) {
      std::vector<std::string> cells;
      if (!SplitCsv(line, &cells)) return LineError(path, line_number, "unterminated quote");
      if (line_number == 1) {
        if (line + "\n" != CsvHeader(columns)) {
          return LineError(path, line_number,
                           "the CSV header does not match this run's columns; expected " +
                               CsvHeader(columns).substr(0, CsvHeader(columns).size() - 1));
        }
        continue;
      }
      if (cells.size() != columns.size() + 2) {
        return LineError(path, line_number,
                         "expected " + std::to_string(columns.size() + 2) + " cells, found " +
                             std::to_string(cells.size()));
      }
      Row row;
      const Json point = ParseCell(cells[0]);
      if (!point.is_number_integer()) {
        return LineError(path, line_number, "expected a point index, found '" + cells[0] + "'");
      }
      row.point = point.get<std::int64_t>();
      row.hash = cells[1];
      for (std::size_t i = 0; i < columns.size(); ++i) {
        row.record[columns[i]] = ParseCell(cells[i + 2]);
      }
      rows.push_back(std::move(row));
      continue;
    }
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("point") ||
        !j["point"].is_number_integer() || !j.contains("hash") || !j["hash"].is_string()) {
      return LineError(path, line_number,
                       "expected a JSON object with \"point\" and \"hash\" on each line");
    }
    Row row;
    row.point = j["point"].get<std::int64_t>();
    row.hash = j["hash"].get<std::string>();
    for (auto& [key, value] : j.items()) {
      if (key == "point" || key == "hash") continue;
      if (key == "result") {
        row.result = value;
      } else {
        row.record[key] = value;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<ResultsFile> ResultsFile::Open(const std::string& path,
                                      const std::vector<std::string>& columns, bool resume,
                                      std::int64_t num_points,
                                      const std::function<std::string(std::int64_t)>& hash_of,
                                      std::map<std::int64_t, Row>* finished) {
  const Format format = FormatForPath(path);
  std::vector<Row> kept;
  std::error_code ec;
  if (resume && std::filesystem::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot read the results file to resume", path, 0, 0};
    std::ostringstream text;
    text << in.rdbuf();
    Result<std::vector<Row>> rows = ParseRows(text.str(), path, format, columns);
    if (!rows.ok()) return rows.error();
    for (Row& row : *rows) {
      if (row.point < 0 || row.point >= num_points || finished->count(row.point) != 0) continue;
      if (row.hash != hash_of(row.point)) continue;
      finished->emplace(row.point, row);
      kept.push_back(std::move(row));
    }
  }
  // Rewrite what is kept (whole rows only), then append from there.
  const std::string tmp = path + ".tmp";
  {
    std::string text = format == Format::kCsv ? CsvHeader(columns) : std::string();
    for (const Row& row : kept) text += FormatRow(row, format, columns);
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Error{"cannot write the results file", tmp, 0, 0};
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error{"cannot replace the results file: " + ec.message(), path, 0, 0};
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return Error{std::string("cannot open for appending: ") + std::strerror(errno), path, 0, 0};
  return ResultsFile(path, format, columns, fd);
}

ResultsFile::ResultsFile(ResultsFile&& other) noexcept
    : path_(std::move(other.path_)),
      format_(other.format_),
      columns_(std::move(other.columns_)),
      fd_(other.fd_) {
  other.fd_ = -1;
}

ResultsFile::~ResultsFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status ResultsFile::WriteAll(int fd, const std::string& text) const {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{std::string("write failed: ") + std::strerror(errno), path_, 0, 0};
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status ResultsFile::Append(const Row& row) {
  FS_CHECK(fd_ >= 0, "ResultsFile::Append after Finish");
  // One write(2) per row: the kernel appends it whole (O_APPEND), so a kill leaves whole rows.
  return WriteAll(fd_, FormatRow(row, format_, columns_));
}

Status ResultsFile::Finish(const std::vector<Row>& rows) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::vector<const Row*> sorted;
  for (const Row& r : rows) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Row* a, const Row* b) { return a->point < b->point; });
  std::string text = format_ == Format::kCsv ? CsvHeader(columns_) : std::string();
  for (const Row* r : sorted) text += FormatRow(*r, format_, columns_);
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{std::string("cannot write: ") + std::strerror(errno), tmp, 0, 0};
  Status s = WriteAll(fd, text);
  ::fdatasync(fd);
  ::close(fd);
  if (!s.ok()) return s;
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) return Error{"cannot replace the results file: " + ec.message(), path_, 0, 0};
  return Status::Ok();
}

}  // namespace foresight::search
