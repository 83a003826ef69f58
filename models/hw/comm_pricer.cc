#include "models/hw/comm_pricer.h"

#include <utility>
#include <vector>

namespace foresight::hw {
namespace {

std::vector<ParallelDim> DimsOf(GroupKind kind) {
  switch (kind) {
    case GroupKind::kTp:
      return {ParallelDim::kTp};
    case GroupKind::kCp:
      return {ParallelDim::kCp};
    case GroupKind::kEp:
      return {ParallelDim::kEp};
    case GroupKind::kDp:
      return {ParallelDim::kCp, ParallelDim::kEp, ParallelDim::kDp};
    case GroupKind::kEdp:
      return {ParallelDim::kCp, ParallelDim::kDp};
    case GroupKind::kPp:
      return {ParallelDim::kPp};
  }
  return {ParallelDim::kPp};
}

}  // namespace

double AnalyticalCommPricer::Seconds(CollectiveOp op, double bytes, GroupKind /*kind*/,
                                     const GroupSpan& span) const {
  const NetOp net = NetOpOf(op);
  const Algorithm algorithm = Supports(hw_, net, algorithm_, span) ? algorithm_ : Algorithm::kAuto;
  Result<Pricing> p = PriceCollective(hw_, net, bytes, span, algorithm);
  return p.ok() ? p->seconds() : CollectiveSeconds(hw_, op, bytes, span);
}

double FlowCommPricer::Seconds(CollectiveOp op, double bytes, GroupKind kind,
                               const GroupSpan& span) const {
  if (span.size <= 1 || bytes <= 0) return 0;
  const auto key = std::make_tuple(static_cast<int>(op), bytes, static_cast<int>(kind));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  std::vector<std::vector<std::int64_t>> groups = placement_.Groups(DimsOf(kind));
  if (groups.empty() || static_cast<std::int64_t>(groups.front().size()) != span.size) {
    return CollectiveSeconds(hw_, op, bytes, span);  // not placeable as the compiler sees it
  }
  // Rank r runs on node r / gpus_per_node_, local GPU r % gpus_per_node_ of that node.
  const std::int32_t hw_gpn = topology_.gpus_per_node();
  for (auto& group : groups) {
    for (std::int64_t& r : group) r = (r / gpus_per_node_) * hw_gpn + r % gpus_per_node_;
  }
  const NetOp net = NetOpOf(op);
  const GroupSpan actual = SpanOfGroup(groups.front(), hw_gpn);
  const Algorithm algorithm =
      Supports(hw_, net, algorithm_, actual) ? algorithm_ : Algorithm::kAuto;
  Result<Pricing> p = FlowCollective(hw_, topology_, net, bytes, groups, algorithm);
  // The flow model refuses only oversized all-to-alls; they fall back to the closed form.
  const double seconds = p.ok() ? p->seconds() : CollectiveSeconds(hw_, op, bytes, span);
  std::lock_guard<std::mutex> lock(mutex_);
  cache_.emplace(key, seconds);
  return seconds;
}

Result<std::shared_ptr<const CommPricer>> MakeCommPricer(const HardwareProfile& hw,
                                                         const NetworkConfig& config,
                                                         std::int64_t nodes,
                                                         std::int32_t gpus_per_node,
                                                         const ParallelSizes& sizes) {
  if (config.model == "analytical") {
    if (config.algorithm == Algorithm::kAuto) return std::shared_ptr<const CommPricer>();
    return std::shared_ptr<const CommPricer>(
        std::make_shared<AnalyticalCommPricer>(hw, config.algorithm));
  }
  Result<Placement> placement = MakePlacement(sizes, config.placement_order);
  if (!placement.ok()) return placement.error();
  if (placement->world() != nodes * gpus_per_node) {
    return Error::At(
        "", 0, 0,
        "network.model flow: the plan's tp*cp*ep*dp*pp = " + std::to_string(placement->world()) +
            " ranks do not fill " + std::to_string(nodes) + " nodes x " +
            std::to_string(gpus_per_node) + " GPUs");
  }
  if (nodes > 1'000'000 || nodes < 1)
    return Error::At("", 0, 0, "network.model flow: bad node count");
  Result<Topology> topology = BuildTopology(hw, static_cast<std::int32_t>(nodes));
  if (!topology.ok()) return topology.error();
  return std::shared_ptr<const CommPricer>(new FlowCommPricer(
      hw, std::move(*topology), std::move(*placement), gpus_per_node, config.algorithm));
}

}  // namespace foresight::hw
