#include "scenarios/internal/workload.h"

#include <filesystem>

namespace foresight::scenarios::internal {

Status ReadWorkload(ReadContext& context, const MapReader& top, const std::string& base_dir,
                    Scenario* scenario) {
  for (const char* section : {"model", "training", "plan"}) {
    if (const MapReader::Entry* e = top.Find(section)) {
      return top.ValueError(*e, std::string("a workload scenario replays a recorded trace and "
                                            "takes no '") +
                                    section + "' section; remove it (or remove 'workload')");
    }
  }
  Result<MapReader> r =
      top.Child("workload", {"chakra", "ranks", "compute", "comm", "control_deps", "dtype"});
  if (!r.ok()) return r.error();
  const MapReader& w = *r;
  if (Status s = w.Require("chakra", " (the PREFIX of the PREFIX.RANK.et files)"); !s.ok()) {
    return s;
  }
  if (Status s = w.Require("ranks", " (how many rank files to replay)"); !s.ok()) return s;
  Workload out;
  std::string dtype = "bf16";
  for (Status s : {w.ReadString("chakra", &out.chakra), w.ReadPositiveInt("ranks", &out.ranks),
                   w.ReadChoice("compute", {"recorded", "roofline"}, &out.compute),
                   w.ReadChoice("comm", {"model", "recorded"}, &out.comm),
                   w.ReadBool("control_deps", &out.control_deps),
                   w.ReadChoice("dtype", {"bf16", "fp16", "fp32"}, &dtype)}) {
    if (!s.ok()) return s;
  }
  out.dtype = *ParseDtype(dtype);
  if (out.chakra.empty()) {
    return w.ValueError(*w.Find("chakra"), "expected a trace prefix, found an empty string");
  }
  if (!base_dir.empty() && context.OverrideFor("workload.chakra") == nullptr &&
      std::filesystem::path(out.chakra).is_relative()) {
    out.chakra = (std::filesystem::path(base_dir) / out.chakra).lexically_normal().string();
  }
  scenario->workload = std::move(out);
  return Status::Ok();
}

Status CheckWorkload(const ReadContext& context, const Scenario& scenario) {
  const std::int64_t world = scenario.cluster.world_size();
  if (scenario.workload->ranks > world) {
    return context.ErrorForKey(
        "workload.ranks", "workload.ranks: " + std::to_string(scenario.workload->ranks) +
                              " ranks need as many GPUs but the cluster has " +
                              std::to_string(world) + " (nodes * gpus_per_node); valid: 1 to " +
                              std::to_string(world));
  }
  return Status::Ok();
}

}  // namespace foresight::scenarios::internal
