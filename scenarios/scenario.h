// Scenario: a what-if question read from YAML (format v1, docs/scenario-format.md).
//
// Loading is strict: unknown keys, wrong types and invalid plans are errors that name the file,
// line and column of the offending key or value, what was found and what was expected. `--set
// key=value` overrides are applied to the YAML tree before validation; an error in an override
// names the override.
//
// Error rendering (Error::ToString()):
//   "file:line:column: plan.tp: expected a positive integer, found 'eight'"
//   "--set plan.tp=abc: plan.tp: expected a positive integer, found 'abc'"
// When plan validation finds several problems, the Error locates the first; each further one
// follows in the message on its own line, rendered the same way.
// A key whose value was not written (a default or derived value) is located at its section.
//
// Resolution: cluster.hardware, when it is a path (contains '/' or ends in .yaml/.yml) and
// relative, is resolved against the scenario file's directory (LoadScenarioFile) and stored
// resolved in Scenario::cluster.hardware; one given with --set, or read by LoadScenarioText, is
// relative to the working directory. cluster.gpus_per_node is always resolved (> 0) and at most
// the hardware's. plan.dp is derived when absent. name defaults to the source file's stem.
//
// Loading never throws (yaml-cpp exceptions are caught here) and keeps no global state; the
// result depends only on the text, the overrides and the hardware profile it names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/status.h"
#include "models/hw/comm_pricer.h"
#include "models/hw/hardware.h"
#include "models/ops/model_config.h"
#include "plan/plan.h"

namespace foresight::scenarios {

// One entry of cluster.candidates (hardware comparison in `foresight search`).
struct ClusterCandidate {
  plan::ClusterConfig cluster;    // gpus_per_node resolved
  hw::HardwareProfile hardware;   // loaded (cluster.overrides do not apply to candidates)
  double price_per_gpu_hour = 0;  // USD per GPU-hour; 0 = not given
};

// `workload:` (docs/chakra.md): a recorded MLCommons Chakra trace replayed instead of a model.
struct Workload {
  std::string chakra;  // PREFIX of PREFIX.RANK.et; relative paths resolved like cluster.hardware
  std::int64_t ranks = 0;
  std::string compute = "recorded";  // recorded | roofline
  std::string comm = "model";        // model | recorded
  bool control_deps = false;         // also follow ctrl_deps
  Dtype dtype = Dtype::kBf16;        // peak used by the roofline
};

struct Scenario {
  std::string name;
  std::string source_file;
  ops::ModelConfig model;
  plan::ClusterConfig cluster;
  hw::HardwareProfile hardware;  // loaded and overridden (cluster.hardware + cluster.overrides)
  plan::TrainingConfig training;
  plan::Plan plan;  // validated, dp derived
  // Sweep/search keys (docs/search.md); `foresight run` does not use them.
  double price_per_gpu_hour = 0;             // cluster.price_per_gpu_hour, USD; 0 = not given
  std::vector<ClusterCandidate> candidates;  // cluster.candidates
  double training_tokens = 0;                // training.tokens (run size); 0 = not given
  // Set for a `workload:` scenario; then model, training and plan are absent and unused.
  std::optional<Workload> workload;
  // `network:` (docs/network.md): how collectives are priced; default analytical/auto.
  hw::NetworkConfig network;
};

// A command-line override "dotted.key=value"; value is parsed as YAML (so 4, true, [1,2] work).
// The text splits at the first '='; the key must be non-empty dot-separated names without
// spaces. Missing intermediate mappings are created when the override is applied; an existing
// key containing dots (cluster.overrides: {gpu.memory_bytes: ...}) is matched whole. Overrides
// apply in order, so a later one wins.
struct SetOverride {
  std::string key;
  std::string value;
};
Result<SetOverride> ParseSetOverride(const std::string& text);
// Parses every "--set" text in order; the first malformed one is the error.
Result<std::vector<SetOverride>> ParseSetOverrides(const std::vector<std::string>& texts);

// Reads, overrides, validates. Never throws.
Result<Scenario> LoadScenarioFile(const std::string& path,
                                  const std::vector<SetOverride>& sets = {});
Result<Scenario> LoadScenarioText(const std::string& yaml_text, const std::string& source_name,
                                  const std::vector<SetOverride>& sets = {});

}  // namespace foresight::scenarios
