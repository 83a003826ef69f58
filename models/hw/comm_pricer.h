// CommPricer: how the step compiler (plan/) prices one collective of a parallel group when the
// scenario's `network:` section asks for more than the default alpha-beta model.
//
//   network.model: analytical, algorithm: auto   -> no pricer: hw::CollectiveSeconds (default)
//   network.model: analytical, algorithm: X      -> AnalyticalCommPricer: PriceCollective(X)
//   network.model: flow                          -> FlowCommPricer
//
// FlowCommPricer prices a collective of group kind K (any GroupKind) by flow-simulating ALL
// concurrent instances of that group across the cluster at once (every DP group all-reduces
// at the same time, so e.g. the 8 DP rings of a TP-8 job share each node's NICs and the leaf
// uplinks), placed on the topology by the rank order (models/hw/placement.h); the time of the
// slowest instance is the price. A kind whose placed group size differs from the compiler's
// span (ep not dividing the user's dp, so the sizes could not carve ep out of dp) falls back to
// hw::CollectiveSeconds. Results are cached by (op, bytes, kind); the cache is
// guarded by a mutex, so one pricer may serve several threads.
// Captured: contention among the instances of one group kind. Not captured: contention between
// different kinds running at the same time (a DP all-reduce overlapping PP sends or TP
// collectives of other micro-batches), which would need the flows of the whole step in one
// simulation; see docs/network.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "base/status.h"
#include "models/hw/algorithms.h"
#include "models/hw/collective.h"
#include "models/hw/hardware.h"
#include "models/hw/placement.h"
#include "models/hw/topology.h"

namespace foresight::hw {

// The communication groups of one rank (placement as in models/hw/placement.h, dimensions
// tp, cp, ep, dp, pp with ep carved out of the data-parallel ranks as in Megatron-Core):
//   kTp   tensor parallel ({tp})
//   kCp   context parallel ({cp}, stride tp)
//   kEp   expert parallel ({ep}, stride tp*cp)
//   kDp   dense gradient reduction: dp*cp ranks at stride tp ({cp, ep, dp})
//   kEdp  expert data parallel: the ranks holding the same experts, dp*cp/ep ({cp, dp})
//   kPp   pipeline parallel ({pp})
enum class GroupKind : std::uint8_t { kTp, kDp, kPp, kCp, kEp, kEdp };

// The scenario's `network:` section (docs/scenario-format.md).
struct NetworkConfig {
  std::string model = "analytical";  // analytical | flow
  Algorithm algorithm = Algorithm::kAuto;
  std::string placement_order = std::string(kDefaultPlacementOrder);
};

class CommPricer {
 public:
  virtual ~CommPricer() = default;
  // Seconds for one `op` of `bytes` (full buffer per rank) in a group of kind `kind` whose
  // span is `span` (as the compiler computed it).
  virtual double Seconds(CollectiveOp op, double bytes, GroupKind kind,
                         const GroupSpan& span) const = 0;
};

class AnalyticalCommPricer final : public CommPricer {
 public:
  AnalyticalCommPricer(HardwareProfile hw, Algorithm algorithm)
      : hw_(std::move(hw)), algorithm_(algorithm) {}
  // The configured algorithm when it supports the op and span, else auto.
  double Seconds(CollectiveOp op, double bytes, GroupKind kind,
                 const GroupSpan& span) const override;

 private:
  HardwareProfile hw_;
  Algorithm algorithm_;
};

class FlowCommPricer final : public CommPricer {
 public:
  double Seconds(CollectiveOp op, double bytes, GroupKind kind,
                 const GroupSpan& span) const override;

 private:
  friend Result<std::shared_ptr<const CommPricer>> MakeCommPricer(const HardwareProfile&,
                                                                  const NetworkConfig&,
                                                                  std::int64_t, std::int32_t,
                                                                  const ParallelSizes&);
  FlowCommPricer(HardwareProfile hw, Topology topology, Placement placement,
                 std::int32_t gpus_per_node, Algorithm algorithm)
      : hw_(std::move(hw)),
        topology_(std::move(topology)),
        placement_(std::move(placement)),
        gpus_per_node_(gpus_per_node),
        algorithm_(algorithm) {}

  HardwareProfile hw_;
  Topology topology_;
  Placement placement_;
  std::int32_t gpus_per_node_;  // GPUs used per node (ranks per node)
  Algorithm algorithm_;
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<int, double, int>, double> cache_;
};

// The pricer for `config` on `nodes` nodes using `gpus_per_node` GPUs each, with the plan's
// parallel sizes (dp = the user's dp / ep: the data-parallel dimension left once ep is carved
// out; see scenarios/network_section.cc); nullptr for the default (analytical, auto). Errors: a bad
// placement order, sizes whose product is not nodes * gpus_per_node, a topology that cannot be
// built.
Result<std::shared_ptr<const CommPricer>> MakeCommPricer(const HardwareProfile& hw,
                                                         const NetworkConfig& config,
                                                         std::int64_t nodes,
                                                         std::int32_t gpus_per_node,
                                                         const ParallelSizes& sizes);

}  // namespace foresight::hw
