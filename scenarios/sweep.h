// Sweep expansion: the `sweep:` section of a scenario (docs/search.md).
//
//   sweep:
//     plan.tp: [1, 2, 4]                  # dotted scenario key -> list of values
//     training.micro_batch: [1, 2]
//     zip:                                # groups whose lists vary together (equal lengths)
//       - {plan.pp: [2, 4], training.global_batch: [64, 128]}
//
// Every plain key and every zip group is one axis; the points are the cartesian product of the
// axes in the order written, the first axis varying slowest (nested loops), so the point count
// is the product of the axis lengths and point i is the same for every run. A point is applied to
// the scenario as `--set`-like overrides (after the command line's own --set overrides) and
// loaded by the normal loader, so every point is validated exactly like `foresight run`; an
// error caused by a sweep value names the file, line and column of that value.
//
// Values may be any YAML (scalars, mappings, lists); each is kept as flow-style YAML text.
// Complexity: parsing O(values); Point(i) O(axes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "scenarios/scenario.h"

namespace foresight::scenarios {

struct SweepValue {
  std::string key;   // dotted scenario key, e.g. "plan.tp"
  std::string yaml;  // the value as flow-style YAML text, e.g. "4" or "{grad_reduce: false}"
  int line = 0;      // 1-based location of the value in the scenario file
  int column = 0;
};

struct SweepPoint {
  std::int64_t index = 0;
  std::vector<SweepValue> values;  // one per key, in Sweep::keys order
  // The values as overrides, in key order.
  std::vector<SetOverride> Overrides() const;
  // "plan.tp=4;training.micro_batch=2": identifies the point's inputs (used in result hashes).
  std::string Canonical() const;
};

class Sweep {
 public:
  // Reads the `sweep:` mapping of a scenario's YAML text; `source` names it in errors. A
  // scenario without `sweep:` is one point with no values. Errors: a value that is not a
  // non-empty list, zip lists of unequal lengths, a key in two axes, an empty or malformed key,
  // a point count above 10^7.
  static Result<Sweep> Parse(const std::string& yaml_text, const std::string& source);
  static Result<Sweep> LoadFile(const std::string& path);

  const std::string& source() const { return source_; }
  const std::vector<std::string>& keys() const { return keys_; }
  std::int64_t num_points() const { return num_points_; }
  SweepPoint Point(std::int64_t index) const;

  // Loads the scenario at point `index` from `path` (the file this sweep was read from) with
  // `sets` applied first and the point's values after them. An error caused by a sweep value is
  // located at that value: "s.yaml:12:13: sweep plan.tp=3: plan.tp: tp=3 does not divide ...".
  Result<Scenario> LoadPoint(std::int64_t index, const std::vector<SetOverride>& sets) const;

 private:
  struct Axis {
    std::vector<std::vector<SweepValue>> entries;  // entries[i] = the values of step i
  };
  std::string source_;
  std::vector<std::string> keys_;
  std::vector<Axis> axes_;
  std::int64_t num_points_ = 1;
};

}  // namespace foresight::scenarios
