// Alpha-beta fits of collective sweeps (CommSeries), in two views.
//
// 1. Per group (collective, algorithm, scope), scope = intra-node (nodes = 1) or inter-node,
//    in nccl-tests terms, a flat ring over all n ranks:
//        T(S) = LatencySteps(op, n) * alpha + BusFactor(op, n) * S / busbw
//    fitted for (alpha >= 0, 1/busbw >= 0) by robust relative least squares (fit_linear.h) over
//    every point of every series in the group. Report only: it shows the spread between
//    algorithms and collectives that one link in the profile cannot carry.
// 2. Per link, in the profile's own terms (models/hw/collective.h): every series whose op the
//    simulator prices (all_reduce, all_gather, reduce_scatter, sendrecv) is decomposed by
//    DesignFor() into steps and byte factors on node.scale_up and network.nic,
//        T(S) = a_up * alpha_up + b_up * S / busbw_up + a_nic * alpha_nic + b_nic * S / busbw_nic
//    Intra-node series fit (alpha_up, busbw_up); then inter-node series fit (alpha_nic,
//    busbw_nic) with the scale-up part fixed (subtracted), relative residuals still taken
//    against the measured T. efficiency = busbw / bandwidth_bytes_per_s of the base profile's
//    link; a fitted efficiency above 1 (the algorithm beats a ring on the line rate: NVLS,
//    SHARP, or an understated line rate) is clamped to 1 and said so.
// Cost: O(points) per fit.
#pragma once

#include <optional>
#include <vector>

#include "calibrate/comm_series.h"
#include "calibrate/fit_linear.h"
#include "calibrate/fit_report.h"
#include "models/hw/collective.h"
#include "models/hw/hardware.h"

namespace foresight::calibrate {

// Steps and byte factors of hw::CollectiveSeconds on each link (see above), so that
//   CollectiveSeconds(hw, op, S, span) = up_steps * up.latency + up_bytes * S / up.busbw
//                                      + nic_steps * nic.latency + nic_bytes * S / nic.busbw
// for span.size >= 2. nullopt for collectives the simulator does not price (alltoall,
// broadcast, reduce).
struct LinkDesign {
  double up_steps = 0, up_bytes = 0, nic_steps = 0, nic_bytes = 0;
};
std::optional<LinkDesign> DesignFor(CommOp op, const hw::GroupSpan& span);

// The span of a series: {ranks, ranks / nodes, nodes}; nullopt when nodes does not divide
// ranks or either is < 1.
std::optional<hw::GroupSpan> SpanOfSeries(const CommSeries& series);

// View 1: one section per (op, algorithm, scope) group, in a deterministic order.
std::vector<FitSection> FitCollectiveGroups(const std::vector<CommSeries>& series,
                                            const RobustOptions& options = {});

struct CollectiveLinkFit {
  std::optional<hw::LinkSpec> scale_up;  // fitted, bandwidth from the base profile
  std::optional<hw::LinkSpec> nic;
  std::vector<FitSection> sections;  // one per fitted link
};
// View 2. `base` supplies the line rates (and scale_up when only inter-node data is given).
CollectiveLinkFit FitCollectiveLinks(const std::vector<CommSeries>& series,
                                     const hw::HardwareProfile& base,
                                     const RobustOptions& options = {});

}  // namespace foresight::calibrate
