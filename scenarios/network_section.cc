#include "scenarios/internal/network_section.h"

#include <memory>
#include <string>
#include <vector>

#include "models/hw/placement.h"
#include "scenarios/step_input.h"

namespace foresight::scenarios::internal {

Status ReadNetwork(const MapReader& top, hw::NetworkConfig* network) {
  Result<MapReader> r = top.Child("network", {"model", "algorithm", "placement_order"});
  if (!r.ok()) return r.error();
  const MapReader& n = *r;
  hw::NetworkConfig config;
  std::string algorithm = "auto";
  if (Status s = n.ReadChoice("model", {"analytical", "flow"}, &config.model); !s.ok()) return s;
  if (Status s =
          n.ReadChoice("algorithm", {"auto", "ring", "tree", "nvls", "hierarchical"}, &algorithm);
      !s.ok()) {
    return s;
  }
  config.algorithm = *hw::ParseAlgorithm(algorithm);
  if (Status s = n.ReadString("placement_order", &config.placement_order); !s.ok()) return s;
  if (const MapReader::Entry* e = n.Find("placement_order"); e != nullptr) {
    // Checked here, with sizes 1, so a bad order is reported at its own location.
    Result<hw::Placement> placement = hw::MakePlacement({}, config.placement_order);
    if (!placement.ok()) return n.ValueError(*e, placement.error().message);
  }
  *network = std::move(config);
  return Status::Ok();
}

}  // namespace foresight::scenarios::internal

namespace foresight::scenarios {

Result<plan::StepInput> StepInputOf(const Scenario& s) {
  plan::StepInput input{s.model, s.hardware, s.cluster, s.training, s.plan};
  hw::ParallelSizes sizes;
  // Megatron-Core's tp-cp-ep-dp-pp placement: ep is carved out of the user's dp (world /
  // (tp*cp*pp)), so the placement's dp dimension is dp / ep. The dense gradient group (dp*cp
  // ranks at stride tp) is then {cp, ep, dp}, the expert-data-parallel group {cp, dp}
  // (models/hw/comm_pricer.h). When ep does not divide dp (it divides dp*cp only), ep stays
  // unplaced and the pricer falls back to the analytical model for the ep and expert-dp groups.
  sizes.tp = static_cast<std::int32_t>(s.plan.tp);
  sizes.cp = static_cast<std::int32_t>(s.plan.cp);
  sizes.pp = static_cast<std::int32_t>(s.plan.pp);
  if (s.plan.ep > 1 && s.plan.dp % s.plan.ep == 0) {
    sizes.ep = static_cast<std::int32_t>(s.plan.ep);
    sizes.dp = static_cast<std::int32_t>(s.plan.dp / s.plan.ep);
  } else {
    sizes.dp = static_cast<std::int32_t>(s.plan.dp);
  }
  Result<std::shared_ptr<const hw::CommPricer>> pricer =
      hw::MakeCommPricer(s.hardware, s.network, s.cluster.nodes,
                         static_cast<std::int32_t>(s.cluster.gpus_per_node), sizes);
  if (!pricer.ok()) {
    Error e = pricer.error();
    e.message = "network: " + e.message;
    if (e.file.empty()) e.file = s.source_file;
    return e;
  }
  input.comm_pricer = *pricer;
  return input;
}

}  // namespace foresight::scenarios
