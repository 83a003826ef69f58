#include "plan/compile.h"

#include <algorithm>
#include <string>

#include "base/check.h"
#include "models/hw/collective.h"
#include "models/ops/layer_builder.h"
#include "plan/schedule.h"

namespace foresight::plan {
namespace {

using sim::SimTime;
using sim::TaskId;

// Parameters of one layer that tensor parallelism does not split: norm weights (and biases)
// and the biases of the row-parallel projections (added after the all-reduce).
double ReplicatedLayerParams(const ops::ModelConfig& m) {
  const double norm = (m.norm == ops::Norm::kLayerNorm ? 2.0 : 1.0) * static_cast<double>(m.hidden);
  return 2 * norm + (m.bias ? 2.0 * static_cast<double>(m.hidden) : 0.0);
}

struct StagePlanShape {
  bool first = false;
  bool last = false;
  std::int64_t layers = 0;
};

// Per-rank parameters of a stage (see docs/model.md, "Model states").
double StageParamsPerRank(const ops::ModelConfig& m, const StagePlanShape& s, std::int64_t tp,
                          std::int64_t pp) {
  const ops::ParameterCounts counts = ops::CountParameters(m);
  const double t = static_cast<double>(tp);
  const double replicated = ReplicatedLayerParams(m);
  double params = static_cast<double>(s.layers) *
                  ((static_cast<double>(counts.per_layer) - replicated) / t + replicated);
  const double word_embedding = static_cast<double>(m.vocab) * static_cast<double>(m.hidden);
  if (s.first) {
    params += word_embedding / t;
    if (m.learned_positions) params += static_cast<double>(m.seq_len * m.hidden);
  }
  if (s.last) {
    params += static_cast<double>(counts.final_norm);
    // Untied output projection; with tied embeddings and pp > 1 the last stage keeps its own
    // copy of the word embedding for the logits (Megatron-LM).
    if (!m.tied_embeddings || pp > 1) params += word_embedding / t;
  }
  return params;
}

class Compiler {
 public:
  explicit Compiler(const StepInput& in) : in_(in) {}

  CompiledStep Run();

 private:
  // Appends ops to a new list; returns its index.
  std::int32_t AddList(std::vector<CostedOp> ops) {
    out_.op_lists.push_back(std::move(ops));
    return static_cast<std::int32_t>(out_.op_lists.size() - 1);
  }
  std::vector<CostedOp> Cost(const std::vector<ops::Op>& ops, bool recompute) const {
    std::vector<CostedOp> out;
    out.reserve(ops.size());
    for (const ops::Op& op : ops) {
      out.push_back(CostOp(op, in_.hardware, in_.training.dtype, spans_));
      out.back().recompute = recompute;
    }
    return out;
  }
  // Cuts list `list` into segments at the given boundaries (indices where a new part begins).
  // Returns the segment ids.
  std::vector<std::int32_t> Segment(std::int32_t list, const std::vector<std::int32_t>& cuts,
                                    const std::string& name);
  // Emits one task per segment on `stream`, chained in order; returns the task ids.
  std::vector<TaskId> EmitSegments(const std::vector<std::int32_t>& segs, sim::StreamId stream);
  SimTime SegmentDuration(std::int32_t seg) const {
    return out_.segments[static_cast<std::size_t>(seg)].duration;
  }
  std::int32_t SingleOpSegment(CostedOp op) {
    const std::string name = op.name;
    const std::int32_t list = AddList({std::move(op)});
    return Segment(list, {}, name).front();
  }

  const StepInput& in_;
  GroupSpans spans_;
  CompiledStep out_;
};

std::vector<std::int32_t> Compiler::Segment(std::int32_t list,
                                            const std::vector<std::int32_t>& cuts,
                                            const std::string& name) {
  std::vector<std::int32_t> ids;
  const auto& ops = out_.op_lists[static_cast<std::size_t>(list)];
  std::vector<std::int32_t> bounds;
  for (std::int32_t c : cuts) {
    if (c > 0 && c < static_cast<std::int32_t>(ops.size())) bounds.push_back(c);
  }
  bounds.push_back(static_cast<std::int32_t>(ops.size()));
  std::int32_t begin = 0;
  for (std::int32_t end : bounds) {
    if (end <= begin) continue;
    plan::Segment seg;
    seg.list = list;
    seg.begin = begin;
    seg.end = end;
    seg.name = name;
    for (std::int32_t i = begin; i < end; ++i) {
      const CostedOp& op = ops[static_cast<std::size_t>(i)];
      seg.duration += op.duration;
      switch (op.work) {
        case WorkClass::kCompute:
          seg.compute_time += op.duration;
          break;
        case WorkClass::kComm:
          seg.comm_time += op.duration;
          break;
        case WorkClass::kOptimizer:
          seg.optimizer_time += op.duration;
          break;
      }
    }
    seg.work =
        seg.comm_time > seg.compute_time && seg.comm_time > seg.optimizer_time
            ? WorkClass::kComm
            : (seg.optimizer_time > seg.compute_time ? WorkClass::kOptimizer : WorkClass::kCompute);
    out_.segments.push_back(std::move(seg));
    ids.push_back(static_cast<std::int32_t>(out_.segments.size() - 1));
    begin = end;
  }
  return ids;
}

std::vector<TaskId> Compiler::EmitSegments(const std::vector<std::int32_t>& segs,
                                           sim::StreamId stream) {
  std::vector<TaskId> tasks;
  tasks.reserve(segs.size());
  for (std::int32_t seg : segs) {
    tasks.push_back(out_.graph.AddTask(stream, SegmentDuration(seg), seg));
  }
  return tasks;
}

CompiledStep Compiler::Run() {
  const ops::ModelConfig& model = in_.model;
  const Plan& plan = in_.plan;
  const std::int64_t tp = plan.tp;
  const std::int64_t pp = plan.pp;
  const std::int64_t dp = plan.dp;
  const auto gpn = static_cast<std::int32_t>(in_.cluster.gpus_per_node);
  const std::int64_t m = MicroBatches(in_.training, plan);
  const std::int64_t layers_per_stage = model.layers / pp;
  const int dtype_bytes = BytesOf(in_.training.dtype);
  out_.micro_batches = m;

  spans_.tp = hw::SpanOf(static_cast<std::int32_t>(tp), 1, gpn);
  spans_.dp = hw::SpanOf(static_cast<std::int32_t>(dp), tp, gpn);

  ops::BuildOptions options;
  options.micro_batch = in_.training.micro_batch;
  options.tp = tp;
  options.dtype = in_.training.dtype;
  options.flash_attention = plan.flash_attention;
  options.fusion = plan.fusion;
  const ops::LayerOps layer = ops::BuildTransformerLayer(model, options);
  const ops::LayerOps embedding = ops::BuildEmbedding(model, options);
  const ops::LayerOps head = ops::BuildHead(model, options);
  const bool full_recompute = plan.recompute == Recompute::kFull;
  // Bytes of one layer's input (the only tensor a fully recomputed layer keeps).
  const double layer_input_bytes =
      static_cast<double>(in_.training.micro_batch * model.seq_len * model.hidden * dtype_bytes);

  struct StageTasks {
    std::vector<TaskId> fwd_first, fwd_last, bwd_first, bwd_last;  // per micro-batch
    std::vector<TaskId> bwd_layer_end_last_mb;  // tasks ending each grad part, last micro-batch
    std::vector<double> bwd_part_params;        // params whose grads that part completes
  };
  std::vector<StageTasks> stage_tasks(static_cast<std::size_t>(pp));

  for (std::int64_t s = 0; s < pp; ++s) {
    StagePlanShape shape{s == 0, s == pp - 1, layers_per_stage};
    StageInfo info;
    info.stage = static_cast<std::int32_t>(s);
    info.layers = layers_per_stage;
    info.params_per_rank = StageParamsPerRank(model, shape, tp, pp);
    info.compute_stream = out_.graph.AddStream("compute", info.stage);
    info.comm_stream = out_.graph.AddStream("comm", info.stage);
    info.p2p_stream = out_.graph.AddStream("p2p", info.stage);
    info.pool = out_.graph.AddPool("stage" + std::to_string(s));

    // Forward list: [embedding] layers [head].
    std::vector<CostedOp> fwd;
    auto append = [](std::vector<CostedOp>& dst, std::vector<CostedOp> src) {
      for (auto& op : src) dst.push_back(std::move(op));
    };
    if (shape.first) append(fwd, Cost(embedding.forward, false));
    const std::vector<CostedOp> layer_fwd = Cost(layer.forward, false);
    for (std::int64_t l = 0; l < layers_per_stage; ++l) append(fwd, layer_fwd);
    if (shape.last) append(fwd, Cost(head.forward, false));
    // Backward list: [head bwd] (recompute fwd + bwd per layer, last layer first) [embedding].
    std::vector<CostedOp> bwd;
    std::vector<std::int32_t> bwd_cuts;
    std::vector<double> part_params;  // params completed by the part ending at each cut
    const ops::ParameterCounts counts = ops::CountParameters(model);
    const double layer_params =
        (static_cast<double>(counts.per_layer) - ReplicatedLayerParams(model)) /
            static_cast<double>(tp) +
        ReplicatedLayerParams(model);
    const std::vector<CostedOp> layer_recompute = Cost(layer.forward, true);
    const std::vector<CostedOp> layer_bwd = Cost(layer.backward, false);
    // Parameters whose gradients each backward part completes (for DP buckets).
    const double word_embedding_per_rank =
        static_cast<double>(model.vocab * model.hidden) / static_cast<double>(tp);
    double head_params = 0;
    if (shape.last) {
      append(bwd, Cost(head.backward, false));
      head_params = static_cast<double>(counts.final_norm) +
                    (!model.tied_embeddings || pp > 1 ? word_embedding_per_rank : 0.0);
    }
    double embedding_params = 0;
    if (shape.first) {
      embedding_params =
          word_embedding_per_rank +
          (model.learned_positions ? static_cast<double>(model.seq_len * model.hidden) : 0.0);
    }
    if (shape.last) {
      bwd_cuts.push_back(static_cast<std::int32_t>(bwd.size()));
      part_params.push_back(head_params);
    }
    for (std::int64_t l = 0; l < layers_per_stage; ++l) {
      if (full_recompute) append(bwd, layer_recompute);
      append(bwd, layer_bwd);
      bwd_cuts.push_back(static_cast<std::int32_t>(bwd.size()));
      part_params.push_back(layer_params);
    }
    if (shape.first) {
      append(bwd, Cost(embedding.backward, false));
      bwd_cuts.push_back(static_cast<std::int32_t>(bwd.size()));
      part_params.push_back(embedding_params);
    }

    // Activations kept per micro-batch between its forward and its backward.
    double saved = shape.first ? embedding.saved_activation_bytes : 0.0;
    if (shape.last) saved += head.saved_activation_bytes;
    saved += static_cast<double>(layers_per_stage) *
             (full_recompute ? layer_input_bytes : layer.saved_activation_bytes);
    const double transient = full_recompute ? layer.saved_activation_bytes : 0.0;
    info.saved_activation_bytes_per_micro_batch = saved;

    // FLOP accounting (whole cluster: per-rank flops x tp ranks x dp replicas x m).
    const double replicas = static_cast<double>(tp * dp * m);
    for (const auto& op : fwd) {
      if (op.model_flops) out_.hardware_flops_per_step += op.flops * replicas;
    }
    for (const auto& op : bwd) {
      if (op.model_flops) out_.hardware_flops_per_step += op.flops * replicas;
    }

    const std::int32_t fwd_list = AddList(std::move(fwd));
    const std::int32_t bwd_list = AddList(std::move(bwd));
    const std::vector<std::int32_t> fwd_segs = Segment(fwd_list, {}, "forward");
    const std::vector<std::int32_t> bwd_segs = Segment(bwd_list, {}, "backward");
    // The last micro-batch's backward, one task per parameter group (part), so each DP bucket
    // can start as soon as the gradients it holds are final.
    const std::vector<std::int32_t> bwd_parts = Segment(bwd_list, bwd_cuts, "backward");
    FS_CHECK(bwd_parts.size() == part_params.size(), "backward parts and segments disagree");

    // Model states are resident for the whole step (docs/model.md, "Model states").
    const double grad_bytes = dtype_bytes;
    const double optimizer_bytes = in_.training.dtype == Dtype::kFp32 ? 8.0 : 12.0;
    auto& g = out_.graph;
    g.SetInitialBytes(info.pool, kWeights,
                      static_cast<std::int64_t>(info.params_per_rank * dtype_bytes));
    g.SetInitialBytes(info.pool, kGradients,
                      static_cast<std::int64_t>(info.params_per_rank * grad_bytes));
    g.SetInitialBytes(info.pool, kOptimizerStates,
                      static_cast<std::int64_t>(info.params_per_rank * optimizer_bytes));
    g.SetInitialBytes(info.pool, kOther, in_.hardware.memory.reserved_bytes);

    StageTasks& st = stage_tasks[static_cast<std::size_t>(s)];
    st.fwd_first.assign(static_cast<std::size_t>(m), -1);
    st.fwd_last = st.bwd_first = st.bwd_last = st.fwd_first;
    const std::vector<PipelineSlot> order = PipelineOrder(plan.schedule, pp, s, m);
    info.max_in_flight = MaxInFlight(order);
    for (const PipelineSlot& slot : order) {
      const auto mb = static_cast<std::size_t>(slot.micro_batch);
      const bool last_backward = !slot.forward && slot.micro_batch == m - 1;
      const std::vector<TaskId> tasks = EmitSegments(
          slot.forward ? fwd_segs : (last_backward ? bwd_parts : bwd_segs), info.compute_stream);
      if (slot.forward) {
        st.fwd_first[mb] = tasks.front();
        st.fwd_last[mb] = tasks.back();
        g.AddMemoryEvent(tasks.back(), info.pool, kActivations, true,
                         static_cast<std::int64_t>(saved));
      } else {
        st.bwd_first[mb] = tasks.front();
        st.bwd_last[mb] = tasks.back();
        if (transient > 0) {
          g.AddMemoryEvent(tasks.front(), info.pool, kActivations, false,
                           static_cast<std::int64_t>(transient));
        }
        g.AddMemoryEvent(tasks.back(), info.pool, kActivations, true,
                         -static_cast<std::int64_t>(saved + transient));
        if (last_backward) {
          st.bwd_layer_end_last_mb = tasks;  // one task per part
          st.bwd_part_params = part_params;
        }
      }
    }
    out_.stages.push_back(info);
  }

  // Pipeline sends: forward activations s -> s+1, activation gradients s+1 -> s. With
  // tp > 1 each TP rank sends 1/tp of the tensor and the receivers all-gather it over the
  // scale-up links (Megatron-LM scatter-gather optimisation).
  if (pp > 1) {
    const double full = layer_input_bytes;
    for (std::int64_t s = 0; s < pp; ++s) {
      const StageInfo& info = out_.stages[static_cast<std::size_t>(s)];
      const std::vector<PipelineSlot> order = PipelineOrder(plan.schedule, pp, s, m);
      for (const PipelineSlot& slot : order) {
        const std::int64_t peer = slot.forward ? s + 1 : s - 1;
        if (peer < 0 || peer >= pp) continue;
        const std::int64_t rank = s * tp * dp;
        const std::int64_t peer_rank = peer * tp * dp;
        const bool same_node = rank / gpn == peer_rank / gpn;
        double seconds =
            hw::PointToPointSeconds(in_.hardware, full / static_cast<double>(tp), same_node);
        if (tp > 1) {
          seconds +=
              hw::CollectiveSeconds(in_.hardware, hw::CollectiveOp::kAllGather, full, spans_.tp);
        }
        CostedOp op;
        op.name = slot.forward ? "pp_send_activations" : "pp_send_grads";
        op.kind = ops::OpKind::kCollective;
        op.pass = slot.forward ? ops::Pass::kForward : ops::Pass::kBackward;
        op.work = WorkClass::kComm;
        op.bytes = full / static_cast<double>(tp);
        op.duration = SimTime::FromSeconds(seconds);
        const std::int32_t seg = SingleOpSegment(std::move(op));
        const TaskId send = out_.graph.AddTask(
            info.p2p_stream, out_.op_lists[out_.segments[seg].list][0].duration, seg);
        const auto mb = static_cast<std::size_t>(slot.micro_batch);
        const StageTasks& mine = stage_tasks[static_cast<std::size_t>(s)];
        const StageTasks& theirs = stage_tasks[static_cast<std::size_t>(peer)];
        if (slot.forward) {
          out_.graph.AddEdge(mine.fwd_last[mb], send);
          out_.graph.AddEdge(send, theirs.fwd_first[mb]);
        } else {
          out_.graph.AddEdge(mine.bwd_last[mb], send);
          out_.graph.AddEdge(send, theirs.bwd_first[mb]);
        }
      }
    }
  }

  // Data-parallel gradient all-reduce in buckets, then the optimizer step.
  for (std::int64_t s = 0; s < pp; ++s) {
    StageInfo& info = out_.stages[static_cast<std::size_t>(s)];
    StageTasks& st = stage_tasks[static_cast<std::size_t>(s)];
    std::vector<TaskId> comm_tasks;
    if (dp > 1) {
      double bucket_params = 0;
      for (std::size_t p = 0; p < st.bwd_part_params.size(); ++p) {
        bucket_params += st.bwd_part_params[p];
        const bool last_part = p + 1 == st.bwd_part_params.size();
        if (bucket_params * dtype_bytes < plan.grad_bucket_bytes && !last_part) continue;
        ops::Op op;
        op.name = "dp_grad_allreduce";
        op.kind = ops::OpKind::kCollective;
        op.pass = ops::Pass::kBackward;
        op.group = ops::CommGroup::kData;
        op.collective = ops::CollectiveKind::kAllReduce;
        op.comm_bytes = bucket_params * dtype_bytes;
        const std::int32_t seg =
            SingleOpSegment(CostOp(op, in_.hardware, in_.training.dtype, spans_));
        const TaskId t = out_.graph.AddTask(info.comm_stream, SegmentDuration(seg), seg);
        const TaskId ready = plan.overlap.grad_reduce ? st.bwd_layer_end_last_mb[p]
                                                      : st.bwd_layer_end_last_mb.back();
        out_.graph.AddEdge(ready, t);
        comm_tasks.push_back(t);
        bucket_params = 0;
      }
    }
    // Tied word embeddings split across the first and last stage: their gradients are summed
    // with a 2-rank all-reduce before the optimizer (Megatron-LM).
    if (pp > 1 && model.tied_embeddings && (s == 0 || s == pp - 1)) {
      const double bytes =
          static_cast<double>(model.vocab * model.hidden) / static_cast<double>(tp) * dtype_bytes;
      const std::int64_t stride = (pp - 1) * tp * dp;
      const hw::GroupSpan span = hw::SpanOf(2, stride, gpn);
      CostedOp op;
      op.name = "embedding_grad_allreduce";
      op.kind = ops::OpKind::kCollective;
      op.pass = ops::Pass::kBackward;
      op.work = WorkClass::kComm;
      op.bytes = bytes;
      op.duration = SimTime::FromSeconds(
          hw::CollectiveSeconds(in_.hardware, hw::CollectiveOp::kAllReduce, bytes, span));
      const std::int32_t seg = SingleOpSegment(std::move(op));
      const TaskId t = out_.graph.AddTask(info.comm_stream, SegmentDuration(seg), seg);
      out_.graph.AddEdge(st.bwd_layer_end_last_mb.back(), t);
      comm_tasks.push_back(t);
    }
    const ops::Op adam = ops::BuildAdamStep(info.params_per_rank, in_.training.dtype);
    const std::int32_t seg =
        SingleOpSegment(CostOp(adam, in_.hardware, in_.training.dtype, spans_));
    const TaskId opt = out_.graph.AddTask(info.compute_stream, SegmentDuration(seg), seg);
    for (TaskId t : comm_tasks) out_.graph.AddEdge(t, opt);
  }

  out_.model_flops_per_step = ops::ModelFlopsPerStep(model, in_.training.global_batch);
  out_.graph.Build();
  return std::move(out_);
}

}  // namespace

CompiledStep CompileStep(const StepInput& input) { return Compiler(input).Run(); }

}  // namespace foresight::plan
