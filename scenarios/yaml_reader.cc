#include "scenarios/internal/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <system_error>

namespace foresight::scenarios::internal {
namespace {

bool IsQuoted(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "!"; }

std::string Where(const std::string& path) {
  return path.empty() ? "at the top level" : "in " + path;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-folded.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) &&
          Lower(a[i - 2]) == Lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

void ReadContext::AddOverride(const std::string& path, const std::string& set_text) {
  overrides_[path] = set_text;
}

const std::string* ReadContext::OverrideFor(std::string_view path) const {
  // The path itself, then each ancestor ("a.b.c", "a.b", "a").
  std::string_view p = path;
  while (!p.empty()) {
    auto it = overrides_.find(p);
    if (it != overrides_.end()) return &it->second;
    const std::size_t dot = p.rfind('.');
    if (dot == std::string_view::npos) break;
    p = p.substr(0, dot);
  }
  return nullptr;
}

void ReadContext::RecordMark(const std::string& path, const YAML::Mark& mark) {
  if (mark.is_null()) return;
  marks_[path] = mark;
}

Error ReadContext::ErrorAt(std::string_view path, const YAML::Mark& mark,
                           std::string message) const {
  if (const std::string* set_text = OverrideFor(path)) {
    return Error{std::move(message), "--set " + *set_text, 0, 0};
  }
  if (mark.is_null()) return Error{std::move(message), source_, 0, 0};
  return Error::At(source_, mark.line + 1, mark.column + 1, std::move(message));
}

Error ReadContext::ErrorForKey(std::string_view path, std::string message) const {
  if (const std::string* set_text = OverrideFor(path)) {
    return Error{std::move(message), "--set " + *set_text, 0, 0};
  }
  std::string_view p = path;
  while (!p.empty()) {
    auto it = marks_.find(p);
    if (it != marks_.end()) return ErrorAt(path, it->second, std::move(message));
    const std::size_t dot = p.rfind('.');
    if (dot == std::string_view::npos) break;
    p = p.substr(0, dot);
  }
  return Error{std::move(message), source_, 0, 0};
}

Result<MapReader> MapReader::Open(ReadContext& context, const YAML::Node& node, std::string path,
                                  const YAML::Mark& where,
                                  const std::vector<std::string>& valid_keys, bool null_is_empty) {
  return OpenImpl(context, node, std::move(path), where, &valid_keys, null_is_empty);
}

Result<MapReader> MapReader::OpenAnyKeys(ReadContext& context, const YAML::Node& node,
                                         std::string path, const YAML::Mark& where,
                                         bool null_is_empty) {
  return OpenImpl(context, node, std::move(path), where, nullptr, null_is_empty);
}

Result<MapReader> MapReader::OpenImpl(ReadContext& context, const YAML::Node& node,
                                      std::string path, const YAML::Mark& where,
                                      const std::vector<std::string>* valid_keys,
                                      bool null_is_empty) {
  MapReader reader(&context, std::move(path), where);
  if (node.IsNull() && null_is_empty) return reader;
  if (!node.IsMap()) {
    const std::string what = reader.path_.empty() ? "expected a mapping at the top level"
                                                  : reader.path_ + ": expected a mapping";
    // A wrong value is located at the value; a missing one (null) at its key.
    const YAML::Mark at = node.IsNull() || node.Mark().is_null() ? where : node.Mark();
    return context.ErrorAt(reader.path_, at, what + ", found " + Describe(node));
  }
  for (const auto& kv : node) {  // kv is the iterator's value, held for the loop body
    const YAML::Node& key_node = kv.first;
    const YAML::Node& value = kv.second;
    if (!key_node.IsScalar()) {
      return context.ErrorAt(
          reader.path_, key_node.Mark(),
          "expected a string key " + Where(reader.path_) + ", found " + Describe(key_node));
    }
    const std::string key = key_node.Scalar();
    const std::string key_path = reader.PathOf(key);
    if (valid_keys != nullptr &&
        std::find(valid_keys->begin(), valid_keys->end(), key) == valid_keys->end()) {
      std::string message = "unknown key '" + key + "' " + Where(reader.path_) +
                            "; valid keys: " + JoinNames(*valid_keys);
      const std::string guess = ClosestMatch(key, *valid_keys);
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      return context.ErrorAt(key_path, key_node.Mark(), std::move(message));
    }
    if (const Entry* first = reader.Find(key)) {
      const YAML::Mark m = first->key_node.Mark();
      return context.ErrorAt(key_path, key_node.Mark(),
                             "duplicate key '" + key + "' " + Where(reader.path_) +
                                 "; first written at line " + std::to_string(m.line + 1) +
                                 ", column " + std::to_string(m.column + 1));
    }
    // Scalars are located at their value, mappings and sequences at their key.
    context.RecordMark(key_path, value.IsScalar() ? value.Mark() : key_node.Mark());
    reader.entries_.push_back(Entry{key, key_node, value});
  }
  return reader;
}

Result<MapReader> MapReader::Child(std::string_view key, const std::vector<std::string>& valid_keys,
                                   bool null_is_empty) const {
  const Entry* entry = Find(key);
  if (entry == nullptr) {
    return Open(*context_, YAML::Node(), PathOf(key), mark_, valid_keys,
                /*null_is_empty=*/true);
  }
  return Open(*context_, entry->value, PathOf(key), entry->key_node.Mark(), valid_keys,
              null_is_empty);
}

Result<MapReader> MapReader::ChildAnyKeys(std::string_view key, bool null_is_empty) const {
  const Entry* entry = Find(key);
  if (entry == nullptr) {
    return OpenAnyKeys(*context_, YAML::Node(), PathOf(key), mark_, /*null_is_empty=*/true);
  }
  return OpenAnyKeys(*context_, entry->value, PathOf(key), entry->key_node.Mark(), null_is_empty);
}

const MapReader::Entry* MapReader::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::string MapReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Error MapReader::ErrorHere(std::string message) const {
  return context_->ErrorAt(path_, mark_, std::move(message));
}

Status MapReader::Require(std::string_view key, std::string_view why) const {
  if (Has(key)) return Status::Ok();
  if (path_.empty()) {
    return ErrorHere("missing required section '" + std::string(key) + "'" + std::string(why));
  }
  return ErrorHere("missing required key '" + std::string(key) + "' in " + path_ +
                   std::string(why));
}

Error MapReader::ValueError(const Entry& entry, std::string_view message) const {
  const std::string path = PathOf(entry.key);
  return context_->ErrorAt(path, entry.value.Mark(), path + ": " + std::string(message));
}

Status MapReader::ReadPositiveInt(std::string_view key, std::int64_t* out) const {
  const Entry* e = Find(key);
  if (e == nullptr) return Status::Ok();
  if (e->value.IsScalar() && !IsQuoted(e->value)) {
    const std::string& text = e->value.Scalar();
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size() && v > 0) {
      *out = v;
      return Status::Ok();
    }
  }
  return ValueError(*e, "expected a positive integer, found " + Describe(e->value));
}

Status MapReader::ReadPositiveDouble(std::string_view key, double* out) const {
  const Entry* e = Find(key);
  if (e == nullptr) return Status::Ok();
  if (e->value.IsScalar() && !IsQuoted(e->value)) {
    const std::string& text = e->value.Scalar();
    double v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(v) && v > 0) {
      *out = v;
      return Status::Ok();
    }
  }
  return ValueError(*e, "expected a positive number, found " + Describe(e->value));
}

Status MapReader::ReadBool(std::string_view key, bool* out) const {
  const Entry* e = Find(key);
  if (e == nullptr) return Status::Ok();
  if (e->value.IsScalar() && !IsQuoted(e->value)) {
    const std::string& t = e->value.Scalar();
    if (t == "true" || t == "True" || t == "TRUE") {
      *out = true;
      return Status::Ok();
    }
    if (t == "false" || t == "False" || t == "FALSE") {
      *out = false;
      return Status::Ok();
    }
  }
  return ValueError(*e, "expected true or false, found " + Describe(e->value));
}

Status MapReader::ReadString(std::string_view key, std::string* out) const {
  const Entry* e = Find(key);
  if (e == nullptr) return Status::Ok();
  if (!e->value.IsScalar() || e->value.Scalar().empty()) {
    return ValueError(*e, "expected a non-empty string, found " + Describe(e->value));
  }
  *out = e->value.Scalar();
  return Status::Ok();
}

Status MapReader::ReadChoice(std::string_view key, const std::vector<std::string>& valid,
                             std::string* out) const {
  const Entry* e = Find(key);
  if (e == nullptr) return Status::Ok();
  if (!e->value.IsScalar()) {
    return ValueError(*e, "expected one of " + JoinNames(valid) + ", found " + Describe(e->value));
  }
  const std::string& text = e->value.Scalar();
  if (std::find(valid.begin(), valid.end(), text) != valid.end()) {
    *out = text;
    return Status::Ok();
  }
  std::string message = "unknown value '" + text + "'; valid: " + JoinNames(valid);
  const std::string guess = ClosestMatch(text, valid);
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  return ValueError(*e, message);
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'" + (IsQuoted(node) ? " (a quoted string)" : "");
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing (null)";
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = word.size() <= 3 ? 1 : 2;
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

}  // namespace foresight::scenarios::internal
