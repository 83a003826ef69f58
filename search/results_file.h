// Result rows of a sweep or search, and the file they are appended to (docs/search.md).
//
// A row is one evaluated point: its index, a hash of its inputs, and a flat record of named
// columns (inputs and outputs; numbers, booleans, strings or null). Two formats, picked by the
// file name: ".csv" (a header, then one line per row: point,hash,<columns>) or anything else
// (JSON lines: {"point":i,"hash":"...",<columns>,"result":{...}}, where "result" is the full
// `foresight run --json` object when the point was simulated).
//
// Losing nothing: ResultsFile writes each row as one whole line with a single write(2) and
// flushes it, so a run killed at any moment leaves whole rows and at most one partial trailing
// line. Opening with resume reads the whole rows, drops a trailing partial line, and keeps the
// rows whose (point, hash) match the current run; Finish() rewrites the file with every row
// sorted by point (through a temporary file and rename), so a completed run's file does not
// depend on the order in which points finished.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"

namespace foresight::search {

using Json = nlohmann::ordered_json;

struct Row {
  std::int64_t point = 0;
  std::string hash;              // 16 hex digits, HashInputs()
  Json record = Json::object();  // column -> value, in column order
  Json result;                   // full result object (JSON lines only); null when absent
};

// FNV-1a 64-bit of `text`, as 16 lowercase hex digits. Deterministic across runs and machines.
std::string HashInputs(const std::string& text);

// A record cell as text: strings as they are, numbers and booleans as JSON, null as "".
std::string CellText(const Json& value);

enum class Format { kJsonLines, kCsv };
Format FormatForPath(const std::string& path);  // ".csv" -> kCsv, else kJsonLines

// One line (with '\n') for `row`; CSV cells follow `columns` (missing = empty).
std::string FormatRow(const Row& row, Format format, const std::vector<std::string>& columns);
std::string CsvHeader(const std::vector<std::string>& columns);

// Parses the whole lines of a results file (a final line without '\n' is ignored). A
// malformed whole line, or a CSV header that differs from `columns`, is an error naming
// file:line. Rows are returned in file order.
Result<std::vector<Row>> ParseRows(const std::string& text, const std::string& path, Format format,
                                   const std::vector<std::string>& columns);

class ResultsFile {
 public:
  // Creates (or, without resume, truncates) `path`. With resume, an existing file is read, a
  // trailing partial line removed, and its rows with point < num_points whose hash equals
  // hash_of(point) returned in *finished (keyed by point, first occurrence); other rows are
  // dropped from the file.
  static Result<ResultsFile> Open(const std::string& path, const std::vector<std::string>& columns,
                                  bool resume, std::int64_t num_points,
                                  const std::function<std::string(std::int64_t)>& hash_of,
                                  std::map<std::int64_t, Row>* finished);
  ResultsFile(ResultsFile&& other) noexcept;
  ResultsFile& operator=(ResultsFile&&) = delete;
  ResultsFile(const ResultsFile&) = delete;
  ~ResultsFile();

  // Appends one row as one line and flushes it. Not thread-safe (callers serialise).
  Status Append(const Row& row);
  // Rewrites the file with `rows` in point order (temporary file + rename) and closes it.
  Status Finish(const std::vector<Row>& rows);

 private:
  ResultsFile(std::string path, Format format, std::vector<std::string> columns, int fd)
      : path_(std::move(path)), format_(format), columns_(std::move(columns)), fd_(fd) {}
  Status WriteAll(int fd, const std::string& text) const;

  std::string path_;
  Format format_;
  std::vector<std::string> columns_;
  int fd_ = -1;
};

}  // namespace foresight::search
