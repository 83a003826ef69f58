#include "calibrate/internal/fit_text.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace foresight::calibrate::internal {

std::vector<std::string_view> SplitLines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::vector<Field> SplitWhitespace(std::string_view line) {
  std::vector<Field> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size()) break;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    fields.push_back({line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return fields;
}

std::vector<Field> SplitCsv(std::string_view line) {
  std::vector<Field> cells;
  std::size_t start = 0;
  while (true) {
    std::size_t end = line.find(',', start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view cell = line.substr(start, end - start);
    std::size_t lead = 0;
    while (lead < cell.size() && std::isspace(static_cast<unsigned char>(cell[lead]))) ++lead;
    cells.push_back({Trim(cell), static_cast<int>(start + lead) + 1});
    if (end == line.size()) break;
    start = end + 1;
  }
  return cells;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string_view BaseName(std::string_view path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<long> IntegerBefore(std::string_view name, std::string_view suffix) {
  std::size_t pos = name.find(suffix);
  while (pos != std::string_view::npos) {
    std::size_t begin = pos;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(name[begin - 1]))) --begin;
    if (begin < pos)
      return std::strtol(std::string(name.substr(begin, pos - begin)).c_str(), nullptr, 10);
    pos = name.find(suffix, pos + 1);
  }
  return std::nullopt;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace foresight::calibrate::internal
