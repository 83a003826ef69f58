#include "scenarios/internal/extras.h"

#include <filesystem>
#include <string>
#include <utility>

namespace foresight::scenarios::internal {
namespace {

bool IsPath(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return name.find('/') != std::string_view::npos || ends_with(".yaml") || ends_with(".yml");
}

Status ReadCandidate(ReadContext& context, const YAML::Node& node, const std::string& path,
                     const std::string& base_dir, ClusterCandidate* out) {
  Result<MapReader> r =
      MapReader::Open(context, node, path, node.Mark(),
                      {"hardware", "nodes", "gpus_per_node", "price_per_gpu_hour"});
  if (!r.ok()) return r.error();
  const MapReader& c = *r;
  if (Status s = c.Require("hardware"); !s.ok()) return s;
  ClusterCandidate candidate;
  for (Status s : {c.ReadString("hardware", &candidate.cluster.hardware),
                   c.ReadPositiveInt("nodes", &candidate.cluster.nodes),
                   c.ReadPositiveInt("gpus_per_node", &candidate.cluster.gpus_per_node),
                   c.ReadPositiveDouble("price_per_gpu_hour", &candidate.price_per_gpu_hour)}) {
    if (!s.ok()) return s;
  }
  std::string& hardware = candidate.cluster.hardware;
  if (IsPath(hardware) && !base_dir.empty() && std::filesystem::path(hardware).is_relative()) {
    hardware = (std::filesystem::path(base_dir) / hardware).lexically_normal().string();
  }
  Result<hw::HardwareProfile> profile = hw::LoadHardware(hardware);
  const MapReader::Entry* at = c.Find("hardware");
  if (!profile.ok()) {
    const Error& e = profile.error();
    if (!e.file.empty() && !(e.file == hardware && e.line == 0)) return e;
    return c.ValueError(*at, e.ToString());
  }
  candidate.hardware = std::move(profile).value();
  const std::int64_t node_gpus = candidate.hardware.node.gpus_per_node;
  if (candidate.cluster.gpus_per_node == 0) {
    candidate.cluster.gpus_per_node = node_gpus;
  } else if (candidate.cluster.gpus_per_node > node_gpus) {
    return c.ValueError(*c.Find("gpus_per_node"),
                        std::to_string(candidate.cluster.gpus_per_node) + " exceeds the " +
                            std::to_string(node_gpus) + " GPUs per node of " +
                            candidate.hardware.name + "; valid: 1 to " + std::to_string(node_gpus));
  }
  *out = std::move(candidate);
  return Status::Ok();
}

}  // namespace

Status ReadSearchExtras(ReadContext& context, const MapReader& top, const std::string& base_dir,
                        Scenario* scenario) {
  Result<MapReader> training = top.ChildAnyKeys("training");
  if (!training.ok()) return training.error();
  if (Status s = training->ReadPositiveDouble("tokens", &scenario->training_tokens); !s.ok()) {
    return s;
  }
  Result<MapReader> cluster = top.ChildAnyKeys("cluster");
  if (!cluster.ok()) return cluster.error();
  if (Status s = cluster->ReadPositiveDouble("price_per_gpu_hour", &scenario->price_per_gpu_hour);
      !s.ok()) {
    return s;
  }
  const MapReader::Entry* list = cluster->Find("candidates");
  if (list == nullptr) return Status::Ok();
  if (!list->value.IsSequence() || list->value.size() == 0) {
    return cluster->ValueError(
        *list,
        "expected a non-empty list of {hardware, nodes, gpus_per_node, price_per_gpu_hour}, "
        "found " +
            Describe(list->value));
  }
  for (std::size_t i = 0; i < list->value.size(); ++i) {
    ClusterCandidate candidate;
    const std::string path = "cluster.candidates[" + std::to_string(i) + "]";
    if (Status s = ReadCandidate(context, list->value[i], path, base_dir, &candidate); !s.ok()) {
      return s;
    }
    scenario->candidates.push_back(std::move(candidate));
  }
  return Status::Ok();
}

}  // namespace foresight::scenarios::internal
