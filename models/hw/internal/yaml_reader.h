// Strict, typed reading of a YAML mapping tree into plain structs (internal to models/hw).
//
// A MapReader wraps one mapping and its dotted path ("gpu.gemm"). Each Read() names a key, the
// C++ destination, whether the key is required, and the allowed range; the keys read define
// the schema of that level, so Finish() can reject unknown keys and list the valid ones.
// Errors are file:line:column (1-based) of the offending key or value. Values that came from
// an override (a dotted path applied to the tree before reading) are reported at the
// override's own location instead, found by path.
//
// The first error wins: after it, reads are no-ops and the context holds that error.
// Reading never throws; yaml-cpp exceptions must still be caught by the caller's boundary.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace foresight::hw::internal {

// Where an override was written; `path` is its dotted key.
struct OverrideSite {
  std::string path;
  std::string file;
  int line = 0;  // 1-based; 0 = unknown
  int column = 0;
};

// Allowed range of a numeric value: lo </<= v </<= hi. `text` renders it for messages.
struct Bounds {
  double lo;
  bool lo_open;
  double hi;
  bool hi_open;
  std::string_view text;
};
inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr Bounds kAnyValue{-kInf, true, kInf, true, "finite"};
inline constexpr Bounds kPositive{0.0, true, kInf, true, "> 0"};
inline constexpr Bounds kNonNegative{0.0, false, kInf, true, ">= 0"};
inline constexpr Bounds kAtLeastOne{1.0, false, kInf, true, ">= 1"};
inline constexpr Bounds kFraction{0.0, true, 1.0, false, "in (0, 1]"};
inline constexpr Bounds kProperFraction{0.0, false, 1.0, true, "in [0, 1)"};

enum class Need : std::uint8_t { kRequired, kOptional };

// Shared by all readers of one document: the file name, override sites and the first error.
class YamlContext {
 public:
  YamlContext(std::string file, std::vector<OverrideSite> overrides)
      : file_(std::move(file)), overrides_(std::move(overrides)) {}

  bool failed() const { return error_.has_value(); }
  const std::optional<Error>& error() const { return error_; }

  // Records `message` about the value at dotted `path` (written at `mark` in the file) unless
  // an error is already recorded. An override whose path equals or encloses `path` takes the
  // blame; so does one that extends `path` when `extending_blames` or the node has no mark
  // (it was created by an override).
  void Fail(std::string_view path, const YAML::Mark& mark, const std::string& message,
            bool extending_blames = false);

 private:
  std::string file_;
  std::vector<OverrideSite> overrides_;
  std::optional<Error> error_;
};

class MapReader {
 public:
  // Reads the mapping `node` at dotted `path` ("" for the document root). `key_mark` is where
  // the mapping's key is written (blamed for missing keys).
  MapReader(YamlContext& ctx, YAML::Node node, std::string path, YAML::Mark key_mark)
      : MapReader(ctx, std::move(node), std::move(path), key_mark, /*present=*/true) {}

  void Read(std::string_view key, std::string& out, Need need);
  void Read(std::string_view key, double& out, Need need, const Bounds& bounds);
  void Read(std::string_view key, std::int64_t& out, Need need, const Bounds& bounds);
  void Read(std::string_view key, std::int32_t& out, Need need, const Bounds& bounds);
  // A YAML boolean (true/false, unquoted).
  void Read(std::string_view key, bool& out, Need need);
  // A string that must be one of `choices` (the error lists them).
  void ReadChoice(std::string_view key, std::string& out, Need need,
                  const std::vector<std::string_view>& choices);

  // A nested mapping. An absent optional section (or one with an error) gives a reader whose
  // reads leave their destinations at their defaults.
  MapReader Section(std::string_view key, Need need);

  // The keys of this mapping, in file order (for mappings whose keys are names chosen by the
  // user, such as gpu.attention_kernels); read each one to accept it. Non-string keys are left
  // for Finish() to report. Empty for an absent section or after an error.
  std::vector<std::string> Keys();

  // Reports `message` at the value of `key` (which must have been read).
  void Fail(std::string_view key, const std::string& message);

  // Rejects keys that no Read()/Section() asked for, and duplicate keys. Call last.
  void Finish();

 private:
  struct Entry {
    YAML::Node key;
    YAML::Node value;
  };

  MapReader(YamlContext& ctx, YAML::Node node, std::string path, YAML::Mark key_mark, bool present)
      : ctx_(&ctx),
        node_(std::move(node)),
        path_(std::move(path)),
        key_mark_(key_mark),
        present_(present) {}

  bool present() const { return present_; }
  // The first entry whose key is `key`. Linear in the size of the mapping (a handful of keys).
  std::optional<Entry> Find(std::string_view key) const;
  // Records `key` as valid at this level and returns its value, or nullopt when there is
  // nothing to read (absent, absent section, or an earlier error). Reports a missing
  // required key.
  std::optional<YAML::Node> Lookup(std::string_view key, Need need);
  bool CheckBounds(std::string_view key, const YAML::Node& value, double number,
                   const Bounds& bounds);
  std::string PathOf(std::string_view key) const;
  std::string Where() const;  // "in gpu.gemm" or "at top level"

  YamlContext* ctx_;
  YAML::Node node_;
  std::string path_;
  YAML::Mark key_mark_;
  bool present_;
  std::vector<std::string> valid_keys_;
};

// Describes a node for messages: "a map", "a sequence", "null", "'abc'", "quoted string \"1\"".
std::string DescribeNode(const YAML::Node& node);

}  // namespace foresight::hw::internal
