#include "scenarios/sweep.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <fstream>
#include <sstream>
#include <utility>

namespace foresight::scenarios {
namespace {

constexpr std::int64_t kMaxPoints = 10'000'000;

Error At(const std::string& source, const YAML::Node& node, std::string message) {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return Error{std::move(message), source, 0, 0};
  return Error::At(source, m.line + 1, m.column + 1, std::move(message));
}

std::string Describe(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a sequence";
  return "nothing (null)";
}

// Flow-style YAML text of a value; a quoted scalar stays quoted (so it stays a string).
std::string ToYaml(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  if (node.IsScalar() && node.Tag() == "!") {
    out << YAML::DoubleQuoted << node.Scalar();
  } else {
    out << node;
  }
  return out.c_str();
}

// Checks `key` is a dotted name (as --set accepts) and not yet used.
Status CheckKey(const YAML::Node& key_node, const std::string& source,
                const std::vector<std::string>& used) {
  if (!key_node.IsScalar()) {
    return At(source, key_node,
              "sweep: expected a dotted scenario key, found " + Describe(key_node));
  }
  const std::string key = key_node.Scalar();
  Result<SetOverride> parsed = ParseSetOverride(key + "=0");
  if (!parsed.ok()) {
    return At(source, key_node,
              "sweep: key '" + key + "' must be dot-separated names without spaces (e.g. plan.tp)");
  }
  for (const std::string& u : used) {
    if (u == key) return At(source, key_node, "sweep: key '" + key + "' is swept twice");
  }
  return Status::Ok();
}

// The values of one swept key (a non-empty list).
Result<std::vector<SweepValue>> ReadList(const std::string& key, const YAML::Node& key_node,
                                         const YAML::Node& list, const std::string& source) {
  if (!list.IsSequence() || list.size() == 0) {
    return At(source, list.IsNull() ? key_node : list,
              "sweep." + key + ": expected a non-empty list of values (e.g. [1, 2, 4]), found " +
                  Describe(list));
  }
  std::vector<SweepValue> values;
  for (const YAML::Node& v : list) {
    const YAML::Mark m = v.Mark();
    values.push_back(
        SweepValue{key, ToYaml(v), m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1});
  }
  return values;
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::vector<SetOverride> SweepPoint::Overrides() const {
  std::vector<SetOverride> sets;
  for (const SweepValue& v : values) sets.push_back(SetOverride{v.key, v.yaml});
  return sets;
}

std::string SweepPoint::Canonical() const {
  std::string out;
  for (const SweepValue& v : values) {
    if (!out.empty()) out += ';';
    out += v.key + "=" + v.yaml;
  }
  return out;
}

Result<Sweep> Sweep::Parse(const std::string& yaml_text, const std::string& source) {
  Sweep sweep;
  sweep.source_ = source;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return Error{"YAML error: " + e.msg, source, 0, 0};
    return Error::At(source, e.mark.line + 1, e.mark.column + 1, "YAML syntax error: " + e.msg);
  }
  // Anything else wrong with the document is the loader's to report, at every point.
  if (!root.IsMap()) return sweep;
  YAML::Node sweep_node;
  YAML::Node sweep_key;
  for (const auto& kv : root) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "sweep") {
      sweep_node.reset(kv.second);
      sweep_key.reset(kv.first);
    }
  }
  if (!sweep_node.IsDefined() || sweep_node.IsNull()) return sweep;
  if (!sweep_node.IsMap()) {
    return At(source, sweep_node,
              "sweep: expected a mapping of dotted keys to lists, found " + Describe(sweep_node));
  }
  for (const auto& kv : sweep_node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "zip") {
      std::vector<YAML::Node> groups;
      if (kv.second.IsMap()) {
        groups.push_back(kv.second);
      } else if (kv.second.IsSequence() && kv.second.size() > 0) {
        for (const YAML::Node& g : kv.second) groups.push_back(g);
      } else {
        return At(source, kv.second.IsNull() ? kv.first : kv.second,
                  "sweep.zip: expected a list of mappings {key: [values], ...} whose lists vary "
                  "together, found " +
                      Describe(kv.second));
      }
      for (const YAML::Node& group : groups) {
        if (!group.IsMap() || group.size() == 0) {
          return At(source, group,
                    "sweep.zip: expected a non-empty mapping {key: [values], ...}, found " +
                        Describe(group));
        }
        Axis axis;
        std::string first_key;
        for (const auto& entry : group) {
          if (Status s = CheckKey(entry.first, source, sweep.keys_); !s.ok()) return s.error();
          const std::string key = entry.first.Scalar();
          Result<std::vector<SweepValue>> values = ReadList(key, entry.first, entry.second, source);
          if (!values.ok()) return values.error();
          if (axis.entries.empty()) {
            axis.entries.resize(values->size());
            first_key = key;
          } else if (values->size() != axis.entries.size()) {
            return At(source, entry.second,
                      "sweep.zip: " + key + " has " + std::to_string(values->size()) +
                          " values but " + first_key + " has " +
                          std::to_string(axis.entries.size()) +
                          "; lists in one zip group must have the same length");
          }
          for (std::size_t i = 0; i < values->size(); ++i) axis.entries[i].push_back((*values)[i]);
          sweep.keys_.push_back(key);
        }
        sweep.axes_.push_back(std::move(axis));
      }
      continue;
    }
    if (Status s = CheckKey(kv.first, source, sweep.keys_); !s.ok()) return s.error();
    const std::string key = kv.first.Scalar();
    Result<std::vector<SweepValue>> values = ReadList(key, kv.first, kv.second, source);
    if (!values.ok()) return values.error();
    Axis axis;
    for (SweepValue& v : *values) axis.entries.push_back({std::move(v)});
    sweep.keys_.push_back(key);
    sweep.axes_.push_back(std::move(axis));
  }
  for (const Axis& axis : sweep.axes_) {
    const auto n = static_cast<std::int64_t>(axis.entries.size());
    if (sweep.num_points_ > kMaxPoints / n) {
      return At(source, sweep_key,
                "sweep: more than " + std::to_string(kMaxPoints) +
                    " points; split the sweep into several scenarios");
    }
    sweep.num_points_ *= n;
  }
  return sweep;
}

Result<Sweep> Sweep::LoadFile(const std::string& path) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot open the scenario file (missing or unreadable)", path, 0, 0};
    std::ostringstream text;
    text << in.rdbuf();
    return Parse(text.str(), path);
  } catch (const std::exception& e) {
    return Error{std::string("cannot read the scenario file: ") + e.what(), path, 0, 0};
  }
}

SweepPoint Sweep::Point(std::int64_t index) const {
  FS_CHECK(index >= 0 && index < num_points_, "sweep point index out of range");
  SweepPoint point;
  point.index = index;
  // Row-major: the last axis varies fastest.
  std::vector<std::size_t> step(axes_.size());
  std::int64_t rest = index;
  for (std::size_t a = axes_.size(); a-- > 0;) {
    const auto n = static_cast<std::int64_t>(axes_[a].entries.size());
    step[a] = static_cast<std::size_t>(rest % n);
    rest /= n;
  }
  for (std::size_t a = 0; a < axes_.size(); ++a) {
    for (const SweepValue& v : axes_[a].entries[step[a]]) point.values.push_back(v);
  }
  return point;
}

Result<Scenario> Sweep::LoadPoint(std::int64_t index, const std::vector<SetOverride>& sets) const {
  const SweepPoint point = Point(index);
  std::vector<SetOverride> all = sets;
  for (const SetOverride& s : point.Overrides()) all.push_back(s);
  Result<Scenario> scenario = LoadScenarioFile(source_, all);
  if (scenario.ok()) return scenario;
  Error error = scenario.error();
  // The loader names an override's error "--set key=value"; a sweep value is located instead.
  for (const SweepValue& v : point.values) {
    const std::string set_text = "--set " + v.key + "=" + v.yaml;
    const std::string here = source_ + ":" + std::to_string(v.line) + ":" +
                             std::to_string(v.column) + ": sweep " + v.key + "=" + v.yaml;
    if (error.file == set_text) {
      error.file = source_;
      error.line = v.line;
      error.column = v.column;
      error.message = "sweep " + v.key + "=" + v.yaml + ": " + error.message;
    }
    ReplaceAll(error.message, set_text, here);
  }
  return error;
}

}  // namespace foresight::scenarios
