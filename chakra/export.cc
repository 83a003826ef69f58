#include "chakra/export.h"

#include <cmath>
#include <string>
#include <utility>

namespace foresight::chakra {
namespace {

std::uint64_t RoundMicros(sim::SimTime t) {
  return static_cast<std::uint64_t>(std::llround(static_cast<double>(t.ps()) * 1e-6));
}

bool Contains(const std::string& text, const char* word) {
  return text.find(word) != std::string::npos;
}

// Fills the collective attributes of a comm-stream task from its op name.
Status DescribeCollective(const plan::StepInput& input, const plan::CostedOp& op,
                          std::int32_t stage, TraceNode* node) {
  if (Contains(op.name, "allreduce") || Contains(op.name, "all_reduce")) {
    node->comm_type = CommType::kAllReduce;
  } else if (Contains(op.name, "allgather") || Contains(op.name, "all_gather")) {
    node->comm_type = CommType::kAllGather;
  } else if (Contains(op.name, "reduce_scatter") || Contains(op.name, "reducescatter")) {
    node->comm_type = CommType::kReduceScatter;
  } else {
    return Error{"cannot export communication task '" + op.name +
                     "': unknown collective (expected allreduce, allgather or reduce_scatter "
                     "in its name)",
                 "", 0, 0};
  }
  const std::string s = std::to_string(stage);
  if (op.name.rfind("dp_", 0) == 0) {
    node->pg_name = "dp.stage" + s;
    node->comm_group_size = input.plan.dp;
  } else if (op.name.rfind("tp_", 0) == 0) {
    node->pg_name = "tp.stage" + s;
    node->comm_group_size = input.plan.tp;
  } else if (op.name.rfind("embedding", 0) == 0) {
    node->pg_name = "embedding";
    node->comm_group_size = 2;
  } else {
    return Error{"cannot export communication task '" + op.name +
                     "': unknown process group (expected a dp_, tp_ or embedding prefix)",
                 "", 0, 0};
  }
  node->comm_size = std::llround(op.bytes);
  return Status::Ok();
}

}  // namespace

Result<std::vector<RankTrace>> ExportStep(const plan::StepInput& input,
                                          const plan::CompiledStep& step) {
  const sim::TaskGraph& g = step.graph;
  FS_CHECK(g.built(), "ExportStep needs a built task graph");
  const std::int32_t num_tasks = g.num_tasks();
  const auto ranks = static_cast<std::int32_t>(step.stages.size());
  auto rank_of = [&](sim::TaskId t) { return g.stream_info(g.stream(t)).rank; };

  std::vector<RankTrace> traces(static_cast<std::size_t>(ranks));
  for (std::int32_t r = 0; r < ranks; ++r) {
    RankTrace& t = traces[static_cast<std::size_t>(r)];
    t.rank = r;
    t.version = "1.0.0";
    t.metadata = {Attribute{"producer", std::string("foresight")},
                  Attribute{"rank_stands_for", std::string("pipeline stage")},
                  Attribute{"world_size", static_cast<std::int64_t>(input.cluster.world_size())}};
  }

  // Nodes of every task, in task order (deps filled below).
  std::vector<TraceNode> nodes(static_cast<std::size_t>(num_tasks));
  for (sim::TaskId t = 0; t < num_tasks; ++t) {
    TraceNode& node = nodes[static_cast<std::size_t>(t)];
    const plan::Segment& seg = step.segments[static_cast<std::size_t>(g.tag(t))];
    const auto& ops = step.op_lists[static_cast<std::size_t>(seg.list)];
    const std::string& stream = g.stream_info(g.stream(t)).name;
    node.id = static_cast<std::uint64_t>(t);
    node.name = seg.name.empty() ? ops[static_cast<std::size_t>(seg.begin)].name : seg.name;
    node.duration_micros = RoundMicros(g.duration(t));
    node.is_cpu_op = false;
    node.other_attrs.push_back(Attribute{"foresight_stream", stream});
    const plan::CostedOp& first_op = ops[static_cast<std::size_t>(seg.begin)];
    // A pipeline send runs on the p2p stream, or on the compute stream with overlap.p2p off.
    const bool send =
        stream == "p2p" || (seg.end - seg.begin == 1 && first_op.name.rfind("pp_send", 0) == 0);
    if (stream == "comm" || stream == "tp_comm") {
      node.type = NodeType::kCommColl;
      node.name = ops[static_cast<std::size_t>(seg.begin)].name;
      if (Status s = DescribeCollective(input, ops[static_cast<std::size_t>(seg.begin)], rank_of(t),
                                        &node);
          !s.ok()) {
        return s.error();
      }
    } else if (send) {
      node.type = NodeType::kCommSend;
      node.name = ops[static_cast<std::size_t>(seg.begin)].name;
      node.comm_size = std::llround(ops[static_cast<std::size_t>(seg.begin)].bytes);
      node.comm_src = rank_of(t);
      node.pg_name = "pp";
    } else {
      node.type = NodeType::kComp;
      double flops = 0;
      double bytes = 0;
      for (std::int32_t i = seg.begin; i < seg.end; ++i) {
        const plan::CostedOp& op = ops[static_cast<std::size_t>(i)];
        if (op.work == plan::WorkClass::kComm) continue;
        flops += op.flops;
        bytes += op.bytes;
      }
      node.num_ops = std::llround(flops);
      node.tensor_size = static_cast<std::uint64_t>(std::llround(bytes));
    }
  }

  // Dependencies: incoming edges (a cross-rank one becomes a send/recv pair) and stream order.
  std::vector<std::vector<TraceNode>> recvs(static_cast<std::size_t>(ranks));
  std::int32_t next_tag = 0;
  std::uint64_t next_recv_id = static_cast<std::uint64_t>(num_tasks);
  const auto& offset = g.succ_offset();
  const auto& succ = g.succ();
  for (sim::TaskId u = 0; u < num_tasks; ++u) {
    TraceNode& from = nodes[static_cast<std::size_t>(u)];
    for (std::int64_t k = offset[static_cast<std::size_t>(u)];
         k < offset[static_cast<std::size_t>(u) + 1]; ++k) {
      const sim::TaskId v = succ[static_cast<std::size_t>(k)];
      TraceNode& to = nodes[static_cast<std::size_t>(v)];
      if (rank_of(u) == rank_of(v)) {
        to.data_deps.push_back(from.id);
        continue;
      }
      if (from.type != NodeType::kCommSend ||
          (from.comm_dst.has_value() && *from.comm_dst != rank_of(v))) {
        return Error{"cannot export task " + std::to_string(u) + " ('" + from.name +
                         "'): a cross-rank dependency must leave a p2p send with one receiver",
                     "", 0, 0};
      }
      if (from.comm_dst.has_value()) {
        // A second task of the receiving rank waits for the same message (overlap.tp_comm's
        // companion task): it depends on the same recv.
        to.data_deps.push_back(recvs[static_cast<std::size_t>(rank_of(v))].back().id);
        continue;
      }
      from.comm_dst = rank_of(v);
      from.comm_tag = next_tag;
      TraceNode recv;
      recv.id = next_recv_id++;
      recv.name = from.name + "_recv";
      recv.type = NodeType::kCommRecv;
      recv.is_cpu_op = false;
      recv.comm_size = from.comm_size;
      recv.duration_micros = from.duration_micros;
      recv.comm_src = rank_of(u);
      recv.comm_dst = rank_of(v);
      recv.comm_tag = next_tag++;
      recv.pg_name = "pp";
      recv.other_attrs.push_back(Attribute{"foresight_stream", std::string("p2p")});
      to.data_deps.push_back(recv.id);
      recvs[static_cast<std::size_t>(rank_of(v))].push_back(std::move(recv));
    }
    const sim::TaskId next = g.stream_next()[static_cast<std::size_t>(u)];
    if (next >= 0) nodes[static_cast<std::size_t>(next)].data_deps.push_back(from.id);
  }
  for (sim::TaskId t = 0; t < num_tasks; ++t) {
    TraceNode& node = nodes[static_cast<std::size_t>(t)];
    if (node.type == NodeType::kCommSend && !node.comm_dst.has_value()) {
      return Error{"cannot export task " + std::to_string(t) + " ('" + node.name +
                       "'): a p2p send without a receiver on another stage",
                   "", 0, 0};
    }
    traces[static_cast<std::size_t>(rank_of(t))].nodes.push_back(std::move(node));
  }
  for (std::int32_t r = 0; r < ranks; ++r) {
    for (TraceNode& recv : recvs[static_cast<std::size_t>(r)]) {
      traces[static_cast<std::size_t>(r)].nodes.push_back(std::move(recv));
    }
  }
  return traces;
}

}  // namespace foresight::chakra
