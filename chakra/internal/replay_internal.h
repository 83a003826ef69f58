// Pieces of the Chakra replay (replay.h) kept out of its public face; internal to chakra/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chakra/graph.h"
#include "chakra/replay.h"
#include "models/hw/collective.h"
#include "models/hw/hardware.h"

namespace foresight::chakra::internal {

// How a node is replayed (replay.h): the resource it occupies.
enum class Kind : std::uint8_t { kCpu, kCompute, kMemory, kColl, kSend, kRecv, kNoop };

Kind Classify(const TraceNode& node);
// "cpu", "compute", "memory" for those kinds ("cpu" for kNoop).
std::string StreamName(Kind kind);

// Span of a group of `group_size` ranks of which `members` (ascending rank ids) are present,
// ranks placed on nodes of gpus_per_node consecutive ranks (replay.h).
hw::GroupSpan SpanOfMembers(const std::vector<std::int32_t>& members, std::int64_t group_size,
                            std::int32_t gpus_per_node);

// Seconds of one collective of `bytes` per rank (the op mapping of replay.h).
double CollectiveNodeSeconds(const hw::HardwareProfile& hw, CommType type, double bytes,
                             const hw::GroupSpan& span);

// launch + max(flops / (peak * gemm.max_efficiency), bytes / (hbm * memory_efficiency(bytes))).
double RooflineSeconds(const hw::GpuSpec& gpu, double peak_flops_per_s, double flops, double bytes);

// Fills step_time_s and the per-rank summaries from out->run.
void Summarise(const std::vector<RankGraph>& graphs, const std::vector<std::vector<Kind>>& kinds,
               ReplayResult* out);

}  // namespace foresight::chakra::internal
