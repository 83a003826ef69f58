// Small text helpers shared by the calibration importers (not part of the public interface).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::calibrate::internal {

// Lines without their '\n' / "\r\n" terminators; a leading UTF-8 byte-order mark is dropped.
std::vector<std::string_view> SplitLines(std::string_view text);

struct Field {
  std::string_view text;
  int column = 0;  // 1-based
};
// Whitespace-separated fields with their columns.
std::vector<Field> SplitWhitespace(std::string_view line);
// Comma-separated cells (no quoting), trimmed, with their columns.
std::vector<Field> SplitCsv(std::string_view line);

std::string_view Trim(std::string_view s);
// A whole-string finite number (strtod syntax), or nullopt.
std::optional<double> ParseNumber(std::string_view s);
// The file name part of a path.
std::string_view BaseName(std::string_view path);
// The integer directly before `suffix` in `name` (e.g. "10node" -> 10), or nullopt.
std::optional<long> IntegerBefore(std::string_view name, std::string_view suffix);
std::string ToLower(std::string_view s);

}  // namespace foresight::calibrate::internal
