#include <algorithm>
#include <set>
#include <utility>

#include "chakra/internal/replay_internal.h"
#include "models/hw/roofline.h"

namespace foresight::chakra::internal {

Kind Classify(const TraceNode& node) {
  if (node.is_cpu_op.value_or(false)) return Kind::kCpu;
  switch (node.type) {
    case NodeType::kComp:
      return Kind::kCompute;
    case NodeType::kMemLoad:
    case NodeType::kMemStore:
      return Kind::kMemory;
    case NodeType::kCommColl:
      return Kind::kColl;
    case NodeType::kCommSend:
      return Kind::kSend;
    case NodeType::kCommRecv:
      return Kind::kRecv;
    case NodeType::kInvalid:
    case NodeType::kMetadata:
      return Kind::kNoop;
  }
  return Kind::kNoop;
}

std::string StreamName(Kind kind) {
  switch (kind) {
    case Kind::kCompute:
      return "compute";
    case Kind::kMemory:
      return "memory";
    default:
      return "cpu";
  }
}

hw::GroupSpan SpanOfMembers(const std::vector<std::int32_t>& members, std::int64_t group_size,
                            std::int32_t gpus_per_node) {
  const auto size = static_cast<std::int32_t>(group_size);
  if (group_size > static_cast<std::int64_t>(members.size())) {
    return hw::SpanOf(size, 1, gpus_per_node);
  }
  std::set<std::int32_t> nodes;
  for (std::int32_t r : members) nodes.insert(r / gpus_per_node);
  hw::GroupSpan span;
  span.size = size;
  span.nodes = static_cast<std::int32_t>(nodes.size());
  span.ranks_per_node = (size + span.nodes - 1) / span.nodes;
  return span;
}

double CollectiveNodeSeconds(const hw::HardwareProfile& hw, CommType type, double bytes,
                             const hw::GroupSpan& span) {
  const double n = span.size;
  switch (type) {
    case CommType::kAllReduce:
      return hw::CollectiveSeconds(hw, hw::CollectiveOp::kAllReduce, bytes, span);
    case CommType::kAllGather:
    case CommType::kAllToAll:
    case CommType::kGather:
    case CommType::kScatter:
      return hw::CollectiveSeconds(hw, hw::CollectiveOp::kAllGather, bytes, span);
    case CommType::kReduceScatter:
    case CommType::kReduceScatterBlock:
      return hw::CollectiveSeconds(hw, hw::CollectiveOp::kReduceScatter, bytes, span);
    case CommType::kBroadcast:
    case CommType::kReduce:
      if (span.size <= 1) return 0;
      return hw::CollectiveSeconds(hw, hw::CollectiveOp::kAllGather, bytes * n / (n - 1), span);
    case CommType::kBarrier:
      return 0;
  }
  return 0;
}

double RooflineSeconds(const hw::GpuSpec& gpu, double peak_flops_per_s, double flops,
                       double bytes) {
  const double compute_s = flops / (peak_flops_per_s * gpu.gemm.max_efficiency);
  const double memory_s =
      bytes > 0 ? bytes / (gpu.hbm_bandwidth_bytes_per_s * hw::MemoryEfficiencyFor(gpu, bytes))
                : 0.0;
  return gpu.kernel_launch_seconds + std::max(compute_s, memory_s);
}

namespace {

using Interval = std::pair<std::int64_t, std::int64_t>;  // [start, end) in ps

// Sorts and merges in place; returns the covered length.
std::int64_t Merge(std::vector<Interval>* v) {
  std::sort(v->begin(), v->end());
  std::vector<Interval> out;
  for (const Interval& i : *v) {
    if (i.second <= i.first) continue;
    if (!out.empty() && i.first <= out.back().second) {
      out.back().second = std::max(out.back().second, i.second);
    } else {
      out.push_back(i);
    }
  }
  std::int64_t total = 0;
  for (const Interval& i : out) total += i.second - i.first;
  *v = std::move(out);
  return total;
}

// Length of the parts of merged `a` not covered by merged `b`.
std::int64_t Uncovered(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::int64_t total = 0;
  std::size_t j = 0;
  for (const Interval& i : a) {
    std::int64_t cur = i.first;
    while (j < b.size() && b[j].second <= cur) ++j;
    std::size_t k = j;
    while (k < b.size() && b[k].first < i.second) {
      if (b[k].first > cur) total += b[k].first - cur;
      cur = std::max(cur, b[k].second);
      ++k;
    }
    if (cur < i.second) total += i.second - cur;
  }
  return total;
}

}  // namespace

void Summarise(const std::vector<RankGraph>& graphs, const std::vector<std::vector<Kind>>& kinds,
               ReplayResult* out) {
  const std::size_t ranks = graphs.size();
  std::vector<std::vector<Interval>> compute(ranks), cpu(ranks), comm(ranks), memory(ranks);
  std::vector<std::int64_t> end(ranks, 0);
  const sim::TaskGraph& g = out->graph;
  for (sim::TaskId t = 0; t < g.num_tasks(); ++t) {
    const ReplayTask& task = out->tasks[static_cast<std::size_t>(g.tag(t))];
    const auto r = static_cast<std::size_t>(task.rank);
    const Interval span{out->run.start[static_cast<std::size_t>(t)].ps(),
                        out->run.end[static_cast<std::size_t>(t)].ps()};
    end[r] = std::max(end[r], span.second);
    if (task.role != TaskRole::kNode) continue;
    switch (kinds[r][static_cast<std::size_t>(task.node)]) {
      case Kind::kCompute:
        compute[r].push_back(span);
        break;
      case Kind::kCpu:
      case Kind::kNoop:
        cpu[r].push_back(span);
        break;
      case Kind::kMemory:
        memory[r].push_back(span);
        break;
      case Kind::kColl:
      case Kind::kSend:
      case Kind::kRecv:
        comm[r].push_back(span);
        break;
    }
  }
  out->step_time_s = out->run.makespan.ToSeconds();
  out->ranks.clear();
  for (std::size_t r = 0; r < ranks; ++r) {
    RankSummary s;
    s.rank = static_cast<std::int32_t>(r);
    s.file = graphs[r].trace.file;
    s.nodes = static_cast<std::int64_t>(graphs[r].trace.nodes.size());
    s.end_s = static_cast<double>(end[r]) * 1e-12;
    s.compute_s = static_cast<double>(Merge(&compute[r])) * 1e-12;
    s.cpu_s = static_cast<double>(Merge(&cpu[r])) * 1e-12;
    s.memory_s = static_cast<double>(Merge(&memory[r])) * 1e-12;
    s.comm_s = static_cast<double>(Merge(&comm[r])) * 1e-12;
    s.exposed_comm_s = static_cast<double>(Uncovered(comm[r], compute[r])) * 1e-12;
    out->ranks.push_back(s);
  }
}

}  // namespace foresight::chakra::internal
