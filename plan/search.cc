#include "plan/search.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "models/ops/layer_builder.h"
#include "plan/memory.h"
#include "plan/parallel.h"
#include "plan/schedule.h"

namespace foresight::plan {
namespace {

std::vector<std::int64_t> Divisors(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t d = 1; d * d <= n; ++d) {
    if (n % d != 0) continue;
    out.push_back(d);
    if (d != n / d) out.push_back(n / d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool Allowed(const std::vector<std::int64_t>& only, std::int64_t v) {
  return only.empty() || std::find(only.begin(), only.end(), v) != only.end();
}

struct Context {
  const ops::ModelConfig& model;
  const ClusterConfig& cluster;
  const SearchSpace& space;
};

// An axis expands one partial point into its variants (appended to `out`).
using Axis = std::function<void(const Context&, const PlanPoint&, std::vector<PlanPoint>*)>;

void TpAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  for (std::int64_t tp : Divisors(c.model.kv_heads)) {
    if (c.model.heads % tp != 0 || c.model.ffn_hidden % tp != 0) continue;
    if (c.cluster.world_size() % tp != 0 || !Allowed(c.space.tp, tp)) continue;
    PlanPoint v = p;
    v.plan.tp = tp;
    out->push_back(std::move(v));
  }
}

// Context parallel: divisors of seq_len / 2 (causal load balancing splits each sequence in
// 2 * cp chunks) with tp * cp dividing the world. Empty list: the base plan's cp.
void CpAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  if (c.space.cp.empty()) {
    out->push_back(p);
    return;
  }
  for (std::int64_t cp : c.space.cp) {
    if (cp < 1 || (c.model.seq_len / 2) % cp != 0 || c.model.seq_len % 2 != 0 ||
        c.cluster.world_size() % (p.plan.tp * cp) != 0) {
      continue;
    }
    PlanPoint v = p;
    v.plan.cp = cp;
    out->push_back(std::move(v));
  }
}

void PpAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  const std::int64_t tp_cp = p.plan.tp * p.plan.cp;
  for (std::int64_t pp : Divisors(c.model.layers)) {
    if (c.cluster.world_size() % (tp_cp * pp) != 0 || !Allowed(c.space.pp, pp)) continue;
    PlanPoint v = p;
    v.plan.pp = pp;
    v.plan.dp = c.cluster.world_size() / (tp_cp * pp);
    out->push_back(std::move(v));
  }
}

// Expert parallel (MoE only): ep divides the experts and dp * cp (Megatron-Core). Empty list:
// the base plan's ep.
void EpAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  if (c.space.ep.empty() || !c.model.moe.enabled()) {
    out->push_back(p);
    return;
  }
  for (std::int64_t ep : c.space.ep) {
    if (ep < 1 || c.model.moe.experts % ep != 0 || (p.plan.dp * p.plan.cp) % ep != 0) continue;
    PlanPoint v = p;
    v.plan.ep = ep;
    out->push_back(std::move(v));
  }
}

// ZeRO stage; stages > 0 only when there is a data-parallel group (dp * cp > 1) to shard over.
void ZeroAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  if (c.space.zero.empty()) {
    out->push_back(p);
    return;
  }
  for (std::int64_t zero : c.space.zero) {
    if (zero < 0 || zero > 3 || (zero > 0 && p.plan.dp * p.plan.cp == 1)) continue;
    PlanPoint v = p;
    v.plan.zero = zero;
    out->push_back(std::move(v));
  }
}

// Sequence parallelism; true only with tp > 1 (with tp = 1 it is the same step).
void SequenceParallelAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  if (c.space.sequence_parallel.empty()) {
    out->push_back(p);
    return;
  }
  for (bool sp : c.space.sequence_parallel) {
    if (sp && p.plan.tp == 1) continue;
    PlanPoint v = p;
    v.plan.sequence_parallel = sp;
    out->push_back(std::move(v));
  }
}

void MicroBatchAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  if (p.training.global_batch % p.plan.dp != 0) return;
  for (std::int64_t mb : Divisors(p.training.global_batch / p.plan.dp)) {
    if (c.space.micro_batch.empty() ? mb > c.space.max_micro_batch
                                    : !Allowed(c.space.micro_batch, mb)) {
      continue;
    }
    PlanPoint v = p;
    v.training.micro_batch = mb;
    out->push_back(std::move(v));
  }
}

void ScheduleAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  for (Schedule s : c.space.schedules) {
    // One stage: gpipe, 1f1b and zb-h1 run the same work back to back; interleaving needs two.
    if (p.plan.pp == 1 && s != Schedule::k1F1B &&
        (s == Schedule::kInterleaved1F1B ||
         std::find(c.space.schedules.begin(), c.space.schedules.end(), Schedule::k1F1B) !=
             c.space.schedules.end())) {
      continue;
    }
    if (s != Schedule::kInterleaved1F1B) {
      PlanPoint v = p;
      v.plan.schedule = s;
      v.plan.vpp = 1;
      out->push_back(std::move(v));
      continue;
    }
    // interleaved-1f1b: every vpp >= 2 dividing the layers of a stage, when the micro-batches
    // are a multiple of pp (Megatron's condition).
    const std::int64_t per_stage = c.model.layers / p.plan.pp;
    const std::int64_t per_step = p.training.micro_batch * p.plan.dp;
    if (p.training.global_batch % per_step != 0 ||
        (p.training.global_batch / per_step) % p.plan.pp != 0) {
      continue;
    }
    for (std::int64_t vpp : Divisors(per_stage)) {
      if (vpp < 2 || !Allowed(c.space.vpp, vpp)) continue;
      PlanPoint v = p;
      v.plan.schedule = s;
      v.plan.vpp = vpp;
      out->push_back(std::move(v));
    }
  }
}

void RecomputeAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  for (Recompute r : c.space.recomputes) {
    PlanPoint v = p;
    v.plan.recompute = r;
    out->push_back(std::move(v));
  }
}

// The axes in enumeration order (first varies slowest). Add new plan features here.
std::vector<Axis> Axes() {
  return {TpAxis,        CpAxis,         PpAxis,
          EpAxis,        MicroBatchAxis, ScheduleAxis,
          RecomputeAxis, ZeroAxis,       SequenceParallelAxis};
}

}  // namespace

Enumeration EnumeratePlans(const ops::ModelConfig& model, const ClusterConfig& cluster,
                           const TrainingConfig& base_training, const Plan& base_plan,
                           const SearchSpace& space) {
  const Context context{model, cluster, space};
  std::vector<PlanPoint> frontier = {PlanPoint{base_plan, base_training}};
  for (const Axis& axis : Axes()) {
    std::vector<PlanPoint> next;
    for (const PlanPoint& p : frontier) axis(context, p, &next);
    frontier = std::move(next);
  }
  Enumeration result;
  for (PlanPoint& p : frontier) {
    if (ValidateAndResolve(model, cluster, p.training, p.plan).empty()) {
      result.points.push_back(std::move(p));
    } else {
      ++result.rejected;
    }
  }
  return result;
}

double MemoryLowerBoundBytes(const StepInput& in) {
  const ops::ModelConfig& m = in.model;
  const Plan& plan = in.plan;
  const std::int64_t tp = plan.tp;
  const std::int64_t pp = plan.pp;
  const int dtype_bytes = BytesOf(in.training.dtype);
  const double t = static_cast<double>(tp);
  const ops::ParameterCounts counts = ops::CountParameters(m);
  const double replicated = ReplicatedLayerParams(m);
  double layer_params = (static_cast<double>(counts.per_layer) - replicated) / t + replicated;
  if (m.moe.enabled()) {
    // An MoE layer's dense part is TP-sharded (the router replicated) and its routed experts
    // are sharded by tp * ep (compile.cc); the bound takes the smaller layer.
    const double router = static_cast<double>(m.hidden * m.moe.experts);
    const double moe_layer_params =
        (static_cast<double>(counts.moe_layer_dense) - replicated - router) / t + replicated +
        router + static_cast<double>(counts.moe_layer_experts) / (t * static_cast<double>(plan.ep));
    layer_params = std::min(layer_params, moe_layer_params);
  }
  const double word_embedding = static_cast<double>(m.vocab) * static_cast<double>(m.hidden);
  const std::vector<std::int64_t> stage_layers = StageLayers(m, plan);
  // Chunks per rank (interleaved-1f1b): in-flight counts chunk-micro-batches of 1/vpp stage.
  const std::int64_t vpp = plan.schedule == Schedule::kInterleaved1F1B ? plan.vpp : 1;

  ops::BuildOptions options;
  options.micro_batch = in.training.micro_batch;
  options.tp = tp;
  options.dtype = in.training.dtype;
  options.flash_attention = plan.flash_attention;
  options.fusion = plan.fusion;
  options.sequence_parallel = plan.sequence_parallel;
  options.cp = plan.cp;
  options.cp_comm = plan.cp_comm;
  options.ep = plan.ep;
  const ops::LayerOps layer = ops::BuildTransformerLayer(m, options);
  // MoE models: every layer is bounded by the smaller of the dense and the MoE layer (kept
  // activations and parameters), so the bound stays below the simulation whatever the mix.
  const ops::LayerOps moe_layer =
      m.moe.enabled() ? ops::BuildTransformerLayer(m, options, true) : layer;
  // Full recompute keeps each layer's input, sequence-sharded by tp with sequence parallelism;
  // context parallelism splits the sequence (compile.cc's rules).
  const double layer_input_bytes =
      static_cast<double>(in.training.micro_batch * (m.seq_len / plan.cp) * m.hidden *
                          dtype_bytes) /
      (plan.sequence_parallel ? t : 1.0);
  // Layers kept whole and layers fully recomputed per chunk (compile.cc's rule, plan/memory.h).
  const Recompute kept_mode =
      plan.recompute == Recompute::kSelective ? Recompute::kSelective : Recompute::kNone;
  auto chunk_saved = [&](std::int64_t chunk_layers) {
    const auto recomputed = static_cast<double>(RecomputedLayersPerStage(m, plan, chunk_layers));
    const double kept_layers = static_cast<double>(chunk_layers) - recomputed;
    auto kept = [&](Recompute mode) {
      return std::min(LayerKeptBytes(layer, mode, layer_input_bytes),
                      LayerKeptBytes(moe_layer, mode, layer_input_bytes));
    };
    return recomputed * kept(Recompute::kFull) + kept_layers * kept(kept_mode);
  };
  const double embedding_saved = ops::BuildEmbedding(m, options).saved_activation_bytes;
  const double head_saved = ops::BuildHead(m, options).saved_activation_bytes;
  const std::int64_t micro_batches = MicroBatches(in.training, plan);
  const double frag = in.hardware.memory.fragmentation_fraction;

  double bound = 0;
  for (std::int64_t s = 0; s < pp; ++s) {
    const bool first = s == 0;
    const bool last = s == pp - 1;
    const std::int64_t layers_per_stage = stage_layers[static_cast<std::size_t>(s)];
    double params = static_cast<double>(layers_per_stage) * layer_params;
    if (first) {
      params += word_embedding / t;
      if (m.learned_positions) params += static_cast<double>(m.seq_len * m.hidden);
    }
    if (last) {
      params += static_cast<double>(counts.final_norm);
      if (!m.tied_embeddings || pp > 1) params += word_embedding / t;
    }
    // Device model states in whole bytes, truncated as compile.cc stores them. ZeRO-3's
    // gathered layers come on top in the simulation, so leaving them out keeps a lower bound.
    // ZeRO shards over the gradient-reduction group, dp * cp ranks (plan/parallel.h); routed
    // experts shard over fewer ranks, so counting every parameter as dense keeps a lower bound.
    Plan folded = plan;
    folded.dp = GradReduceRanks(plan);
    const ModelStates st = StageModelStates(params, 0.0, in.training.dtype, folded);
    auto whole = [](double v) { return static_cast<double>(static_cast<std::int64_t>(v)); };
    const double states = whole(st.weights) + whole(st.gradients) + whole(st.optimizer);
    double activations = 0;
    // Offloaded activations leave the device after the forward: count none of them.
    if (!plan.offload.activations) {
      // With chunks, the embedding and head sit in one chunk each: leave them out (bound).
      double saved = chunk_saved(layers_per_stage / vpp);
      if (first && vpp == 1) saved += embedding_saved;
      if (last && vpp == 1) saved += head_saved;
      const std::int64_t in_flight =
          MaxInFlight(PipelineOrder(plan.schedule, pp, s, micro_batches, vpp));
      activations = static_cast<double>(in_flight) * whole(saved);
    }
    const double stage = states + activations +
                         static_cast<double>(in.hardware.memory.reserved_bytes) +
                         std::round(frag * (states + activations));
    bound = std::max(bound, stage);
  }
  return bound;
}

bool CannotFit(const StepInput& input) {
  return MemoryLowerBoundBytes(input) > static_cast<double>(input.hardware.gpu.memory_bytes);
}

}  // namespace foresight::plan
