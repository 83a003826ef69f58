// Outputs of a Chakra replay: text summary, JSON, Chrome/Perfetto trace.
//
// Text and JSON report the step time (end of the last task), the node and task counts, the
// matched collectives and send/receive pairs, and per rank its end time and the busy time of
// each resource (compute, cpu, memory), its communication time (union of collective and
// send/receive spans) and the exposed part (communication while the compute stream is idle).
// The trace has one process per rank, one thread per stream, one complete event per node with
// its id, type and attributes (zero-duration arrive and barrier tasks are left out).
// Deterministic; O(tasks).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "chakra/graph.h"
#include "chakra/replay.h"
#include "models/hw/hardware.h"

namespace foresight::chakra {

struct ReplayLabels {
  std::string name;      // scenario name
  std::string prefix;    // Chakra PREFIX
  std::string hardware;  // hardware profile name
};

std::string RenderReplaySummary(const ReplayLabels& labels, const ReplayOptions& options,
                                const ReplayResult& result);
std::string RenderReplayJson(const ReplayLabels& labels, const ReplayOptions& options,
                             const ReplayResult& result);
void WriteReplayTrace(const ReplayLabels& labels, const std::vector<RankGraph>& graphs,
                      const ReplayResult& result, std::ostream& out);

}  // namespace foresight::chakra
