#include "plan/search.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "models/ops/layer_builder.h"
#include "plan/memory.h"
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

void PpAxis(const Context& c, const PlanPoint& p, std::vector<PlanPoint>* out) {
  for (std::int64_t pp : Divisors(c.model.layers)) {
    if (c.cluster.world_size() % (p.plan.tp * pp) != 0 || !Allowed(c.space.pp, pp)) continue;
    PlanPoint v = p;
    v.plan.pp = pp;
    v.plan.dp = c.cluster.world_size() / (p.plan.tp * pp);
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
std::vector<Axis> Axes() { return {TpAxis, PpAxis, MicroBatchAxis, ScheduleAxis, RecomputeAxis}; }

// Parameters of one layer that tensor parallelism replicates (compile.cc's rule).
double ReplicatedLayerParams(const ops::ModelConfig& m) {
  const double norm = (m.norm == ops::Norm::kLayerNorm ? 2.0 : 1.0) * static_cast<double>(m.hidden);
  return 2 * norm + (m.bias ? 2.0 * static_cast<double>(m.hidden) : 0.0);
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
  const double layer_params = (static_cast<double>(counts.per_layer) - replicated) / t + replicated;
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
  const ops::LayerOps layer = ops::BuildTransformerLayer(m, options);
  const double layer_input_bytes =
      static_cast<double>(in.training.micro_batch * m.seq_len * m.hidden * dtype_bytes);
  // Layers kept whole and layers fully recomputed per chunk (compile.cc's rule, plan/memory.h).
  const Recompute kept_mode =
      plan.recompute == Recompute::kSelective ? Recompute::kSelective : Recompute::kNone;
  auto chunk_saved = [&](std::int64_t chunk_layers) {
    const auto recomputed = static_cast<double>(RecomputedLayersPerStage(m, plan, chunk_layers));
    const double kept_layers = static_cast<double>(chunk_layers) - recomputed;
    return recomputed * LayerKeptBytes(layer, Recompute::kFull, layer_input_bytes) +
           kept_layers * LayerKeptBytes(layer, kept_mode, layer_input_bytes);
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
    const ModelStates st = ComputeModelStates(params, in.training.dtype, plan);
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
