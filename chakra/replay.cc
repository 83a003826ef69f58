#include "chakra/replay.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "chakra/internal/replay_internal.h"
#include "models/hw/collective.h"
#include "models/hw/roofline.h"

namespace foresight::chakra {
namespace {

using internal::Kind;
using sim::SimTime;
using sim::TaskId;

Error NodeError(const RankGraph& g, std::int32_t node, const std::string& message) {
  return Error{
      "node " + std::to_string(g.trace.nodes[static_cast<std::size_t>(node)].id) + ": " + message,
      g.trace.file, 0, 0};
}

double RecordedSeconds(const TraceNode& n) { return static_cast<double>(n.duration_micros) * 1e-6; }

// A task longer than this (11.6 days) comes from a corrupt duration or size attribute; the bound
// on the total keeps every time of the run inside SimTime's +-106 days.
constexpr double kMaxTaskSeconds = 1e6;
constexpr double kMaxTotalSeconds = 9e6;

class Builder {
 public:
  Builder(const std::vector<RankGraph>& graphs, const hw::HardwareProfile& hw,
          const ReplayOptions& options)
      : graphs_(graphs), hw_(hw), options_(options) {}

  Result<ReplayResult> Run();

 private:
  struct Instance {
    std::string pg;
    std::vector<std::pair<std::int32_t, std::int32_t>> members;  // (rank, node)
    TaskId barrier = -1;
    double seconds = 0;  // kModel
  };
  const TraceNode& Node(std::int32_t rank, std::int32_t node) const {
    return graphs_[static_cast<std::size_t>(rank)].trace.nodes[static_cast<std::size_t>(node)];
  }
  sim::StreamId Stream(std::int32_t rank, const std::string& name) {
    const auto key = std::make_pair(rank, name);
    auto it = streams_.find(key);
    if (it != streams_.end()) return it->second;
    const sim::StreamId id = out_.graph.AddStream(name, rank);
    streams_.emplace(key, id);
    return id;
  }
  TaskId AddTask(sim::StreamId stream, SimTime duration, TaskRole role, std::int32_t rank,
                 std::int32_t node) {
    out_.tasks.push_back(ReplayTask{role, rank, node});
    return out_.graph.AddTask(stream, duration, static_cast<std::int32_t>(out_.tasks.size() - 1));
  }
  Status MatchCollectives();
  Status MatchPointToPoint();
  Result<double> KernelSeconds(std::int32_t rank, std::int32_t node);
  double TransferSeconds(std::int32_t rank, std::int32_t node, double model_seconds) const {
    return options_.comm == CommTiming::kRecorded ? RecordedSeconds(Node(rank, node))
                                                  : model_seconds;
  }
  // Rounds a task's duration to picoseconds after checking it is in range.
  Result<SimTime> Checked(double seconds, std::int32_t rank, std::int32_t node) {
    if (!(seconds >= 0 && seconds <= kMaxTaskSeconds)) {
      return NodeError(graphs_[static_cast<std::size_t>(rank)], node,
                       "a duration of " + std::to_string(seconds) +
                           " s is outside the simulated range (0 to 1e6 s); corrupt "
                           "duration_micros or size attributes?");
    }
    total_seconds_ += seconds;
    if (total_seconds_ > kMaxTotalSeconds) {
      return NodeError(graphs_[static_cast<std::size_t>(rank)], node,
                       "the durations of the trace add up to more than 9e6 s, past the "
                       "simulated time range");
    }
    return SimTime::FromSeconds(seconds);
  }

  const std::vector<RankGraph>& graphs_;
  const hw::HardwareProfile& hw_;
  const ReplayOptions& options_;
  ReplayResult out_;
  std::map<std::pair<std::int32_t, std::string>, sim::StreamId> streams_;
  double total_seconds_ = 0;
  std::vector<std::vector<Kind>> kind_;
  std::vector<Instance> instances_;
  std::vector<std::vector<std::int32_t>> instance_of_;  // per rank, per node; -1 = none
  // Per rank, per receive node: the matching send (rank, node).
  std::vector<std::vector<std::pair<std::int32_t, std::int32_t>>> send_of_;
};

Status Builder::MatchCollectives() {
  // pg -> per rank, that rank's collective nodes in issue order.
  std::map<std::string, std::vector<std::vector<std::int32_t>>> by_pg;
  const auto ranks = static_cast<std::int32_t>(graphs_.size());
  for (std::int32_t r = 0; r < ranks; ++r) {
    for (std::int32_t i : graphs_[static_cast<std::size_t>(r)].order) {
      if (kind_[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)] != Kind::kColl) continue;
      auto& lists = by_pg[Node(r, i).pg_name.value_or("")];
      lists.resize(static_cast<std::size_t>(ranks));
      lists[static_cast<std::size_t>(r)].push_back(i);
    }
  }
  for (const auto& [pg, lists] : by_pg) {
    std::vector<std::int32_t> members;
    for (std::int32_t r = 0; r < ranks; ++r) {
      if (!lists[static_cast<std::size_t>(r)].empty()) members.push_back(r);
    }
    const std::size_t count = lists[static_cast<std::size_t>(members.front())].size();
    const std::string group = "process group '" + pg + "'";
    for (std::int32_t r : members) {
      const auto& mine = lists[static_cast<std::size_t>(r)];
      if (mine.size() != count) {
        const std::int32_t r0 = members.front();
        return Error{"rank " + std::to_string(r) + " issues " + std::to_string(mine.size()) +
                         " collectives on " + group + " but rank " + std::to_string(r0) + " (" +
                         graphs_[static_cast<std::size_t>(r0)].trace.file + ") issues " +
                         std::to_string(count) + "; every participant must issue the same ones",
                     graphs_[static_cast<std::size_t>(r)].trace.file, 0, 0};
      }
    }
    for (std::size_t k = 0; k < count; ++k) {
      Instance inst;
      inst.pg = pg;
      std::int64_t bytes = 0;
      std::int64_t group_size = static_cast<std::int64_t>(members.size());
      for (std::int32_t r : members) {
        const std::int32_t i = lists[static_cast<std::size_t>(r)][k];
        inst.members.emplace_back(r, i);
        const TraceNode& n = Node(r, i);
        const TraceNode& first = Node(members.front(), inst.members.front().second);
        const RankGraph& g = graphs_[static_cast<std::size_t>(r)];
        if (options_.comm == CommTiming::kModel && (!n.comm_type || !n.comm_size)) {
          return NodeError(g, i,
                           "COMM_COLL_NODE without comm_type and comm_size attributes; "
                           "they are needed to price it (or replay with recorded comm "
                           "durations)");
        }
        if (n.comm_type != first.comm_type) {
          return NodeError(
              g, i,
              "collective " + std::to_string(k) + " of " + group + " is " +
                  std::string(CommTypeName(n.comm_type.value_or(CommType::kBarrier))) +
                  " here but node " + std::to_string(first.id) + " of " +
                  graphs_[static_cast<std::size_t>(members.front())].trace.file + " is " +
                  std::string(CommTypeName(first.comm_type.value_or(CommType::kBarrier))));
        }
        bytes = std::max(bytes, n.comm_size.value_or(0));
        if (n.comm_group_size) group_size = std::max(group_size, *n.comm_group_size);
      }
      if (options_.comm == CommTiming::kModel) {
        const hw::GroupSpan span =
            internal::SpanOfMembers(members, group_size, options_.gpus_per_node);
        const TraceNode& first = Node(members.front(), inst.members.front().second);
        inst.seconds = (internal::CollectiveNodeSeconds(hw_, *first.comm_type,
                                                        static_cast<double>(bytes), span));
      }
      for (const auto& [r, i] : inst.members) {
        instance_of_[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)] =
            static_cast<std::int32_t>(instances_.size());
      }
      instances_.push_back(std::move(inst));
    }
  }
  return Status::Ok();
}

Status Builder::MatchPointToPoint() {
  const auto ranks = static_cast<std::int32_t>(graphs_.size());
  using Key = std::tuple<std::int32_t, std::int32_t, std::int32_t>;  // src, dst, tag
  std::map<Key, std::vector<std::pair<std::int32_t, std::int32_t>>> sends;
  auto peer = [&](std::int32_t r, std::int32_t i, const std::optional<std::int32_t>& p,
                  const char* attr) -> Result<std::int32_t> {
    const RankGraph& g = graphs_[static_cast<std::size_t>(r)];
    if (!p) return NodeError(g, i, std::string("missing attribute ") + attr);
    if (*p < 0 || *p >= ranks || *p == r) {
      return NodeError(g, i,
                       std::string(attr) + " = " + std::to_string(*p) +
                           " is not another rank of the replay (ranks 0 .. " +
                           std::to_string(ranks - 1) + ")");
    }
    return *p;
  };
  for (std::int32_t r = 0; r < ranks; ++r) {
    for (std::int32_t i : graphs_[static_cast<std::size_t>(r)].order) {
      if (kind_[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)] != Kind::kSend) continue;
      Result<std::int32_t> dst = peer(r, i, Node(r, i).comm_dst, "comm_dst");
      if (!dst.ok()) return dst.error();
      sends[Key{r, *dst, Node(r, i).comm_tag.value_or(0)}].emplace_back(r, i);
    }
  }
  std::map<Key, std::size_t> cursor;
  for (std::int32_t r = 0; r < ranks; ++r) {
    for (std::int32_t i : graphs_[static_cast<std::size_t>(r)].order) {
      if (kind_[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)] != Kind::kRecv) continue;
      Result<std::int32_t> src = peer(r, i, Node(r, i).comm_src, "comm_src");
      if (!src.ok()) return src.error();
      const Key key{*src, r, Node(r, i).comm_tag.value_or(0)};
      const auto it = sends.find(key);
      std::size_t& c = cursor[key];
      if (it == sends.end() || c >= it->second.size()) {
        return NodeError(graphs_[static_cast<std::size_t>(r)], i,
                         "receive from rank " + std::to_string(*src) + " (tag " +
                             std::to_string(std::get<2>(key)) + ") has no matching send in " +
                             graphs_[static_cast<std::size_t>(*src)].trace.file);
      }
      send_of_[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)] = it->second[c++];
      ++out_.point_to_point;
    }
  }
  for (const auto& [key, list] : sends) {
    const std::size_t used = cursor.count(key) != 0 ? cursor.at(key) : 0;
    if (used < list.size()) {
      const auto [r, i] = list[used];
      return NodeError(graphs_[static_cast<std::size_t>(r)], i,
                       "send to rank " + std::to_string(std::get<1>(key)) + " (tag " +
                           std::to_string(std::get<2>(key)) + ") has no matching receive in " +
                           graphs_[static_cast<std::size_t>(std::get<1>(key))].trace.file);
    }
  }
  return Status::Ok();
}

Result<double> Builder::KernelSeconds(std::int32_t rank, std::int32_t node) {
  const TraceNode& n = Node(rank, node);
  const Kind kind = kind_[static_cast<std::size_t>(rank)][static_cast<std::size_t>(node)];
  if (kind == Kind::kNoop) return 0.0;
  if (kind == Kind::kCompute && options_.compute == ComputeTiming::kRoofline) {
    if (!n.num_ops && !n.tensor_size) {
      ++out_.roofline_fallbacks;
      return RecordedSeconds(n);
    }
    const double peak = hw_.gpu.PeakFlopsPerS(options_.dtype);
    if (peak <= 0) {
      return NodeError(graphs_[static_cast<std::size_t>(rank)], node,
                       "the roofline needs a " + std::string(DtypeName(options_.dtype)) +
                           " peak, which " + hw_.name + " lacks");
    }
    return (internal::RooflineSeconds(hw_.gpu, peak, static_cast<double>(n.num_ops.value_or(0)),
                                      static_cast<double>(n.tensor_size.value_or(0))));
  }
  if (kind == Kind::kMemory && options_.comm == CommTiming::kModel && n.tensor_size) {
    const hw::LinkSpec& pcie = hw_.node.pcie;
    return (pcie.latency_seconds + static_cast<double>(*n.tensor_size) / pcie.EffectiveBytesPerS());
  }
  return RecordedSeconds(n);
}

Result<ReplayResult> Builder::Run() {
  const auto ranks = static_cast<std::int32_t>(graphs_.size());
  FS_CHECK(ranks > 0, "Replay needs at least one rank");
  kind_.resize(static_cast<std::size_t>(ranks));
  instance_of_.resize(static_cast<std::size_t>(ranks));
  send_of_.resize(static_cast<std::size_t>(ranks));
  for (std::int32_t r = 0; r < ranks; ++r) {
    const RankGraph& g = graphs_[static_cast<std::size_t>(r)];
    FS_CHECK(g.trace.rank == r, "graphs must be in rank order");
    const std::size_t n = g.trace.nodes.size();
    kind_[static_cast<std::size_t>(r)].resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      kind_[static_cast<std::size_t>(r)][i] = internal::Classify(g.trace.nodes[i]);
    }
    instance_of_[static_cast<std::size_t>(r)].assign(n, -1);
    send_of_[static_cast<std::size_t>(r)].assign(n, {-1, -1});
    out_.num_nodes += static_cast<std::int64_t>(n);
  }
  if (Status s = MatchCollectives(); !s.ok()) return s.error();
  if (Status s = MatchPointToPoint(); !s.ok()) return s.error();
  out_.collective_instances = static_cast<std::int64_t>(instances_.size());

  // Barriers first (their streams keep instance order), then each rank's tasks in issue order.
  for (Instance& inst : instances_) {
    inst.barrier = AddTask(Stream(inst.members.front().first, "sync:" + inst.pg), SimTime::Zero(),
                           TaskRole::kBarrier, inst.members.front().first, -1);
  }
  std::vector<std::vector<TaskId>> first(static_cast<std::size_t>(ranks));
  std::vector<std::vector<TaskId>> last(static_cast<std::size_t>(ranks));
  for (std::int32_t r = 0; r < ranks; ++r) {
    const RankGraph& g = graphs_[static_cast<std::size_t>(r)];
    first[static_cast<std::size_t>(r)].assign(g.trace.nodes.size(), -1);
    last[static_cast<std::size_t>(r)].assign(g.trace.nodes.size(), -1);
    for (std::int32_t i : g.order) {
      const TraceNode& n = Node(r, i);
      const Kind kind = kind_[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)];
      TaskId& f = first[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)];
      TaskId& l = last[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)];
      if (kind == Kind::kColl || kind == Kind::kSend || kind == Kind::kRecv) {
        const sim::StreamId s = Stream(
            r, kind == Kind::kRecv
                   ? "recv:" + n.pg_name.value_or("") + " from " + std::to_string(*n.comm_src)
                   : "comm:" + n.pg_name.value_or(""));
        double seconds = 0;
        if (kind == Kind::kColl) {
          const Instance& inst = instances_[static_cast<std::size_t>(
              instance_of_[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)])];
          seconds = options_.comm == CommTiming::kRecorded ? RecordedSeconds(n) : inst.seconds;
        } else {
          if (options_.comm == CommTiming::kModel && !n.comm_size) {
            return NodeError(g, i, "send/receive without a comm_size attribute");
          }
          const std::int32_t peer = kind == Kind::kSend ? *n.comm_dst : *n.comm_src;
          seconds = TransferSeconds(
              r, i,
              hw::PointToPointSeconds(hw_, static_cast<double>(n.comm_size.value_or(0)),
                                      r / options_.gpus_per_node == peer / options_.gpus_per_node));
        }
        Result<SimTime> d = Checked(seconds, r, i);
        if (!d.ok()) return d.error();
        if (kind != Kind::kRecv) f = AddTask(s, SimTime::Zero(), TaskRole::kArrive, r, i);
        l = AddTask(s, *d, TaskRole::kNode, r, i);
        if (kind == Kind::kRecv) f = l;
        continue;
      }
      Result<double> seconds = KernelSeconds(r, i);
      if (!seconds.ok()) return seconds.error();
      Result<SimTime> d = Checked(*seconds, r, i);
      if (!d.ok()) return d.error();
      f = l = AddTask(Stream(r, internal::StreamName(kind)), *d, TaskRole::kNode, r, i);
    }
  }
  // Edges: dependencies, collective barriers, send -> receive.
  for (std::int32_t r = 0; r < ranks; ++r) {
    const RankGraph& g = graphs_[static_cast<std::size_t>(r)];
    const auto& f = first[static_cast<std::size_t>(r)];
    const auto& l = last[static_cast<std::size_t>(r)];
    for (std::int32_t i : g.order) {
      const auto ui = static_cast<std::size_t>(i);
      for (std::int64_t k = g.pred_offset[ui]; k < g.pred_offset[ui + 1]; ++k) {
        out_.graph.AddEdge(l[static_cast<std::size_t>(g.preds[static_cast<std::size_t>(k)])],
                           f[ui]);
      }
      if (const std::int32_t inst = instance_of_[static_cast<std::size_t>(r)][ui]; inst >= 0) {
        const TaskId barrier = instances_[static_cast<std::size_t>(inst)].barrier;
        out_.graph.AddEdge(f[ui], barrier);
        out_.graph.AddEdge(barrier, l[ui]);
      }
      if (const auto [sr, si] = send_of_[static_cast<std::size_t>(r)][ui]; sr >= 0) {
        out_.graph.AddEdge(first[static_cast<std::size_t>(sr)][static_cast<std::size_t>(si)],
                           l[ui]);
      }
    }
  }
  out_.graph.Build();
  Result<sim::RunResult> run = sim::Engine().Run(out_.graph);
  if (!run.ok()) {
    return Error{
        "the replay cannot finish: the ranks issue collectives or sends/receives in "
        "orders that wait on each other (" +
            run.error().ToString() + ")",
        graphs_.front().trace.file, 0, 0};
  }
  out_.run = std::move(run).value();
  internal::Summarise(graphs_, kind_, &out_);
  return std::move(out_);
}

}  // namespace

Result<ReplayResult> Replay(const std::vector<RankGraph>& graphs, const hw::HardwareProfile& hw,
                            const ReplayOptions& options) {
  if (graphs.empty()) return Error{"nothing to replay: no ranks", "", 0, 0};
  if (options.gpus_per_node < 1) {
    return Error{"gpus_per_node must be at least 1", "", 0, 0};
  }
  return Builder(graphs, hw, options).Run();
}

}  // namespace foresight::chakra
