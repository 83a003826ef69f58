// RankGraph: one rank's Chakra nodes with resolved, validated dependencies.
//
// Dependencies: data_deps always; ctrl_deps when GraphOptions::control_deps. A data dependency
// on an id that is not in the file is an error; a control dependency on an absent id is dropped
// and counted. PyTorch-converted traces point control edges at call-tree parents, some of
// which the converter removes (1,277 of the 3,664 control edges of the MLCommons feeder test
// trace point at absent nodes), and their control edges can form cycles, which is why
// control_deps defaults to off (the Chakra feeder and ASTRA-sim follow data dependencies only).
//
// Errors (each names the rank file and node ids): a duplicate node id, a data dependency on a
// missing node, a dependency cycle (the cycle is listed: "node 5 -> node 7 -> node 5").
//
// Order: `order` is a topological order that always picks the smallest ready id (Kahn's
// algorithm with a min-heap), so it is deterministic and equals ascending id whenever every
// dependency points to a smaller id. Replay uses it as the issue order of each stream.
// Cost: O((nodes + deps) log nodes).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "chakra/trace.h"

namespace foresight::chakra {

struct GraphOptions {
  bool control_deps = false;
};

struct RankGraph {
  RankTrace trace;
  // Predecessors of node i (index into trace.nodes): preds[pred_offset[i] .. pred_offset[i+1]),
  // duplicates removed, in first-mention order (data_deps, then ctrl_deps).
  std::vector<std::int64_t> pred_offset;
  std::vector<std::int32_t> preds;
  std::vector<std::int32_t> order;  // topological, smallest ready id first
  std::int64_t dropped_ctrl_deps = 0;

  // Index of the node with `id`, or -1. O(log nodes).
  std::int32_t IndexOf(std::uint64_t id) const;
  std::int32_t num_nodes() const { return static_cast<std::int32_t>(trace.nodes.size()); }

  std::vector<std::uint64_t> sorted_ids;     // ascending
  std::vector<std::int32_t> sorted_indices;  // node index of sorted_ids[k]
};

Result<RankGraph> BuildRankGraph(RankTrace trace, const GraphOptions& options = {});

// Ids of the nodes without data dependencies, ascending (the Chakra feeder's first issuable
// nodes). O(nodes log nodes).
std::vector<std::uint64_t> DataDependencyFreeIds(const RankTrace& trace);

// Ids of the nodes that list `id` in their data_deps, ascending. O(nodes + deps).
std::vector<std::uint64_t> DataChildrenOf(const RankTrace& trace, std::uint64_t id);

}  // namespace foresight::chakra
