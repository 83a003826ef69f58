#include "plan/compile.h"

#include <algorithm>
#include <string>

#include "base/check.h"
#include "models/hw/collective.h"
#include "models/ops/layer_builder.h"
#include "plan/internal/compiler.h"
#include "plan/parallel.h"
#include "plan/schedule.h"

namespace foresight::plan {
namespace internal {
namespace {

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
  OverlapRingAttention(out, in_.plan.cp);
  if (in_.plan.overlap.tp_comm) {
    // TP communication pipelined in chunks with the GEMM it feeds or follows (Megatron/TE
    // tp-comm-overlap): an all-reduce or (sequence parallel) reduce-scatter right after the GEMM
    // that produces its input, an all-gather right before the GEMM that consumes its output.
    // min(collective, GEMM) is hidden, the rest exposed.
    auto is_gemm = [&](std::size_t j) {
      return j < ops.size() && ops[j].kind == ops::OpKind::kGemm;
    };
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind != ops::OpKind::kCollective || ops[i].group != ops::CommGroup::kTensor) {
        continue;
      }
      std::size_t gemm = ops.size();
      if ((ops[i].name == "tp_allreduce" || ops[i].name == "tp_reducescatter") && i > 0 &&
          is_gemm(i - 1)) {
        gemm = i - 1;
      } else if (ops[i].name == "tp_allgather" && is_gemm(i + 1)) {
        gemm = i + 1;
      }
      if (gemm == ops.size()) continue;
      CostedOp& comm = out[i];
      comm.hidden = std::min(comm.duration, out[gemm].duration);
      comm.duration -= comm.hidden;
    }
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
      seg.hidden_comm_time += op.hidden;
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
  const sim::StreamId tp_stream = Info(out_.graph.stream_info(stream).rank).tp_comm_stream;
  for (std::int32_t seg : segs) {
    tasks.push_back(out_.graph.AddTask(stream, SegmentDuration(seg), seg));
    const SimTime hidden = out_.segments[static_cast<std::size_t>(seg)].hidden_comm_time;
    if (tp_stream < 0 || hidden <= SimTime()) continue;
    // The hidden TP communication of this task, on the tp_comm stream; Run() makes it start
    // with the task.
    if (tp_segs_.size() <= static_cast<std::size_t>(seg)) {
      tp_segs_.resize(static_cast<std::size_t>(seg) + 1, -1);
    }
    if (tp_segs_[static_cast<std::size_t>(seg)] < 0) {
      const plan::Segment& sg = out_.segments[static_cast<std::size_t>(seg)];
      const auto& list = out_.op_lists[static_cast<std::size_t>(sg.list)];
      const ops::Pass pass = list[static_cast<std::size_t>(sg.begin)].pass;
      double bytes = 0;
      for (std::int32_t i = sg.begin; i < sg.end; ++i) {
        const CostedOp& op = list[static_cast<std::size_t>(i)];
        if (op.hidden > SimTime()) bytes += op.bytes;
      }
      // OpSegment grows the segment and op tables: nothing above is used after it.
      const std::int32_t tp_seg =
          OpSegment("tp_allreduce_overlapped", WorkClass::kComm, bytes, hidden.ToSeconds(), pass);
      tp_segs_[static_cast<std::size_t>(seg)] = tp_seg;
    }
    const std::int32_t tp_seg = tp_segs_[static_cast<std::size_t>(seg)];
    tp_companions_.emplace_back(tasks.back(), SegmentTask(tp_stream, tp_seg));
  }
  return tasks;
}

// Streams, pools and model states of rank s, and the chunks (virtual stages) it holds.
void Compiler::BuildStage(std::int64_t s) {
  const Plan& plan = in_.plan;
  const bool offload = plan.offload.optimizer || plan.offload.activations || plan.offload.params;

  StageInfo info;
  info.stage = static_cast<std::int32_t>(s);
  info.layers = stage_layers_[static_cast<std::size_t>(s)];
  // Kinds for the interference model (sim::EngineOptions): NCCL kernels (comm, p2p, tp_comm)
  // against the compute stream's kernels; the copy engines and the host are not affected.
  info.compute_stream = out_.graph.AddStream("compute", info.stage, sim::StreamKind::kCompute);
  info.comm_stream = out_.graph.AddStream("comm", info.stage, sim::StreamKind::kComm);
  info.p2p_stream = out_.graph.AddStream("p2p", info.stage, sim::StreamKind::kComm);
  if (plan.overlap.tp_comm && plan.tp > 1) {
    info.tp_comm_stream = out_.graph.AddStream("tp_comm", info.stage, sim::StreamKind::kComm);
  }
  if (offload) {
    info.d2h_stream = out_.graph.AddStream("d2h", info.stage);
    info.h2d_stream = out_.graph.AddStream("h2d", info.stage);
  }
  if (plan.offload.optimizer) info.host_stream = out_.graph.AddStream("host", info.stage);
  info.pool = out_.graph.AddPool("stage" + std::to_string(s));
  info.host_pool = out_.graph.AddPool("stage" + std::to_string(s) + ".host");

  // Chunk c of rank s is virtual stage c * pp + s. Per micro-batch activation bytes: the
  // largest chunk's (the simulated pool has the exact per-chunk accounting).
  double expert_params = 0;
  for (std::int64_t c = 0; c < vpp_; ++c) {
    const std::int64_t v = c * plan.pp + s;
    BuildChunk(v);
    const StageBuild& b = Build(v);
    info.params_per_rank += b.params;
    expert_params += b.expert_params;
    info.saved_activation_bytes_per_micro_batch =
        std::max(info.saved_activation_bytes_per_micro_batch, b.saved);
    info.recomputed_layers += RecomputedLayersPerStage(in_.model, plan, b.shape.layers);
  }

  // Model states are resident for the whole step.
  const ModelStates states = StageModelStates(info.params_per_rank - expert_params, expert_params,
                                              in_.training.dtype, plan);
  info.model_state_bytes = states.weights + states.gradients + states.optimizer;
  info.host_model_state_bytes = states.host_weights + states.host_gradients + states.host_optimizer;
  auto& g = out_.graph;
  auto bytes = [](double v) { return static_cast<std::int64_t>(v); };
  g.SetInitialBytes(info.pool, kWeights, bytes(states.weights));
  g.SetInitialBytes(info.pool, kGradients, bytes(states.gradients));
  g.SetInitialBytes(info.pool, kOptimizerStates, bytes(states.optimizer));
  g.SetInitialBytes(info.pool, kOther, in_.hardware.memory.reserved_bytes);
  g.SetInitialBytes(info.host_pool, kWeights, bytes(states.host_weights));
  g.SetInitialBytes(info.host_pool, kGradients, bytes(states.host_gradients));
  g.SetInitialBytes(info.host_pool, kOptimizerStates, bytes(states.host_optimizer));
  out_.stages.push_back(info);
}

void Compiler::BuildChunk(std::int64_t v) {
  const ops::ModelConfig& model = in_.model;
  const Plan& plan = in_.plan;
  const std::int64_t tp = plan.tp, pp = plan.pp;
  StageBuild& b = Build(v);
  b.rank = v % pp;
  b.shape = StageShape{v == 0, v == VirtualStages() - 1,
                       stage_layers_[static_cast<std::size_t>(b.rank)] / vpp_};
  const StageShape& shape = b.shape;

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
  // MoE layers: the router (h x experts) is replicated over TP, the rest of the dense part is
  // TP-sharded, routed experts are sharded by ep and tp (plan/parallel.h).
  const double router = static_cast<double>(model.hidden * model.moe.experts);
  const double moe_expert_params =
      static_cast<double>(counts.moe_layer_experts) / static_cast<double>(tp * plan.ep);
  const double moe_layer_params =
      (static_cast<double>(counts.moe_layer_dense) - replicated - router) /
          static_cast<double>(tp) +
      replicated + router + moe_expert_params;
  // Global index of the chunk's first layer: chunk v holds the v-th run of layers (uniform
  // chunks when interleaved; uneven stages only without interleaving).
  std::int64_t first_layer = 0;
  if (vpp_ > 1) {
    first_layer = v * shape.layers;
  } else {
    for (std::int64_t r = 0; r < b.rank; ++r)
      first_layer += stage_layers_[static_cast<std::size_t>(r)];
  }
  auto is_moe = [&](std::int64_t l) { return model.IsMoeLayer(first_layer + l); };
  double dense_layer_params = 0;
  b.expert_params = 0;
  for (std::int64_t l = 0; l < shape.layers; ++l) {
    dense_layer_params += is_moe(l) ? moe_layer_params - moe_expert_params : layer_params;
    b.expert_params += is_moe(l) ? moe_expert_params : 0.0;
  }
  b.params = dense_layer_params + b.expert_params + embedding_params + head_params;

  // Forward list: [embedding] layers [head], cut after each parameter group.
  std::vector<CostedOp> fwd;
  std::vector<std::int32_t> fwd_cuts;
  auto close_fwd = [&](double params, double expert = 0) {
    fwd_cuts.push_back(static_cast<std::int32_t>(fwd.size()));
    b.fwd_part_params.push_back(params);
    b.fwd_part_expert.push_back(expert);
  };
  if (shape.first) {
    Append(fwd, Cost(embedding_.forward, false));
    close_fwd(embedding_params);
  }
  const std::vector<CostedOp> layer_fwd = Cost(layer_.forward, false);
  std::vector<CostedOp> moe_fwd;
  if (model.moe.enabled()) moe_fwd = Cost(moe_layer_.forward, false);
  for (std::int64_t l = 0; l < shape.layers; ++l) {
    Append(fwd, is_moe(l) ? moe_fwd : layer_fwd);
    close_fwd(is_moe(l) ? moe_layer_params : layer_params, is_moe(l) ? moe_expert_params : 0.0);
  }
  if (shape.last) {
    Append(fwd, Cost(head_.forward, false));
    close_fwd(head_params);
  }

  // Backward list: [head bwd] (recompute + bwd per layer, last layer first) [embedding].
  // Full recompute with recompute_layers = N replays the first N layers of the chunk
  // (Megatron's "block" method); selective recompute replays every layer's attention core.
  // zb-h1 moves the weight-gradient ops to a W list with the same parts.
  const std::int64_t recomputed_layers = RecomputedLayersPerStage(model, plan, shape.layers);
  // Index 0: dense layers, 1: MoE layers.
  struct Variant {
    std::vector<CostedOp> recompute, core_recompute, bwd;
  };
  Variant variants[2];
  for (int i = 0; i < 2; ++i) {
    if (i == 1 && !model.moe.enabled()) break;
    const ops::LayerOps& lo = i == 0 ? layer_ : moe_layer_;
    variants[i].recompute = Cost(lo.forward, true);
    variants[i].core_recompute.assign(variants[i].recompute.begin() + lo.attention_core_begin,
                                      variants[i].recompute.begin() + lo.attention_core_end);
    variants[i].bwd = Cost(lo.backward, false);
  }
  const bool split_w = plan.schedule == Schedule::kZbH1;
  std::vector<CostedOp> bwd, wgt;
  std::vector<std::int32_t> bwd_cuts, wgt_cuts;
  auto add_bwd = [&](const std::vector<CostedOp>& ops) {
    for (const CostedOp& op : ops) {
      (split_w && op.pass == ops::Pass::kWeightGrad ? wgt : bwd).push_back(op);
    }
  };
  auto close_bwd = [&](double params, double expert = 0) {
    bwd_cuts.push_back(static_cast<std::int32_t>(bwd.size()));
    wgt_cuts.push_back(static_cast<std::int32_t>(wgt.size()));
    b.bwd_part_params.push_back(params);
    b.bwd_part_expert.push_back(expert);
  };
  if (shape.last) {
    add_bwd(Cost(head_.backward, false));
    close_bwd(head_params);
  }
  for (std::int64_t l = 0; l < shape.layers; ++l) {
    const std::int64_t layer_index = shape.layers - 1 - l;
    const Variant& var = variants[is_moe(layer_index) ? 1 : 0];
    if (layer_index < recomputed_layers) Append(bwd, var.recompute);
    if (plan.recompute == Recompute::kSelective) Append(bwd, var.core_recompute);
    add_bwd(var.bwd);
    close_bwd(is_moe(layer_index) ? moe_layer_params : layer_params,
              is_moe(layer_index) ? moe_expert_params : 0.0);
  }
  if (shape.first) {
    add_bwd(Cost(embedding_.backward, false));
    close_bwd(embedding_params);
  }

  // The host issues each pass's kernels asynchronously: a pass of tiny kernels is host-bound.
  // The queue also drains at every layer (parameter-group) boundary (docs/validation.md,
  // change 3: selected on the single-node calibration set).
  ApplyHostDispatch(fwd, in_.hardware.host.kernel_dispatch_seconds, fwd_cuts);
  ApplyHostDispatch(bwd, in_.hardware.host.kernel_dispatch_seconds, bwd_cuts);
  ApplyHostDispatch(wgt, in_.hardware.host.kernel_dispatch_seconds);

  // Activations kept per micro-batch between its forward and its backward (plan/memory.h).
  const Recompute kept_mode =
      plan.recompute == Recompute::kSelective ? Recompute::kSelective : Recompute::kNone;
  b.saved = (shape.first ? embedding_.saved_activation_bytes : 0.0) +
            (shape.last ? head_.saved_activation_bytes : 0.0);
  for (std::int64_t l = 0; l < shape.layers; ++l) {
    const ops::LayerOps& lo = is_moe(l) ? moe_layer_ : layer_;
    const bool full = l < recomputed_layers;
    // Full recompute keeps the layer input, sequence-sharded with sequence parallelism.
    b.saved += LayerKeptBytes(
        lo, full ? Recompute::kFull : kept_mode,
        layer_input_bytes_ / (plan.sequence_parallel ? static_cast<double>(plan.tp) : 1.0));
    if (recomputed_layers > 0) {
      b.transient = std::max(b.transient, lo.saved_activation_bytes);
    } else if (plan.recompute == Recompute::kSelective) {
      b.transient = std::max(b.transient, lo.attention_core_saved_bytes);
    }
  }

  // FLOP accounting (whole cluster: per-rank flops x tp ranks x dp replicas x m).
  const double replicas = static_cast<double>(tp * plan.dp * micro_batches_);
  for (const auto* list : {&fwd, &bwd, &wgt}) {
    for (const auto& op : *list) {
      if (op.model_flops) out_.hardware_flops_per_step += op.flops * replicas;
    }
  }

  const std::int32_t fwd_list = AddList(std::move(fwd));
  const std::int32_t bwd_list = AddList(std::move(bwd));
  b.fwd_segs = Segment(fwd_list, {}, "forward");
  b.bwd_segs = Segment(bwd_list, {}, "backward");
  if (split_w) {
    // W parts: a part without weight-gradient ops maps to the W part before it (or the first).
    const auto& wops = wgt;
    std::int32_t begin = 0;
    std::vector<std::int32_t> cuts;
    for (std::int32_t c : wgt_cuts) {
      if (c > begin) cuts.push_back(c);
      b.wgt_part_of.push_back(cuts.empty() ? 0 : cuts.size() - 1);
      begin = std::max(begin, c);
    }
    FS_CHECK(!wops.empty(), "zb-h1: a chunk without weight-gradient ops");
    const std::int32_t wgt_list = AddList(std::move(wgt));
    b.wgt_segs = Segment(wgt_list, {}, "weight_grad");
    b.wgt_parts = Segment(wgt_list, cuts, "weight_grad");
    FS_CHECK(b.wgt_parts.size() == cuts.size(), "weight-gradient parts and segments disagree");
  } else {
    b.bwd_parts = Segment(bwd_list, bwd_cuts, "backward");
    FS_CHECK(b.bwd_parts.size() == b.bwd_part_params.size(),
             "backward parts and segments disagree");
  }
  if (plan.zero >= 3 || plan.overlap.param_gather) {
    b.fwd_parts = Segment(fwd_list, fwd_cuts, "forward");
    FS_CHECK(b.fwd_parts.size() == b.fwd_part_params.size(), "forward parts disagree");
  }
  for (int pass = 0; pass < 2; ++pass) {
    const std::size_t parts = (pass == 0 ? b.fwd_part_params : b.bwd_part_params).size();
    b.gather_seg[pass].assign(parts, -1);
    b.fetch_seg[pass].assign(parts, -1);
  }
  b.reduce_seg.assign(b.bwd_part_params.size(), -1);
  b.expert_reduce_seg.assign(b.bwd_part_params.size(), -1);
}

CompiledStep Compiler::Run() {
  const ops::ModelConfig& model = in_.model;
  const Plan& plan = in_.plan;
  const auto gpn = static_cast<std::int32_t>(in_.cluster.gpus_per_node);
  // plan.dp is dp*cp here (see compiler.h); micro-batches follow the user's dp.
  micro_batches_ = in_.training.global_batch / (in_.training.micro_batch * (plan.dp / plan.cp));
  dtype_bytes_ = BytesOf(in_.training.dtype);
  out_.micro_batches = micro_batches_;
  layer_input_bytes_ =
      static_cast<double>(in_.training.micro_batch * (model.seq_len / plan.cp) * model.hidden) *
      dtype_bytes_;
  spans_.tp = hw::SpanOf(static_cast<std::int32_t>(plan.tp), 1, gpn);
  spans_.dp = hw::SpanOf(static_cast<std::int32_t>(plan.dp), plan.tp, gpn);
  spans_.cp = hw::SpanOf(static_cast<std::int32_t>(plan.cp), plan.tp, gpn);
  spans_.ep = hw::SpanOf(static_cast<std::int32_t>(plan.ep), plan.tp * plan.cp, gpn);
  edp_span_ = ExpertDataParallelSpan(plan.tp, plan.cp, plan.dp / plan.cp, plan.ep, gpn);
  expert_dp_ = static_cast<double>(edp_span_.size);
  spans_.pricer = in_.comm_pricer.get();

  ops::BuildOptions options;
  options.micro_batch = in_.training.micro_batch;
  options.tp = plan.tp;
  options.dtype = in_.training.dtype;
  options.flash_attention = plan.flash_attention;
  options.fusion = plan.fusion;
  options.sequence_parallel = plan.sequence_parallel;
  options.cp = plan.cp;
  options.cp_comm = plan.cp_comm;
  options.ep = plan.ep;
  // Transformer Engine casts a weight to fp8 once per step (Megatron-Core's is_first_microbatch
  // cache) unless ZeRO-3 re-gathers the weights for every micro-batch (layer_builder.h).
  options.fp8_weight_cast_share =
      plan.zero >= 3 ? 1.0 : 1.0 / static_cast<double>(std::max<std::int64_t>(micro_batches_, 1));
  layer_ = ops::BuildTransformerLayer(model, options);
  if (model.moe.enabled()) moe_layer_ = ops::BuildTransformerLayer(model, options, true);
  embedding_ = ops::BuildEmbedding(model, options);
  head_ = ops::BuildHead(model, options);

  vpp_ = plan.schedule == Schedule::kInterleaved1F1B ? plan.vpp : 1;
  stage_layers_ = StageLayers(model, plan);
  builds_.resize(static_cast<std::size_t>(VirtualStages()));
  for (auto& segs : send_segs_) segs.assign(static_cast<std::size_t>(VirtualStages()), -1);
  for (std::int64_t s = 0; s < plan.pp; ++s) {
    BuildStage(s);
    EmitSchedule(s);
  }
  if (plan.pp > 1) EmitPipelineSends();
  for (std::int64_t s = 0; s < plan.pp; ++s) {
    for (std::int64_t c = 0; c < vpp_; ++c) {
      const std::int64_t v = c * plan.pp + s;
      if (plan.zero <= 1) EmitLastMicroBatchGradReduce(v);
      EmitEmbeddingGradReduce(v);
    }
    EmitOptimizer(s);
  }
  out_.model_flops_per_step = ops::ModelFlopsPerStep(model, in_.training.global_batch);
  AlignTpCompanions();
  out_.graph.Build();
  return std::move(out_);
}

}  // namespace internal

CompiledStep CompileStep(const StepInput& input) {
  if (input.plan.cp == 1 && input.plan.attention_kernel.empty()) {
    return internal::Compiler(input).Run();
  }
  StepInput folded = input;
  // The gradient-reduction group is dp*cp (plan/parallel.h).
  folded.plan.dp = GradReduceRanks(input.plan);
  // A named attention kernel's efficiency replaces the default.
  folded.hardware.gpu.attention_efficiency = AttentionEfficiencyFor(input.plan, input.hardware.gpu);
  return internal::Compiler(folded).Run();
}

}  // namespace foresight::plan
