#include "models/hw/internal/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

namespace foresight::hw::internal {
namespace {

// True when dotted path `outer` equals `inner` or is one of its ancestors.
bool Encloses(std::string_view outer, std::string_view inner) {
  if (outer.empty() || outer.size() > inner.size()) return false;
  if (inner.substr(0, outer.size()) != outer) return false;
  return inner.size() == outer.size() || inner[outer.size()] == '.';
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string FormatNumber(double value) {
  std::ostringstream out;
  out.precision(15);
  out << value;
  return out.str();
}

bool InBounds(double v, const Bounds& b) {
  const bool above = b.lo_open ? v > b.lo : v >= b.lo;
  const bool below = b.hi_open ? v < b.hi : v <= b.hi;
  return above && below;
}

// Numbers must be plain scalars: a quoted "312e12" is a string.
bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

std::optional<double> ParseDouble(const YAML::Node& node) {
  double value = 0;
  if (!IsPlainScalar(node) || !YAML::convert<double>::decode(node, value)) return std::nullopt;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

// Integers may be written as integer literals or as exact floating literals (80e9).
std::optional<std::int64_t> ParseInteger(const YAML::Node& node) {
  long long value = 0;  // NOLINT(google-runtime-int): yaml-cpp's conversion type
  if (IsPlainScalar(node) && YAML::convert<long long>::decode(node, value)) return value;
  const std::optional<double> as_double = ParseDouble(node);
  constexpr double kLimit = 9.2e18;  // inside int64 range
  if (!as_double || std::trunc(*as_double) != *as_double || std::fabs(*as_double) > kLimit) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*as_double);
}

}  // namespace

std::string DescribeNode(const YAML::Node& node) {
  if (!node.IsDefined()) return "nothing";
  if (node.IsNull()) return "null";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a sequence";
  if (node.Tag() == "!") return "quoted string \"" + node.Scalar() + "\"";
  return "'" + node.Scalar() + "'";
}

void YamlContext::Fail(std::string_view path, const YAML::Mark& mark, const std::string& message,
                       bool extending_blames) {
  if (error_) return;
  const OverrideSite* blame = nullptr;
  for (const OverrideSite& site : overrides_) {
    if (Encloses(site.path, path)) blame = &site;  // the last override applied wins
  }
  if (blame == nullptr && (extending_blames || mark.is_null())) {
    for (const OverrideSite& site : overrides_) {
      if (Encloses(path, site.path)) blame = &site;
    }
  }
  if (blame != nullptr) {
    error_ = Error::At(blame->file, blame->line, blame->column,
                       "override '" + blame->path + "': " + message);
  } else if (!mark.is_null()) {
    error_ = Error::At(file_, mark.line + 1, mark.column + 1, message);
  } else {
    error_ = Error::At(file_, 0, 0, message);
  }
}

std::string MapReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string MapReader::Where() const { return path_.empty() ? "at top level" : "in " + path_; }

std::optional<MapReader::Entry> MapReader::Find(std::string_view key) const {
  if (!present()) return std::nullopt;
  for (const auto& entry : node_) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) {
      return Entry{entry.first, entry.second};
    }
  }
  return std::nullopt;
}

std::optional<YAML::Node> MapReader::Lookup(std::string_view key, Need need) {
  valid_keys_.emplace_back(key);
  if (ctx_->failed() || !present()) return std::nullopt;
  std::optional<Entry> entry = Find(key);
  if (!entry) {
    if (need == Need::kRequired) {
      ctx_->Fail(path_, key_mark_, "missing required key '" + std::string(key) + "' " + Where());
    }
    return std::nullopt;
  }
  return entry->value;
}

void MapReader::Read(std::string_view key, std::string& out, Need need) {
  std::optional<YAML::Node> value = Lookup(key, need);
  if (!value) return;
  if (!value->IsScalar()) {
    const std::string path = PathOf(key);
    ctx_->Fail(path, value->Mark(), path + ": expected a string, found " + DescribeNode(*value));
    return;
  }
  out = value->Scalar();
}

bool MapReader::CheckBounds(std::string_view key, const YAML::Node& value, double number,
                            const Bounds& bounds) {
  if (InBounds(number, bounds)) return true;
  const std::string path = PathOf(key);
  ctx_->Fail(path, value.Mark(),
             path + " must be " + std::string(bounds.text) + ", found " + FormatNumber(number));
  return false;
}

void MapReader::Read(std::string_view key, double& out, Need need, const Bounds& bounds) {
  std::optional<YAML::Node> value = Lookup(key, need);
  if (!value) return;
  const std::optional<double> number = ParseDouble(*value);
  if (!number) {
    const std::string path = PathOf(key);
    ctx_->Fail(path, value->Mark(),
               path + ": expected a finite number, found " + DescribeNode(*value));
    return;
  }
  if (CheckBounds(key, *value, *number, bounds)) out = *number;
}

void MapReader::Read(std::string_view key, std::int64_t& out, Need need, const Bounds& bounds) {
  std::optional<YAML::Node> value = Lookup(key, need);
  if (!value) return;
  const std::optional<std::int64_t> number = ParseInteger(*value);
  if (!number) {
    const std::string path = PathOf(key);
    ctx_->Fail(path, value->Mark(), path + ": expected an integer, found " + DescribeNode(*value));
    return;
  }
  if (CheckBounds(key, *value, static_cast<double>(*number), bounds)) out = *number;
}

void MapReader::Read(std::string_view key, std::int32_t& out, Need need, const Bounds& bounds) {
  std::int64_t wide = out;
  Read(key, wide, need, bounds);
  const std::optional<Entry> entry = Find(key);
  if (ctx_->failed() || !entry) return;
  constexpr Bounds kInt32{-2147483648.0, false, 2147483647.0, false, "a 32-bit integer"};
  if (CheckBounds(key, entry->value, static_cast<double>(wide), kInt32)) {
    out = static_cast<std::int32_t>(wide);
  }
}

void MapReader::Read(std::string_view key, bool& out, Need need) {
  std::optional<YAML::Node> value = Lookup(key, need);
  if (!value) return;
  const bool plain = value->IsScalar() && value->Tag() != "!";  // "!" marks a quoted scalar
  const std::string text = value->IsScalar() ? value->Scalar() : "";
  if (plain && (text == "true" || text == "false")) {
    out = text == "true";
    return;
  }
  const std::string path = PathOf(key);
  ctx_->Fail(path, value->Mark(), path + ": expected true or false, found " + DescribeNode(*value));
}

void MapReader::ReadChoice(std::string_view key, std::string& out, Need need,
                           const std::vector<std::string_view>& choices) {
  std::string text = out;
  Read(key, text, need);
  const std::optional<Entry> entry = Find(key);
  if (ctx_->failed() || !entry) return;
  std::string valid;
  for (std::string_view choice : choices) {
    if (choice == text) {
      out = text;
      return;
    }
    valid += (valid.empty() ? "" : ", ") + std::string(choice);
  }
  const std::string path = PathOf(key);
  ctx_->Fail(path, entry->value.Mark(),
             path + ": expected one of " + valid + ", found '" + text + "'");
}

MapReader MapReader::Section(std::string_view key, Need need) {
  const std::string path = PathOf(key);
  std::optional<YAML::Node> value = Lookup(key, need);
  if (!value) return MapReader(*ctx_, YAML::Node(), path, key_mark_, /*present=*/false);
  const YAML::Mark key_mark = Find(key)->key.Mark();
  if (!value->IsMap()) {
    ctx_->Fail(path, value->Mark(), path + ": expected a map, found " + DescribeNode(*value));
    return MapReader(*ctx_, YAML::Node(), path, key_mark, /*present=*/false);
  }
  return MapReader(*ctx_, *value, path, key_mark, /*present=*/true);
}

std::vector<std::string> MapReader::Keys() {
  std::vector<std::string> keys;
  if (ctx_->failed() || !present()) return keys;
  for (const auto& entry : node_) {
    if (!entry.first.IsScalar()) continue;
    keys.push_back(entry.first.Scalar());
  }
  return keys;
}

void MapReader::Fail(std::string_view key, const std::string& message) {
  const std::optional<Entry> entry = Find(key);
  const std::string path = PathOf(key);
  ctx_->Fail(path, entry ? entry->value.Mark() : key_mark_, path + " " + message);
}

void MapReader::Finish() {
  if (ctx_->failed() || !present()) return;
  std::vector<std::string> seen;
  for (const auto& entry : node_) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      ctx_->Fail(path_, key.Mark(), "keys must be plain strings " + Where());
      return;
    }
    const std::string& name = key.Scalar();
    if (std::find(valid_keys_.begin(), valid_keys_.end(), name) == valid_keys_.end()) {
      ctx_->Fail(PathOf(name), key.Mark(),
                 "unknown key '" + name + "' " + Where() + "; valid keys: " + Join(valid_keys_),
                 /*extending_blames=*/true);
      return;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      ctx_->Fail(PathOf(name), key.Mark(), "duplicate key '" + name + "' " + Where());
      return;
    }
    seen.push_back(name);
  }
}

}  // namespace foresight::hw::internal
