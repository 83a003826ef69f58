// A small, strict, typed reader over yaml-cpp nodes (internal to scenarios/).
//
// Every value is read through a MapReader, which knows the dotted key path of its mapping
// ("plan", "model", "cluster.overrides") and the yaml-cpp Mark of every key and value, so every
// error names file:line:column (1-based), the dotted key, what was found and what was expected.
// Values written by a `--set key=value` override are reported as "--set key=value: ..." instead
// of a file location.
//
// Strictness: a mapping may hold only its declared keys (an unknown key is an error that lists
// the valid keys and suggests the closest one), no key twice, and only scalar keys. Numbers and
// booleans must be plain (unquoted) scalars: `tp: "8"` is a string, not an integer. Booleans are
// the YAML 1.2 core spellings only (true/false/True/False/TRUE/FALSE), not yes/no/on/off.
//
// Cost: opening a mapping of n keys is O(n * valid keys); each lookup is O(n). Scenario mappings
// hold about ten keys, so a linear scan beats a hash map and keeps iteration in document order.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace foresight::scenarios::internal {

// Where values came from: the source name, the --set overrides applied to the tree, and the
// Mark of every key path read so far (so a later error about a key, e.g. from plan validation,
// can point at it). Not thread-safe; one per load.
class ReadContext {
 public:
  explicit ReadContext(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }

  // Records that `path` (dotted) was written by the override whose text is `set_text`
  // ("plan.tp=4"); a later override of the same path replaces the earlier one.
  void AddOverride(const std::string& path, const std::string& set_text);
  // The text of the override that wrote `path` or its nearest ancestor, or nullptr.
  const std::string* OverrideFor(std::string_view path) const;

  // Remembers where the value of `path` was written (ignored for null marks).
  void RecordMark(const std::string& path, const YAML::Mark& mark);

  // An error about `path` located at `mark`: "--set k=v: message" when the path was written by
  // an override, "file:line:column: message" when mark is known, else "file: message".
  Error ErrorAt(std::string_view path, const YAML::Mark& mark, std::string message) const;
  // An error about `path` located at its recorded mark, or at the recorded mark of its nearest
  // ancestor (a default or derived value has no mark of its own).
  Error ErrorForKey(std::string_view path, std::string message) const;

 private:
  std::string source_;
  std::map<std::string, std::string, std::less<>> overrides_;
  std::map<std::string, YAML::Mark, std::less<>> marks_;
};

// A strict view of one YAML mapping.
class MapReader {
 public:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };

  // Opens `node` as the mapping at dotted `path` ("" = top level). Fails when the node is not a
  // mapping (`where` locates that error), holds a non-scalar or duplicate key, or holds a key
  // outside `valid_keys` (listed in the order given). A null node is an error unless
  // `null_is_empty`.
  static Result<MapReader> Open(ReadContext& context, const YAML::Node& node, std::string path,
                                const YAML::Mark& where, const std::vector<std::string>& valid_keys,
                                bool null_is_empty = false);

  // Like Open, but any scalar key is accepted (free-form mappings such as cluster.overrides).
  static Result<MapReader> OpenAnyKeys(ReadContext& context, const YAML::Node& node,
                                       std::string path, const YAML::Mark& where,
                                       bool null_is_empty = false);

  // Opens the mapping under `key`; an absent key opens an empty mapping.
  Result<MapReader> Child(std::string_view key, const std::vector<std::string>& valid_keys,
                          bool null_is_empty = false) const;

  // Opens the mapping under `key` accepting any scalar key; an absent key opens an empty one.
  Result<MapReader> ChildAnyKeys(std::string_view key, bool null_is_empty = false) const;

  const std::string& path() const { return path_; }
  const ReadContext& context() const { return *context_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // "plan.tp" for key "tp" under "plan".
  std::string PathOf(std::string_view key) const;

  // An error at the mapping itself (its key, or where it was opened).
  Error ErrorHere(std::string message) const;
  // "missing required key '<key>' in <path><why>" ("missing required section '<key>'<why>" at
  // the top level), located at this mapping.
  Status Require(std::string_view key, std::string_view why = "") const;

  // Typed reads. An absent key leaves *out unchanged and succeeds; a present key must hold a
  // value of the right type.
  Status ReadPositiveInt(std::string_view key, std::int64_t* out) const;
  Status ReadPositiveDouble(std::string_view key, double* out) const;
  Status ReadBool(std::string_view key, bool* out) const;
  Status ReadString(std::string_view key, std::string* out) const;
  // A string that must be one of `valid` (error lists them and suggests the closest).
  Status ReadChoice(std::string_view key, const std::vector<std::string>& valid,
                    std::string* out) const;

  // Error for the value of `key` (which must be present): "<path.key>: <message>".
  Error ValueError(const Entry& entry, std::string_view message) const;

 private:
  MapReader(ReadContext* context, std::string path, YAML::Mark mark)
      : context_(context), path_(std::move(path)), mark_(mark) {}
  // valid_keys == nullptr accepts any key.
  static Result<MapReader> OpenImpl(ReadContext& context, const YAML::Node& node, std::string path,
                                    const YAML::Mark& where,
                                    const std::vector<std::string>* valid_keys, bool null_is_empty);

  ReadContext* context_;
  std::string path_;
  YAML::Mark mark_;  // of this mapping's key (or of the node, at top level)
  std::vector<Entry> entries_;
};

// "'8'" for a scalar, "a mapping", "a sequence", "nothing (null)"; quoted scalars are marked.
std::string Describe(const YAML::Node& node);

// The candidate closest to `word` by edit distance (transpositions count once, case ignored),
// when close enough to be a likely typo: distance <= 1 for words of up to 3 characters, <= 2
// otherwise. Ties go to the earliest candidate. Empty when none qualifies.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace foresight::scenarios::internal
