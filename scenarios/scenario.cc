#include "scenarios/scenario.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "plan/memory.h"
#include "plan/parallel.h"
#include "scenarios/internal/extras.h"
#include "scenarios/internal/network_section.h"
#include "scenarios/internal/sections.h"
#include "scenarios/internal/workload.h"
#include "scenarios/internal/yaml_reader.h"

namespace foresight::scenarios {
namespace {

using internal::MapReader;
using internal::ReadContext;

std::vector<std::string> SplitDots(std::string_view key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    parts.emplace_back(key.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string JoinDots(const std::vector<std::string>& parts, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) out += '.';
    out += parts[i];
  }
  return out;
}

// The value under scalar key `key` of mapping `map` (first occurrence), or an invalid node.
bool FindChild(const YAML::Node& map, const std::string& key, YAML::Node* out) {
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) {
      out->reset(kv.second);
      return true;
    }
  }
  return false;
}

// Writes one override into the tree `root` (a mapping). At each level the longest run of
// remaining components that is an existing key is followed (so "cluster.overrides.gpu.x"
// replaces an existing flat key "gpu.x" under overrides); otherwise one component is created,
// as a new mapping when more components follow.
Status ApplySet(const YAML::Node& root, const SetOverride& set, ReadContext& context) {
  const std::string text = set.key + "=" + set.value;
  YAML::Node value;
  try {
    value = YAML::Load(set.value);
  } catch (const YAML::Exception& e) {
    return Error{"cannot parse the value as YAML: " + e.msg, "--set " + text, 0, 0};
  }
  const std::vector<std::string> parts = SplitDots(set.key);
  const std::size_t n = parts.size();
  YAML::Node cur = root;  // rebound with reset(), never assigned (assignment writes the tree)
  std::size_t i = 0;
  while (i < n) {
    bool found = false;
    for (std::size_t j = n; j > i && !found; --j) {
      const std::string candidate = JoinDots(parts, i, j);
      YAML::Node child;
      if (!FindChild(cur, candidate, &child)) continue;
      found = true;
      if (j == n) {
        child = value;  // writes through to the tree
      } else if (child.IsMap()) {
        cur.reset(child);
      } else if (child.IsNull()) {
        child = YAML::Node(YAML::NodeType::Map);
        cur.reset(child);
      } else {
        return Error{JoinDots(parts, 0, j) + " is " + internal::Describe(child) +
                         ", not a mapping, so it has no key '" + parts[j] + "'",
                     "--set " + text, 0, 0};
      }
      i = j;
    }
    if (found) continue;
    if (i + 1 == n) {
      cur[parts[i]] = value;
    } else {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node child;
      FindChild(cur, parts[i], &child);
      cur.reset(child);
    }
    ++i;
  }
  context.AddOverride(set.key, text);
  return Status::Ok();
}

bool IsHardwarePath(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return name.find('/') != std::string_view::npos || ends_with(".yaml") || ends_with(".yml");
}

// Joins plan errors into one Error: the first locates it, the others follow on their own lines.
Error PlanErrorsToError(const std::vector<plan::PlanError>& errors, const ReadContext& context) {
  Error first = context.ErrorForKey(errors[0].key, errors[0].key + ": " + errors[0].message);
  for (std::size_t i = 1; i < errors.size(); ++i) {
    first.message +=
        "\n" +
        context.ErrorForKey(errors[i].key, errors[i].key + ": " + errors[i].message).ToString();
  }
  return first;
}

Result<Scenario> LoadTree(const YAML::Node& root, const std::string& source,
                          const std::string& base_dir, const std::vector<SetOverride>& sets) {
  ReadContext context(source);
  if (!root.IsMap()) {
    return context.ErrorAt("", root.Mark(),
                           "expected a mapping at the top level (sections name, model, cluster, "
                           "training, plan), found " +
                               internal::Describe(root));
  }
  for (const SetOverride& set : sets) {
    if (Status s = ApplySet(root, set, context); !s.ok()) return s.error();
  }
  Result<MapReader> top = MapReader::Open(context, root, "", root.Mark(), internal::TopLevelKeys());
  if (!top.ok()) return top.error();

  Scenario scenario;
  scenario.source_file = source;
  scenario.name = std::filesystem::path(source).stem().string();
  std::vector<hw::HardwareOverride> hardware_overrides;
  if (Status s = top->ReadString("name", &scenario.name); !s.ok()) return s.error();
  // A `workload:` scenario replays a recorded trace instead of a model (docs/chakra.md).
  const bool replay = top->Has("workload");
  if (replay) {
    if (Status s = internal::ReadWorkload(context, *top, base_dir, &scenario); !s.ok()) {
      return s.error();
    }
  } else if (Status s = internal::ReadModel(*top, &scenario.model); !s.ok()) {
    return s.error();
  }
  if (Status s = internal::ReadCluster(*top, &scenario.cluster, &hardware_overrides); !s.ok()) {
    return s.error();
  }
  if (!replay) {
    if (Status s = internal::ReadTraining(*top, &scenario.training); !s.ok()) return s.error();
    if (Status s = internal::ReadPlan(*top, &scenario.plan); !s.ok()) return s.error();
  }
  if (Status s = internal::ReadSearchExtras(context, *top, base_dir, &scenario); !s.ok()) {
    return s.error();
  }
  if (Status s = internal::ReadNetwork(*top, &scenario.network); !s.ok()) return s.error();

  plan::ClusterConfig& cluster = scenario.cluster;
  // A relative profile path written in the file is relative to the file; one given with --set
  // is relative to the working directory, like any command-line path.
  if (IsHardwarePath(cluster.hardware) && !base_dir.empty() &&
      context.OverrideFor("cluster.hardware") == nullptr &&
      std::filesystem::path(cluster.hardware).is_relative()) {
    cluster.hardware =
        (std::filesystem::path(base_dir) / cluster.hardware).lexically_normal().string();
  }
  Result<hw::HardwareProfile> hardware = hw::LoadHardware(cluster.hardware, hardware_overrides);
  if (!hardware.ok()) {
    const Error& e = hardware.error();
    // Errors inside a profile file or at an override carry their own location; an unknown
    // name or an unreadable file is blamed on cluster.hardware.
    if (!e.file.empty() && !(e.file == cluster.hardware && e.line == 0)) return e;
    return context.ErrorForKey("cluster.hardware", "cluster.hardware: " + e.ToString());
  }
  scenario.hardware = std::move(hardware).value();
  const std::int64_t node_gpus = scenario.hardware.node.gpus_per_node;
  if (cluster.gpus_per_node == 0) {
    cluster.gpus_per_node = node_gpus;
  } else if (cluster.gpus_per_node > node_gpus) {
    return context.ErrorForKey("cluster.gpus_per_node",
                               "cluster.gpus_per_node: " + std::to_string(cluster.gpus_per_node) +
                                   " exceeds the " + std::to_string(node_gpus) +
                                   " GPUs per node of " + scenario.hardware.name +
                                   "; valid: 1 to " + std::to_string(node_gpus));
  }
  if (replay) {
    if (Status s = internal::CheckWorkload(context, scenario); !s.ok()) return s.error();
    return scenario;
  }

  std::vector<plan::PlanError> errors =
      plan::ValidateAndResolve(scenario.model, scenario.cluster, scenario.training, scenario.plan);
  // What the plan needs from the hardware profile (offload: host memory, host Adam rate).
  for (plan::PlanError& e : plan::ValidateForHardware(scenario.plan, scenario.hardware)) {
    errors.push_back(std::move(e));
  }
  for (plan::PlanError& e : plan::ValidateDtypeForHardware(scenario.training, scenario.hardware)) {
    errors.push_back(std::move(e));
  }
  if (!errors.empty()) return PlanErrorsToError(errors, context);
  return scenario;
}

Result<Scenario> LoadImpl(const std::string& yaml_text, const std::string& source,
                          const std::string& base_dir, const std::vector<SetOverride>& sets) {
  // yaml-cpp reports errors by throwing; this is the boundary where they become Errors.
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(yaml_text);
    if (docs.empty()) {
      return Error{
          "the scenario is empty; expected a mapping with sections model, cluster, "
          "training (and optionally name, plan)",
          source, 0, 0};
    }
    if (docs.size() > 1) {
      const YAML::Mark m = docs[1].Mark();
      return Error::At(source, m.line + 1, m.column + 1,
                       "expected one YAML document, found " + std::to_string(docs.size()));
    }
    return LoadTree(docs[0], source, base_dir, sets);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return Error{"YAML error: " + e.msg, source, 0, 0};
    return Error::At(source, e.mark.line + 1, e.mark.column + 1, "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Error{std::string("error while loading the scenario: ") + e.what(), source, 0, 0};
  }
}

}  // namespace

Result<SetOverride> ParseSetOverride(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) {
    return Error{"--set " + text + ": expected KEY=VALUE (e.g. plan.tp=4), found no '='", "", 0, 0};
  }
  SetOverride set{text.substr(0, eq), text.substr(eq + 1)};
  if (set.key.empty()) {
    return Error{"--set " + text + ": empty key; expected KEY=VALUE (e.g. plan.tp=4)", "", 0, 0};
  }
  for (const std::string& part : SplitDots(set.key)) {
    if (part.empty() || part.find_first_of(" \t") != std::string::npos) {
      return Error{"--set " + text + ": key '" + set.key +
                       "' must be dot-separated names without spaces (e.g. plan.tp)",
                   "", 0, 0};
    }
  }
  return set;
}

Result<std::vector<SetOverride>> ParseSetOverrides(const std::vector<std::string>& texts) {
  std::vector<SetOverride> sets;
  sets.reserve(texts.size());
  for (const std::string& text : texts) {
    Result<SetOverride> parsed = ParseSetOverride(text);
    if (!parsed.ok()) return parsed.error();
    sets.push_back(std::move(parsed).value());
  }
  return sets;
}

Result<Scenario> LoadScenarioText(const std::string& yaml_text, const std::string& source_name,
                                  const std::vector<SetOverride>& sets) {
  return LoadImpl(yaml_text, source_name, "", sets);
}

Result<Scenario> LoadScenarioFile(const std::string& path, const std::vector<SetOverride>& sets) {
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return Error{"cannot read the scenario: it is a directory", path, 0, 0};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot open the scenario file (missing or unreadable)", path, 0, 0};
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return Error{"error while reading the scenario file", path, 0, 0};
    return LoadImpl(text.str(), path, std::filesystem::path(path).parent_path().string(), sets);
  } catch (const std::exception& e) {
    return Error{std::string("cannot read the scenario file: ") + e.what(), path, 0, 0};
  }
}

}  // namespace foresight::scenarios
