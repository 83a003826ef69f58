// The scenario's `network:` section (docs/scenario-format.md, docs/network.md):
//   network: {model: analytical | flow, algorithm: auto | ring | tree | nvls | hierarchical,
//             placement_order: "tp-cp-ep-dp-pp"}
// All keys optional; absent = analytical, auto, Megatron's order (the default alpha-beta
// pricing, hw::CollectiveSeconds). Errors at file:line:column.
#pragma once

#include "base/status.h"
#include "models/hw/comm_pricer.h"
#include "scenarios/internal/yaml_reader.h"

namespace foresight::scenarios::internal {

Status ReadNetwork(const MapReader& top, hw::NetworkConfig* network);

}  // namespace foresight::scenarios::internal
