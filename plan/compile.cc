#include "plan/compile.h"

#include <algorithm>
#include <string>

#include "base/check.h"
#include "models/hw/collective.h"
#include "models/ops/layer_builder.h"
#include "plan/internal/compiler.h"
#include "plan/schedule.h"

namespace foresight::plan {
namespace internal {
namespace {

// Parameters of one layer that tensor parallelism does not split: norm weights (and biases)
// and the biases of the row-parallel projections (added after the all-reduce).
double ReplicatedLayerParams(const ops::ModelConfig& m) {
  const double norm = (m.norm == ops::Norm::kLayerNorm ? 2.0 : 1.0) * static_cast<double>(m.hidden);
  return 2 * norm + (m.bias ? 2.0 * static_cast<double>(m.hidden) : 0.0);
}

void Append(std::vector<CostedOp>& dst, const std::vector<CostedOp>& src) {
  dst.insert(dst.end(), src.begin(), src.end());
}

}  // namespace

std::int32_t Compiler::AddList(std::vector<CostedOp> ops) {
  out_.op_lists.push_back(std::move(ops));
  return static_cast<std::int32_t>(out_.op_lists.size() - 1);
}

std::vector<CostedOp> Compiler::Cost(const std::vector<ops::Op>& ops, bool recompute) const {
  std::vector<CostedOp> out;
  out.reserve(ops.size());
  for (const ops::Op& op : ops) {
    out.push_back(CostOp(op, in_.hardware, in_.training.dtype, spans_));
    out.back().recompute = recompute;
  }
  return out;
}

std::int32_t Compiler::SingleOpSegment(CostedOp op) {
  const std::string name = op.name;
  const std::int32_t list = AddList({std::move(op)});
  return Segment(list, {}, name).front();
}

std::int32_t Compiler::OpSegment(const std::string& name, WorkClass work, double bytes,
                                 double seconds, ops::Pass pass) {
  CostedOp op;
  op.name = name;
  op.kind = work == WorkClass::kOptimizer ? ops::OpKind::kOptimizer : ops::OpKind::kCollective;
  op.pass = pass;
  op.work = work;
  op.bytes = bytes;
  op.duration = SimTime::FromSeconds(seconds);
  return SingleOpSegment(std::move(op));
}

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

// Op lists, segments, parameter groups, activation bytes and model states of stage s.
void Compiler::BuildStage(std::int64_t s) {
  const ops::ModelConfig& model = in_.model;
  const Plan& plan = in_.plan;
  const std::int64_t tp = plan.tp, pp = plan.pp;
  StageBuild& b = Build(s);
  b.shape = StageShape{s == 0, s == pp - 1, model.layers / pp};
  const StageShape& shape = b.shape;
  const bool offload = plan.offload.optimizer || plan.offload.activations || plan.offload.params;

  StageInfo info;
  info.stage = static_cast<std::int32_t>(s);
  info.layers = shape.layers;
  info.compute_stream = out_.graph.AddStream("compute", info.stage);
  info.comm_stream = out_.graph.AddStream("comm", info.stage);
  info.p2p_stream = out_.graph.AddStream("p2p", info.stage);
  if (offload) {
    info.d2h_stream = out_.graph.AddStream("d2h", info.stage);
    info.h2d_stream = out_.graph.AddStream("h2d", info.stage);
  }
  if (plan.offload.optimizer) info.host_stream = out_.graph.AddStream("host", info.stage);
  info.pool = out_.graph.AddPool("stage" + std::to_string(s));
  info.host_pool = out_.graph.AddPool("stage" + std::to_string(s) + ".host");

  // Per-rank parameters of each group (see docs/model.md, "Model states").
  const ops::ParameterCounts counts = ops::CountParameters(model);
  const double replicated = ReplicatedLayerParams(model);
  const double layer_params =
      (static_cast<double>(counts.per_layer) - replicated) / static_cast<double>(tp) + replicated;
  const double word_embedding =
      static_cast<double>(model.vocab * model.hidden) / static_cast<double>(tp);
  const double embedding_params =
      shape.first
          ? word_embedding +
                (model.learned_positions ? static_cast<double>(model.seq_len * model.hidden) : 0.0)
          : 0.0;
  // Untied output projection; with tied embeddings and pp > 1 the last stage keeps its own copy
  // of the word embedding for the logits (Megatron-LM).
  const double head_params = shape.last
                                 ? static_cast<double>(counts.final_norm) +
                                       (!model.tied_embeddings || pp > 1 ? word_embedding : 0.0)
                                 : 0.0;
  info.params_per_rank =
      static_cast<double>(shape.layers) * layer_params + embedding_params + head_params;

  // Forward list: [embedding] layers [head], cut after each parameter group.
  std::vector<CostedOp> fwd;
  std::vector<std::int32_t> fwd_cuts;
  auto close_fwd = [&](double params) {
    fwd_cuts.push_back(static_cast<std::int32_t>(fwd.size()));
    b.fwd_part_params.push_back(params);
  };
  if (shape.first) {
    Append(fwd, Cost(embedding_.forward, false));
    close_fwd(embedding_params);
  }
  const std::vector<CostedOp> layer_fwd = Cost(layer_.forward, false);
  for (std::int64_t l = 0; l < shape.layers; ++l) {
    Append(fwd, layer_fwd);
    close_fwd(layer_params);
  }
  if (shape.last) {
    Append(fwd, Cost(head_.forward, false));
    close_fwd(head_params);
  }

  // Backward list: [head bwd] (recompute + bwd per layer, last layer first) [embedding].
  // Full recompute with recompute_layers = N replays the first N layers of the stage
  // (Megatron's "block" method); selective recompute replays every layer's attention core.
  info.recomputed_layers = RecomputedLayersPerStage(model, plan);
  const std::vector<CostedOp> layer_recompute = Cost(layer_.forward, true);
  const std::vector<CostedOp> core_recompute(layer_recompute.begin() + layer_.attention_core_begin,
                                             layer_recompute.begin() + layer_.attention_core_end);
  const std::vector<CostedOp> layer_bwd = Cost(layer_.backward, false);
  std::vector<CostedOp> bwd;
  std::vector<std::int32_t> bwd_cuts;
  auto close_bwd = [&](double params) {
    bwd_cuts.push_back(static_cast<std::int32_t>(bwd.size()));
    b.bwd_part_params.push_back(params);
  };
  if (shape.last) {
    Append(bwd, Cost(head_.backward, false));
    close_bwd(head_params);
  }
  for (std::int64_t l = 0; l < shape.layers; ++l) {
    const std::int64_t layer_index = shape.layers - 1 - l;
    if (layer_index < info.recomputed_layers) Append(bwd, layer_recompute);
    if (plan.recompute == Recompute::kSelective) Append(bwd, core_recompute);
    Append(bwd, layer_bwd);
    close_bwd(layer_params);
  }
  if (shape.first) {
    Append(bwd, Cost(embedding_.backward, false));
    close_bwd(embedding_params);
  }

  // Activations kept per micro-batch between its forward and its backward (plan/memory.h).
  const auto recomputed = static_cast<double>(info.recomputed_layers);
  const double kept_layers = static_cast<double>(shape.layers) - recomputed;
  const Recompute kept_mode =
      plan.recompute == Recompute::kSelective ? Recompute::kSelective : Recompute::kNone;
  b.saved = (shape.first ? embedding_.saved_activation_bytes : 0.0) +
            (shape.last ? head_.saved_activation_bytes : 0.0) +
            recomputed * LayerKeptBytes(layer_, Recompute::kFull, layer_input_bytes_) +
            kept_layers * LayerKeptBytes(layer_, kept_mode, layer_input_bytes_);
  if (info.recomputed_layers > 0) {
    b.transient = layer_.saved_activation_bytes;
  } else if (plan.recompute == Recompute::kSelective) {
    b.transient = layer_.attention_core_saved_bytes;
  }
  info.saved_activation_bytes_per_micro_batch = b.saved;

  // FLOP accounting (whole cluster: per-rank flops x tp ranks x dp replicas x m).
  const double replicas = static_cast<double>(tp * plan.dp * micro_batches_);
  for (const auto* list : {&fwd, &bwd}) {
    for (const auto& op : *list) {
      if (op.model_flops) out_.hardware_flops_per_step += op.flops * replicas;
    }
  }

  const std::int32_t fwd_list = AddList(std::move(fwd));
  const std::int32_t bwd_list = AddList(std::move(bwd));
  b.fwd_segs = Segment(fwd_list, {}, "forward");
  b.bwd_segs = Segment(bwd_list, {}, "backward");
  b.bwd_parts = Segment(bwd_list, bwd_cuts, "backward");
  FS_CHECK(b.bwd_parts.size() == b.bwd_part_params.size(), "backward parts and segments disagree");
  if (plan.zero >= 3) {
    b.fwd_parts = Segment(fwd_list, fwd_cuts, "forward");
    FS_CHECK(b.fwd_parts.size() == b.fwd_part_params.size(), "forward parts disagree");
  }
  for (int pass = 0; pass < 2; ++pass) {
    const std::size_t parts = (pass == 0 ? b.fwd_part_params : b.bwd_part_params).size();
    b.gather_seg[pass].assign(parts, -1);
    b.fetch_seg[pass].assign(parts, -1);
  }
  b.reduce_seg.assign(b.bwd_part_params.size(), -1);

  // Model states are resident for the whole step.
  b.states = ComputeModelStates(info.params_per_rank, in_.training.dtype, plan);
  info.model_state_bytes = b.states.weights + b.states.gradients + b.states.optimizer;
  info.host_model_state_bytes =
      b.states.host_weights + b.states.host_gradients + b.states.host_optimizer;
  auto& g = out_.graph;
  auto bytes = [](double v) { return static_cast<std::int64_t>(v); };
  g.SetInitialBytes(info.pool, kWeights, bytes(b.states.weights));
  g.SetInitialBytes(info.pool, kGradients, bytes(b.states.gradients));
  g.SetInitialBytes(info.pool, kOptimizerStates, bytes(b.states.optimizer));
  g.SetInitialBytes(info.pool, kOther, in_.hardware.memory.reserved_bytes);
  g.SetInitialBytes(info.host_pool, kWeights, bytes(b.states.host_weights));
  g.SetInitialBytes(info.host_pool, kGradients, bytes(b.states.host_gradients));
  g.SetInitialBytes(info.host_pool, kOptimizerStates, bytes(b.states.host_optimizer));
  out_.stages.push_back(info);
}

// The compute-stream tasks of stage s in schedule order, with their memory events and the
// communication each pass needs (zero.cc, offload.cc).
void Compiler::EmitSchedule(std::int64_t s) {
  const Plan& plan = in_.plan;
  const std::int64_t m = micro_batches_;
  StageBuild& b = Build(s);
  const StageInfo info = Info(s);
  auto& g = out_.graph;
  const auto saved = static_cast<std::int64_t>(b.saved);
  const auto transient = static_cast<std::int64_t>(b.transient);
  b.fwd_first.assign(static_cast<std::size_t>(m), -1);
  b.fwd_last = b.bwd_first = b.bwd_last = b.fwd_first;
  std::vector<TaskId> offloaded(static_cast<std::size_t>(m), -1);
  const std::vector<PipelineSlot> order = PipelineOrder(plan.schedule, plan.pp, s, m);
  Info(s).max_in_flight = MaxInFlight(order);
  std::vector<TaskId> slot_last;  // last compute task of each slot so far
  for (std::size_t i = 0; i < order.size(); ++i) {
    const PipelineSlot& slot = order[i];
    const auto mb = static_cast<std::size_t>(slot.micro_batch);
    if (slot.forward) {
      const std::vector<TaskId> tasks =
          EmitSegments(plan.zero >= 3 ? b.fwd_parts : b.fwd_segs, info.compute_stream);
      b.fwd_first[mb] = tasks.front();
      b.fwd_last[mb] = tasks.back();
      g.AddMemoryEvent(tasks.back(), info.pool, kActivations, true, saved);
      if (plan.zero >= 3) EmitPassComm(s, tasks, false);
      // A micro-batch whose backward comes right after its forward is not worth offloading.
      const bool backward_next = i + 1 < order.size() && !order[i + 1].forward &&
                                 order[i + 1].micro_batch == slot.micro_batch;
      if (plan.offload.activations && !backward_next) {
        offloaded[mb] = EmitActivationOffload(s, tasks.back());
      }
      slot_last.push_back(tasks.back());
      continue;
    }
    const bool last_mb = slot.micro_batch == m - 1;
    const bool split = last_mb || plan.zero >= 2;
    TaskId fetch = -1;
    if (offloaded[mb] >= 0) {
      const TaskId gate = slot_last.size() >= 2 ? slot_last[slot_last.size() - 2] : -1;
      fetch = EmitActivationFetch(s, offloaded[mb], gate);
    }
    const std::vector<TaskId> tasks =
        EmitSegments(split ? b.bwd_parts : b.bwd_segs, info.compute_stream);
    if (fetch >= 0) g.AddEdge(fetch, tasks.front());
    b.bwd_first[mb] = tasks.front();
    b.bwd_last[mb] = tasks.back();
    if (transient > 0) g.AddMemoryEvent(tasks.front(), info.pool, kActivations, false, transient);
    g.AddMemoryEvent(tasks.back(), info.pool, kActivations, true, -(saved + transient));
    if (last_mb) b.bwd_parts_last_mb = tasks;
    if (plan.zero >= 2) EmitPassComm(s, tasks, true);
    slot_last.push_back(tasks.back());
  }
}

void Compiler::EmitPipelineSends() {
  // Forward activations s -> s+1, activation gradients s+1 -> s. With tp > 1 each TP rank sends
  // 1/tp of the tensor and the receivers all-gather it over the scale-up links (Megatron-LM
  // scatter-gather optimisation).
  const Plan& plan = in_.plan;
  const std::int64_t tp = plan.tp, dp = plan.dp, pp = plan.pp;
  const auto gpn = static_cast<std::int32_t>(in_.cluster.gpus_per_node);
  const double full = layer_input_bytes_;
  for (std::int64_t s = 0; s < pp; ++s) {
    const StageInfo& info = Info(s);
    std::int32_t segs[2] = {-1, -1};  // [forward, backward]: the same for every micro-batch
    for (const PipelineSlot& slot : PipelineOrder(plan.schedule, pp, s, micro_batches_)) {
      const std::int64_t peer = slot.forward ? s + 1 : s - 1;
      if (peer < 0 || peer >= pp) continue;
      std::int32_t& seg = segs[slot.forward ? 0 : 1];
      if (seg < 0) {
        const bool same_node = s * tp * dp / gpn == peer * tp * dp / gpn;
        double seconds =
            spans_.pricer != nullptr
                ? spans_.pricer->Seconds(hw::CollectiveOp::kSendRecv,
                                         full / static_cast<double>(tp), hw::GroupKind::kPp,
                                         hw::SpanOf(static_cast<std::int32_t>(pp), tp * dp, gpn))
                : hw::PointToPointSeconds(in_.hardware, full / static_cast<double>(tp), same_node);
        if (tp > 1) {
          seconds += CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather, full,
                                 hw::GroupKind::kTp, spans_.tp);
        }
        seg = OpSegment(slot.forward ? "pp_send_activations" : "pp_send_grads", WorkClass::kComm,
                        full / static_cast<double>(tp), seconds,
                        slot.forward ? ops::Pass::kForward : ops::Pass::kBackward);
      }
      const TaskId send = SegmentTask(info.p2p_stream, seg);
      const auto mb = static_cast<std::size_t>(slot.micro_batch);
      const StageBuild& mine = Build(s);
      const StageBuild& theirs = Build(peer);
      out_.graph.AddEdge(slot.forward ? mine.fwd_last[mb] : mine.bwd_last[mb], send);
      out_.graph.AddEdge(send, slot.forward ? theirs.fwd_first[mb] : theirs.bwd_first[mb]);
    }
  }
}

CompiledStep Compiler::Run() {
  const ops::ModelConfig& model = in_.model;
  const Plan& plan = in_.plan;
  const auto gpn = static_cast<std::int32_t>(in_.cluster.gpus_per_node);
  micro_batches_ = MicroBatches(in_.training, plan);
  dtype_bytes_ = BytesOf(in_.training.dtype);
  out_.micro_batches = micro_batches_;
  layer_input_bytes_ =
      static_cast<double>(in_.training.micro_batch * model.seq_len * model.hidden) * dtype_bytes_;
  spans_.tp = hw::SpanOf(static_cast<std::int32_t>(plan.tp), 1, gpn);
  spans_.dp = hw::SpanOf(static_cast<std::int32_t>(plan.dp), plan.tp, gpn);
  spans_.pricer = in_.comm_pricer.get();

  ops::BuildOptions options;
  options.micro_batch = in_.training.micro_batch;
  options.tp = plan.tp;
  options.dtype = in_.training.dtype;
  options.flash_attention = plan.flash_attention;
  options.fusion = plan.fusion;
  layer_ = ops::BuildTransformerLayer(model, options);
  embedding_ = ops::BuildEmbedding(model, options);
  head_ = ops::BuildHead(model, options);

  builds_.resize(static_cast<std::size_t>(plan.pp));
  for (std::int64_t s = 0; s < plan.pp; ++s) {
    BuildStage(s);
    EmitSchedule(s);
  }
  if (plan.pp > 1) EmitPipelineSends();
  for (std::int64_t s = 0; s < plan.pp; ++s) {
    if (plan.zero <= 1) EmitLastMicroBatchGradReduce(s);
    EmitEmbeddingGradReduce(s);
    EmitOptimizer(s);
  }
  out_.model_flops_per_step = ops::ModelFlopsPerStep(model, in_.training.global_batch);
  out_.graph.Build();
  return std::move(out_);
}

}  // namespace internal

CompiledStep CompileStep(const StepInput& input) { return internal::Compiler(input).Run(); }

}  // namespace foresight::plan
