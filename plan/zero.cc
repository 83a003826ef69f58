// Data-parallel gradient reduction, ZeRO parameter gathers and the optimizer step
// (plan/internal/compiler.h).
//
// zero 0: the last micro-batch's gradients are all-reduced in buckets (Megatron DDP).
// zero 1: the same buckets are reduce-scattered instead (Megatron's distributed optimizer); the
//         optimizer updates the rank's 1/dp shard and the updated parameters are all-gathered:
//         whole after the optimizer, or with plan.overlap.param_gather per part from the step
//         start, each part's first forward waiting for its gather (EmitParamGather).
// zero 2: gradients are sharded, so each micro-batch's gradients are reduce-scattered as its
//         backward produces them (DeepSpeed stage 2 with gradient accumulation); the unreduced
//         bucket lives from its first part's start to its reduce-scatter's end.
// zero 3: parameters are sharded too: each part (embedding, layer, head) of every forward and
//         backward waits for the all-gather of its parameters, issued on the comm stream two
//         parts ahead (prefetch); the gathered copy lives until the part ends.
#include "base/check.h"
#include "models/hw/collective.h"
#include "plan/internal/compiler.h"

namespace foresight::plan::internal {

void Compiler::EmitPassComm(std::int64_t s, const std::vector<TaskId>& tasks, bool backward) {
  const Plan& plan = in_.plan;
  StageBuild& b = Build(s);
  const StageInfo& info = VInfo(s);
  auto& g = out_.graph;
  const std::vector<double>& params = backward ? b.bwd_part_params : b.fwd_part_params;
  FS_CHECK(tasks.size() == params.size(), "pass tasks and parameter groups disagree");
  const bool gather = plan.zero >= 3;
  const bool reduce = backward && plan.zero >= 2;
  const std::size_t lag = gather ? 2 : 0;  // gathers run this many parts ahead
  const auto d = static_cast<double>(plan.dp);
  const ops::Pass pass = backward ? ops::Pass::kBackward : ops::Pass::kForward;
  const bool last_mb = backward && tasks.back() == b.bwd_last.back();

  const int pass_index = backward ? 1 : 0;
  const std::vector<double>& expert = backward ? b.bwd_part_expert : b.fwd_part_expert;
  const double de = expert_dp_;
  // Dense parameters are sharded over the dp*cp ranks, routed experts over the dp*cp/ep ranks
  // of the expert-data-parallel group (plan/parallel.h): a part gathers both, back to back.
  auto emit_gather = [&](std::size_t p) {
    if (params[p] <= 0) return;
    const double expert_bytes = expert[p] * dtype_bytes_;
    const double dense_bytes = params[p] * dtype_bytes_ - expert_bytes;
    const double full_bytes = dense_bytes + expert_bytes;
    const TaskId gate = p >= lag ? tasks[p - lag] : -1;
    TaskId fetch = -1;
    if (plan.offload.params) {
      // The rank's shard comes from host memory first (ZeRO-Infinity).
      const double shard = dense_bytes / d + expert_bytes / de;
      std::int32_t& fetch_seg = b.fetch_seg[pass_index][p];
      if (fetch_seg < 0) {
        fetch_seg = OpSegment("param_fetch", WorkClass::kComm, shard,
                              PcieCopySeconds(in_.hardware, shard), pass);
      }
      fetch = SegmentTask(info.h2d_stream, fetch_seg);
      if (gate >= 0) g.AddEdge(gate, fetch);
      const auto shard_bytes = static_cast<std::int64_t>(shard);
      g.AddMemoryEvent(fetch, info.pool, kWeights, false, shard_bytes);
      g.AddMemoryEvent(tasks[p], info.pool, kWeights, true, -shard_bytes);
    }
    std::int32_t& seg = b.gather_seg[pass_index][p];
    if (seg < 0) {
      const double seconds = CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather,
                                         dense_bytes, hw::GroupKind::kDp, spans_.dp) +
                             CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather,
                                         expert_bytes, hw::GroupKind::kEdp, edp_span_);
      seg = OpSegment("zero3_param_allgather", WorkClass::kComm, full_bytes, seconds, pass);
    }
    const TaskId t = SegmentTask(info.comm_stream, seg);
    if (gate >= 0) g.AddEdge(gate, t);
    if (fetch >= 0) g.AddEdge(fetch, t);
    g.AddEdge(t, tasks[p]);
    const auto others =
        static_cast<std::int64_t>(dense_bytes * (d - 1) / d + expert_bytes * (de - 1) / de);
    g.AddMemoryEvent(t, info.pool, kWeights, false, others);
    g.AddMemoryEvent(tasks[p], info.pool, kWeights, true, -others);
  };

  // Dense and routed-expert gradients fill separate buckets (Megatron-Core), reduce-scattered
  // over dp*cp and over the expert-data-parallel group.
  struct Bucket {
    double params = 0;
    std::size_t first = 0;
  };
  Bucket buckets[2];  // [dense, expert]
  auto emit_reduce = [&](std::size_t q) {
    const bool last_part = q + 1 == params.size();
    for (int k = 0; k < 2; ++k) {
      const bool is_expert = k == 1;
      Bucket& bucket = buckets[k];
      const double part = is_expert ? expert[q] : params[q] - expert[q];
      if (bucket.params == 0) bucket.first = q;
      bucket.params += part;
      if (bucket.params * dtype_bytes_ < plan.grad_bucket_bytes && !last_part) continue;
      if (is_expert && (bucket.params <= 0 || de <= 1)) continue;  // nothing to reduce
      const double bytes = bucket.params * dtype_bytes_;
      const double ranks = is_expert ? de : d;
      // The same bucket boundaries every micro-batch: one segment per bucket, built once.
      std::int32_t& seg = is_expert ? b.expert_reduce_seg[q] : b.reduce_seg[q];
      if (seg < 0) {
        seg = OpSegment(is_expert ? "expert_dp_grad_reduce_scatter" : "dp_grad_reduce_scatter",
                        WorkClass::kComm, bytes,
                        is_expert
                            ? CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kReduceScatter,
                                          bytes, hw::GroupKind::kEdp, edp_span_)
                            : CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kReduceScatter,
                                          bytes, hw::GroupKind::kDp, spans_.dp),
                        ops::Pass::kBackward);
      }
      const TaskId t = SegmentTask(info.comm_stream, seg);
      g.AddEdge(plan.overlap.grad_reduce ? tasks[q] : tasks.back(), t);
      // The bucket's gradients beyond the rank's own shard exist until they are reduced.
      const auto unreduced = static_cast<std::int64_t>(bytes * (ranks - 1) / ranks);
      g.AddMemoryEvent(tasks[bucket.first], info.pool, kGradients, false, unreduced);
      g.AddMemoryEvent(t, info.pool, kGradients, true, -unreduced);
      if (last_mb) b.optimizer_waits.push_back(t);
      bucket.params = 0;
    }
  };

  for (std::size_t p = 0; p < params.size(); ++p) {
    if (gather) emit_gather(p);
    if (reduce && p >= lag) emit_reduce(p - lag);
  }
  if (reduce) {
    for (std::size_t q = params.size() > lag ? params.size() - lag : 0; q < params.size(); ++q) {
      emit_reduce(q);
    }
  }
}

void Compiler::EmitLastMicroBatchGradReduce(std::int64_t s) {
  const Plan& plan = in_.plan;
  StageBuild& b = Build(s);
  const StageInfo& info = VInfo(s);
  // Dense gradients are all-reduced (reduce-scattered) over the dp*cp ranks, routed-expert
  // gradients over the dp*cp/ep ranks of the expert-data-parallel group, in separate buckets
  // (Megatron-Core's expert data-parallel buckets).
  for (const bool expert : {false, true}) {
    if ((expert ? edp_span_.size : plan.dp) <= 1 || (expert && b.expert_params <= 0)) continue;
    double bucket_params = 0;
    for (std::size_t p = 0; p < b.bwd_part_params.size(); ++p) {
      const double e = b.bwd_part_expert[p];
      bucket_params += expert ? e : b.bwd_part_params[p] - e;
      const bool last_part = p + 1 == b.bwd_part_params.size();
      if (bucket_params * dtype_bytes_ < plan.grad_bucket_bytes && !last_part) continue;
      if (expert && bucket_params <= 0) continue;
      const std::string prefix = expert ? "expert_" : "";
      std::int32_t seg = -1;
      if (expert) {
        const double bytes = bucket_params * dtype_bytes_;
        seg = OpSegment(prefix + (plan.zero == 0 ? "dp_grad_allreduce" : "dp_grad_reduce_scatter"),
                        WorkClass::kComm, bytes,
                        CommSeconds(in_.hardware, spans_,
                                    plan.zero == 0 ? hw::CollectiveOp::kAllReduce
                                                   : hw::CollectiveOp::kReduceScatter,
                                    bytes, hw::GroupKind::kEdp, edp_span_),
                        ops::Pass::kBackward);
      } else {
        ops::Op op;
        op.name = plan.zero == 0 ? "dp_grad_allreduce" : "dp_grad_reduce_scatter";
        op.kind = ops::OpKind::kCollective;
        op.pass = ops::Pass::kBackward;
        op.group = ops::CommGroup::kData;
        op.collective =
            plan.zero == 0 ? ops::CollectiveKind::kAllReduce : ops::CollectiveKind::kReduceScatter;
        op.comm_bytes = bucket_params * dtype_bytes_;
        seg = SingleOpSegment(CostOp(op, in_.hardware, in_.training.dtype, spans_));
      }
      const TaskId t = out_.graph.AddTask(info.comm_stream, SegmentDuration(seg), seg);
      const TaskId ready =
          plan.overlap.grad_reduce ? b.bwd_parts_last_mb[p] : b.bwd_parts_last_mb.back();
      out_.graph.AddEdge(ready, t);
      b.optimizer_waits.push_back(t);
      bucket_params = 0;
    }
  }
}

void Compiler::EmitEmbeddingGradReduce(std::int64_t s) {
  // Tied word embeddings split across the first and last stage: their gradients (the rank's
  // shard of them with zero >= 2) are summed with a 2-rank all-reduce before the optimizer
  // (Megatron-LM).
  const ops::ModelConfig& model = in_.model;
  const Plan& plan = in_.plan;
  if (plan.pp <= 1 || !model.tied_embeddings || (s != 0 && s != VirtualStages() - 1)) return;
  StageBuild& b = Build(s);
  const double bytes = static_cast<double>(model.vocab * model.hidden) /
                       static_cast<double>(plan.tp) * dtype_bytes_ /
                       (plan.zero >= 2 ? static_cast<double>(plan.dp) : 1.0);
  const std::int64_t stride = (plan.pp - 1) * plan.tp * plan.dp;
  const hw::GroupSpan span =
      hw::SpanOf(2, stride, static_cast<std::int32_t>(in_.cluster.gpus_per_node));
  const TaskId t =
      AddOpTask(VInfo(s).comm_stream, "embedding_grad_allreduce", WorkClass::kComm, bytes,
                hw::CollectiveSeconds(in_.hardware, hw::CollectiveOp::kAllReduce, bytes, span),
                ops::Pass::kBackward);
  out_.graph.AddEdge(b.bwd_parts_last_mb.back(), t);
  b.optimizer_waits.push_back(t);
}

void Compiler::EmitParamGather(std::int64_t v, const std::vector<TaskId>& tasks) {
  // One all-gather per part (embedding, layer, head) in forward order; the comm stream runs
  // them back to back from the step start, so only the first part's gather (and any gather
  // slower than the forward it runs under) is exposed (Megatron's overlap_param_gather). Dense
  // parameters are gathered over dp*cp, routed experts over the expert-data-parallel group.
  if (in_.plan.dp <= 1) return;
  StageBuild& b = Build(v);
  const StageInfo& info = VInfo(v);
  FS_CHECK(tasks.size() == b.fwd_part_params.size(), "forward tasks and parameter groups disagree");
  for (std::size_t p = 0; p < tasks.size(); ++p) {
    const double expert_bytes = b.fwd_part_expert[p] * dtype_bytes_;
    const double bytes = b.fwd_part_params[p] * dtype_bytes_ - expert_bytes;
    if (bytes > 0) {
      const TaskId t = AddOpTask(info.comm_stream, "dp_param_allgather", WorkClass::kComm, bytes,
                                 CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather,
                                             bytes, hw::GroupKind::kDp, spans_.dp),
                                 ops::Pass::kForward);
      out_.graph.AddEdge(t, tasks[p]);
    }
    if (expert_bytes > 0 && edp_span_.size > 1) {
      const TaskId t =
          AddOpTask(info.comm_stream, "expert_dp_param_allgather", WorkClass::kComm, expert_bytes,
                    CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather, expert_bytes,
                                hw::GroupKind::kEdp, edp_span_),
                    ops::Pass::kForward);
      out_.graph.AddEdge(t, tasks[p]);
    }
  }
}

void Compiler::EmitOptimizer(std::int64_t s) {
  const Plan& plan = in_.plan;
  std::vector<TaskId> waits;
  double expert_params = 0;
  for (std::int64_t c = 0; c < vpp_; ++c) {
    const StageBuild& chunk = Build(c * plan.pp + s);
    waits.insert(waits.end(), chunk.optimizer_waits.begin(), chunk.optimizer_waits.end());
    expert_params += chunk.expert_params;
  }
  const StageInfo& info = Info(s);
  // With zero >= 1 a rank updates its 1/dp shard of the stage's dense parameters and its
  // 1/(dp*cp/ep) shard of the routed-expert ones (plan.dp is dp*cp here).
  const double dense = info.params_per_rank - expert_params;
  const double params = plan.zero >= 1
                            ? dense / static_cast<double>(plan.dp) + expert_params / expert_dp_
                            : info.params_per_rank;
  TaskId done = -1;
  if (plan.offload.optimizer) {
    done = EmitHostOptimizer(s, params, waits);
  } else {
    const ops::Op adam = ops::BuildAdamStep(params, in_.training.dtype);
    const std::int32_t seg =
        SingleOpSegment(CostOp(adam, in_.hardware, in_.training.dtype, spans_));
    done = out_.graph.AddTask(info.compute_stream, SegmentDuration(seg), seg);
    for (TaskId t : waits) out_.graph.AddEdge(t, done);
  }
  if ((plan.zero == 1 || plan.zero == 2) && plan.dp > 1 && !plan.overlap.param_gather) {
    // Every rank needs all updated parameters for the next forward: the dense ones gathered
    // over dp*cp, the routed experts over the expert-data-parallel group.
    const double bytes = dense * dtype_bytes_;
    const TaskId t = AddOpTask(info.comm_stream, "dp_param_allgather", WorkClass::kComm, bytes,
                               CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather,
                                           bytes, hw::GroupKind::kDp, spans_.dp),
                               ops::Pass::kBackward);
    out_.graph.AddEdge(done, t);
    if (expert_params > 0 && edp_span_.size > 1) {
      const double expert_bytes = expert_params * dtype_bytes_;
      const TaskId te =
          AddOpTask(info.comm_stream, "expert_dp_param_allgather", WorkClass::kComm, expert_bytes,
                    CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather, expert_bytes,
                                hw::GroupKind::kEdp, edp_span_),
                    ops::Pass::kBackward);
      out_.graph.AddEdge(done, te);
    }
  }
}

}  // namespace foresight::plan::internal
