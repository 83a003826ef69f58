#include "chakra/graph.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <string>
#include <utility>

namespace foresight::chakra {

std::int32_t RankGraph::IndexOf(std::uint64_t id) const {
  const auto it = std::lower_bound(sorted_ids.begin(), sorted_ids.end(), id);
  if (it == sorted_ids.end() || *it != id) return -1;
  return sorted_indices[static_cast<std::size_t>(it - sorted_ids.begin())];
}

namespace {

std::string NodeName(std::uint64_t id) { return "node " + std::to_string(id); }

// Lists one cycle among the nodes Kahn's algorithm could not order (remaining[i] > 0).
std::string DescribeCycle(const RankGraph& g, const std::vector<std::int32_t>& remaining) {
  const auto& nodes = g.trace.nodes;
  // Start from the stuck node with the smallest id and walk stuck predecessors until a node
  // repeats; every stuck node has at least one stuck predecessor.
  std::int32_t start = -1;
  for (std::int32_t i = 0; i < g.num_nodes(); ++i) {
    if (remaining[static_cast<std::size_t>(i)] > 0 &&
        (start < 0 ||
         nodes[static_cast<std::size_t>(i)].id < nodes[static_cast<std::size_t>(start)].id)) {
      start = i;
    }
  }
  std::vector<std::int32_t> seen_at(nodes.size(), -1);
  std::vector<std::int32_t> path;
  std::int32_t cur = start;
  while (seen_at[static_cast<std::size_t>(cur)] < 0) {
    seen_at[static_cast<std::size_t>(cur)] = static_cast<std::int32_t>(path.size());
    path.push_back(cur);
    std::int32_t next = -1;
    for (std::int64_t k = g.pred_offset[static_cast<std::size_t>(cur)];
         k < g.pred_offset[static_cast<std::size_t>(cur) + 1]; ++k) {
      const std::int32_t p = g.preds[static_cast<std::size_t>(k)];
      if (remaining[static_cast<std::size_t>(p)] > 0) {
        next = p;
        break;
      }
    }
    cur = next;
  }
  // path[seen_at[cur]..] is the cycle, each node waiting on the next.
  std::string text;
  for (std::size_t k = static_cast<std::size_t>(seen_at[static_cast<std::size_t>(cur)]);
       k < path.size(); ++k) {
    text += NodeName(nodes[static_cast<std::size_t>(path[k])].id) + " -> ";
  }
  return text + NodeName(nodes[static_cast<std::size_t>(cur)].id);
}

}  // namespace

Result<RankGraph> BuildRankGraph(RankTrace trace, const GraphOptions& options) {
  RankGraph g;
  g.trace = std::move(trace);
  const std::string& file = g.trace.file;
  const auto& nodes = g.trace.nodes;
  const std::size_t n = nodes.size();

  std::vector<std::pair<std::uint64_t, std::int32_t>> by_id(n);
  for (std::size_t i = 0; i < n; ++i) by_id[i] = {nodes[i].id, static_cast<std::int32_t>(i)};
  std::sort(by_id.begin(), by_id.end());
  g.sorted_ids.resize(n);
  g.sorted_indices.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    if (k > 0 && by_id[k].first == by_id[k - 1].first) {
      return Error{"duplicate " + NodeName(by_id[k].first) + " (messages " +
                       std::to_string(by_id[k - 1].second + 1) + " and " +
                       std::to_string(by_id[k].second + 1) + " in file order)",
                   file, 0, 0};
    }
    g.sorted_ids[k] = by_id[k].first;
    g.sorted_indices[k] = by_id[k].second;
  }

  g.pred_offset.assign(n + 1, 0);
  std::vector<std::int32_t> seen_mark(n, -1);  // dedup: last node index that listed it
  for (std::size_t i = 0; i < n; ++i) {
    const TraceNode& node = nodes[i];
    auto add = [&](std::uint64_t dep, bool data) -> Status {
      const std::int32_t p = g.IndexOf(dep);
      if (p < 0) {
        if (data) {
          return Error{NodeName(node.id) + " has a data dependency on " + NodeName(dep) +
                           ", which is not in the file",
                       file, 0, 0};
        }
        ++g.dropped_ctrl_deps;
        return Status::Ok();
      }
      if (seen_mark[static_cast<std::size_t>(p)] == static_cast<std::int32_t>(i)) {
        return Status::Ok();
      }
      seen_mark[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(i);
      g.preds.push_back(p);
      return Status::Ok();
    };
    for (std::uint64_t dep : node.data_deps) {
      if (Status s = add(dep, true); !s.ok()) return s.error();
    }
    if (options.control_deps) {
      for (std::uint64_t dep : node.ctrl_deps) {
        if (Status s = add(dep, false); !s.ok()) return s.error();
      }
    }
    g.pred_offset[i + 1] = static_cast<std::int64_t>(g.preds.size());
  }

  // Kahn's algorithm, smallest ready id first.
  std::vector<std::int32_t> remaining(n);
  std::vector<std::int64_t> succ_offset(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    remaining[i] = static_cast<std::int32_t>(g.pred_offset[i + 1] - g.pred_offset[i]);
    for (std::int64_t k = g.pred_offset[i]; k < g.pred_offset[i + 1]; ++k) {
      ++succ_offset[static_cast<std::size_t>(g.preds[static_cast<std::size_t>(k)]) + 1];
    }
  }
  for (std::size_t i = 0; i < n; ++i) succ_offset[i + 1] += succ_offset[i];
  std::vector<std::int32_t> succ(g.preds.size());
  std::vector<std::int64_t> fill(succ_offset.begin(), succ_offset.end() - 1);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::int64_t k = g.pred_offset[i]; k < g.pred_offset[i + 1]; ++k) {
      const auto p = static_cast<std::size_t>(g.preds[static_cast<std::size_t>(k)]);
      succ[static_cast<std::size_t>(fill[p]++)] = static_cast<std::int32_t>(i);
    }
  }
  using Ready = std::pair<std::uint64_t, std::int32_t>;
  std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i) {
    if (remaining[i] == 0) ready.emplace(nodes[i].id, static_cast<std::int32_t>(i));
  }
  g.order.reserve(n);
  while (!ready.empty()) {
    const std::int32_t i = ready.top().second;
    ready.pop();
    g.order.push_back(i);
    for (std::int64_t k = succ_offset[static_cast<std::size_t>(i)];
         k < succ_offset[static_cast<std::size_t>(i) + 1]; ++k) {
      const std::int32_t s = succ[static_cast<std::size_t>(k)];
      if (--remaining[static_cast<std::size_t>(s)] == 0) {
        ready.emplace(nodes[static_cast<std::size_t>(s)].id, s);
      }
    }
  }
  if (g.order.size() != n) {
    return Error{
        "dependency cycle (" + std::to_string(n - g.order.size()) +
            " nodes cannot run): " + DescribeCycle(g, remaining) + " (each waits for the next)" +
            (options.control_deps ? "; control dependencies are followed, try without" : ""),
        file, 0, 0};
  }
  return g;
}

std::vector<std::uint64_t> DataDependencyFreeIds(const RankTrace& trace) {
  std::vector<std::uint64_t> ids;
  for (const TraceNode& node : trace.nodes) {
    if (node.data_deps.empty()) ids.push_back(node.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::uint64_t> DataChildrenOf(const RankTrace& trace, std::uint64_t id) {
  std::vector<std::uint64_t> ids;
  for (const TraceNode& node : trace.nodes) {
    if (std::find(node.data_deps.begin(), node.data_deps.end(), id) != node.data_deps.end()) {
      ids.push_back(node.id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace foresight::chakra
