// Flow-level bandwidth sharing: a max-min fair rate solver and a small flow-level simulation.
//
// A network is a set of links with capacities (bytes per second, one direction). A flow moves
// `bytes` over a fixed path of links. At any instant every active flow gets its max-min fair
// rate, found by progressive filling (Bertsekas & Gallager, Data Networks, 2nd ed., sec. 6.5.2):
// all flows start unfrozen at rate 0; repeatedly find the link whose remaining capacity divided
// by its number of unfrozen flows is smallest (the bottleneck), give that share to each of its
// unfrozen flows, subtract their rates from every link they cross, and freeze them; stop when no
// flow is unfrozen. Result: no flow can get more without taking from a flow with a smaller or
// equal rate. A flow with an empty path is unconstrained (infinite rate: it completes as soon as
// it starts). Ties between bottlenecks are broken by the lower link index (deterministic).
//
// SimulateFlows runs flows over time: a flow becomes ready when all flows it depends on have
// completed (or at time 0 when it has none), starts `delay` later (a latency term), and
// completes when its bytes are sent. Rates are recomputed at every start and completion
// (fluid model: no packets, no slow start, no congestion control dynamics; a link shared by k
// flows that all bottleneck on it gives each 1/k of its capacity instantly).
//
// This file knows links and flows only, not GPUs or switches (models/hw/ builds paths).
// Cost: MaxMinFairRates is O(L + P log L) for L links and P path entries of the flows (an
// indexed heap of link shares, one entry per link, updated in place); SimulateFlows runs it once
// per event (at most 2F events for F flows), over the touched components only.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/time.h"

namespace foresight::sim {

struct FlowPath {
  std::vector<std::int32_t> links;  // indices into the capacity vector; may repeat no link
};

// Max-min fair rates (bytes/s) of `paths` over links of `capacity_bytes_per_s` (> 0 each).
// Flows with an empty path get +infinity. Every link index must be in range.
std::vector<double> MaxMinFairRates(const std::vector<double>& capacity_bytes_per_s,
                                    const std::vector<FlowPath>& paths);

struct FlowSpec {
  double bytes = 0;                      // >= 0
  std::vector<std::int32_t> links;       // path, as in FlowPath
  SimTime delay = SimTime::Zero();       // from ready to start (latency)
  std::vector<std::int32_t> depends_on;  // indices of earlier flows (< this flow's index)
};

struct FlowResult {
  std::vector<SimTime> start;         // per flow
  std::vector<SimTime> finish;        // per flow
  SimTime makespan;                   // latest finish (0 without flows)
  std::int64_t rate_solves = 0;       // how many times the rates were recomputed
  std::int64_t rate_solve_flows = 0;  // flows re-solved, summed over those times
};

// Simulates `flows` on links of `capacity_bytes_per_s` (see above). Dependencies must point to
// earlier flows, so the dependency graph is acyclic by construction. At each event only the
// connected components (flows sharing links) touched by the flows that finished or started are
// re-solved; the result is bit-identical to SimulateFlowsReference (see flow.cc), except
// rate_solve_flows, which counts the flows actually re-solved.
FlowResult SimulateFlows(const std::vector<double>& capacity_bytes_per_s,
                         const std::vector<FlowSpec>& flows);

// The straightforward event loop: re-solves all active flows at every event. Kept as the
// reference SimulateFlows is tested against (sim/flow_test.cc) and benchmarked with.
FlowResult SimulateFlowsReference(const std::vector<double>& capacity_bytes_per_s,
                                  const std::vector<FlowSpec>& flows);

}  // namespace foresight::sim
