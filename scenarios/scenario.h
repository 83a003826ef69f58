// Scenario: a what-if question read from YAML (format v1, docs/scenario-format.md).
//
// Loading is strict: unknown keys, wrong types and invalid plans are errors that name the file,
// line and column of the offending key or value, what was found and what was expected. `--set
// key=value` overrides are applied to the YAML tree before validation; an error in an override
// names the override.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "models/hw/hardware.h"
#include "models/ops/model_config.h"
#include "plan/plan.h"

namespace foresight::scenarios {

struct Scenario {
  std::string name;
  std::string source_file;
  ops::ModelConfig model;
  plan::ClusterConfig cluster;
  hw::HardwareProfile hardware;  // loaded and overridden (cluster.hardware + cluster.overrides)
  plan::TrainingConfig training;
  plan::Plan plan;               // validated, dp derived
};

// A command-line override "dotted.key=value"; value is parsed as YAML (so 4, true, [1,2] work).
struct SetOverride {
  std::string key;
  std::string value;
};
Result<SetOverride> ParseSetOverride(const std::string& text);

// Reads, overrides, validates. Never throws.
Result<Scenario> LoadScenarioFile(const std::string& path,
                                  const std::vector<SetOverride>& sets = {});
Result<Scenario> LoadScenarioText(const std::string& yaml_text, const std::string& source_name,
                                  const std::vector<SetOverride>& sets = {});

}  // namespace foresight::scenarios
