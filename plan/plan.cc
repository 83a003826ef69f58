#include "plan/plan.h"

#include <algorithm>
#include <string>
#include <vector>

#include "plan/parallel.h"
#include "plan/schedule.h"

namespace foresight::plan {
namespace {

std::vector<std::int64_t> Divisors(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t d = 1; d <= n; ++d) {
    if (n % d == 0) out.push_back(d);
  }
  return out;
}

std::string Join(const std::vector<std::int64_t>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(values[i]);
  }
  return out;
}

// Values of x in [1, limit] dividing both a and b (b = 0 means only a).
std::vector<std::int64_t> CommonDivisors(std::int64_t a, std::int64_t b, std::int64_t limit) {
  std::vector<std::int64_t> out;
  for (std::int64_t d : Divisors(a)) {
    if (d <= limit && (b == 0 || b % d == 0)) out.push_back(d);
  }
  return out;
}

}  // namespace

std::string_view ScheduleName(Schedule s) {
  switch (s) {
    case Schedule::kGpipe:
      return "gpipe";
    case Schedule::k1F1B:
      return "1f1b";
    case Schedule::kInterleaved1F1B:
      return "interleaved-1f1b";
    case Schedule::kZbH1:
      return "zb-h1";
  }
  return "1f1b";
}

std::string_view RecomputeName(Recompute r) {
  switch (r) {
    case Recompute::kNone:
      return "none";
    case Recompute::kSelective:
      return "selective";
    case Recompute::kFull:
      return "full";
  }
  return "none";
}

std::int64_t RecomputedLayersPerStage(const ops::ModelConfig& model, const Plan& plan,
                                      std::int64_t stage_layers) {
  if (plan.recompute != Recompute::kFull) return 0;
  const std::int64_t per_stage = stage_layers >= 0 ? stage_layers : model.layers / plan.pp;
  return plan.recompute_layers < 0 ? per_stage : std::min(plan.recompute_layers, per_stage);
}

std::vector<std::int64_t> StageLayers(const ops::ModelConfig& model, const Plan& plan) {
  if (!plan.layers_per_stage.empty()) return plan.layers_per_stage;
  std::vector<std::int64_t> out(static_cast<std::size_t>(plan.pp), model.layers / plan.pp);
  if (plan.first_stage_layers == 0 && plan.last_stage_layers == 0) return out;
  std::int64_t rest = model.layers, rest_stages = plan.pp;
  if (plan.first_stage_layers > 0) {
    out.front() = plan.first_stage_layers;
    rest -= plan.first_stage_layers;
    --rest_stages;
  }
  if (plan.last_stage_layers > 0) {
    out.back() = plan.last_stage_layers;
    rest -= plan.last_stage_layers;
    --rest_stages;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool set = (i == 0 && plan.first_stage_layers > 0) ||
                     (i + 1 == out.size() && plan.last_stage_layers > 0);
    if (!set && rest_stages > 0) out[i] = rest / rest_stages;
  }
  return out;
}

std::int64_t MicroBatches(const TrainingConfig& training, const Plan& plan) {
  return training.global_batch / (training.micro_batch * plan.dp);
}

std::vector<PlanError> ValidateAndResolve(const ops::ModelConfig& model,
                                          const ClusterConfig& cluster,
                                          const TrainingConfig& training, Plan& plan) {
  std::vector<PlanError> errors;
  auto fail = [&errors](std::string key, std::string message) {
    errors.push_back(PlanError{std::move(key), std::move(message)});
  };
  auto positive = [&](const std::string& key, std::int64_t v) {
    if (v <= 0) fail(key, key + " must be a positive integer, found " + std::to_string(v));
    return v > 0;
  };

  bool dims_ok = positive("model.layers", model.layers) & positive("model.hidden", model.hidden) &
                 positive("model.heads", model.heads) & positive("model.kv_heads", model.kv_heads) &
                 positive("model.ffn_hidden", model.ffn_hidden) &
                 positive("model.vocab", model.vocab) & positive("model.seq_len", model.seq_len);
  if (dims_ok && model.hidden % model.heads != 0) {
    fail("model.hidden", "hidden=" + std::to_string(model.hidden) +
                             " is not divisible by heads=" + std::to_string(model.heads));
  }
  if (dims_ok && model.heads % model.kv_heads != 0) {
    fail("model.kv_heads", "kv_heads=" + std::to_string(model.kv_heads) +
                               " does not divide heads=" + std::to_string(model.heads) +
                               "; valid kv_heads: " + Join(Divisors(model.heads)));
  }
  bool cluster_ok = positive("cluster.nodes", cluster.nodes) &
                    positive("cluster.gpus_per_node", cluster.gpus_per_node);
  bool train_ok = positive("training.global_batch", training.global_batch) &
                  positive("training.micro_batch", training.micro_batch);
  bool plan_ok = positive("plan.tp", plan.tp) & positive("plan.pp", plan.pp) &
                 positive("plan.vpp", plan.vpp) & positive("plan.cp", plan.cp) &
                 positive("plan.ep", plan.ep);
  if (plan.dp < 0) {
    fail("plan.dp", "plan.dp must be a positive integer (or omitted to derive it), found " +
                        std::to_string(plan.dp));
    plan_ok = false;
  }
  if (plan.grad_bucket_bytes <= 0) {
    fail("plan.grad_bucket_bytes", "grad_bucket_bytes must be > 0");
  }
  if (plan.zero < 0 || plan.zero > 3) {
    fail("plan.zero",
         "zero=" + std::to_string(plan.zero) + " is not a ZeRO stage; valid zero: 0, 1, 2, 3");
  }
  if (plan.recompute_layers != -1 && plan.recompute != Recompute::kFull) {
    fail("plan.recompute_layers",
         "recompute_layers applies to full recompute only, but recompute is " +
             std::string(RecomputeName(plan.recompute)) +
             "; set recompute: full or remove recompute_layers");
  }
  if (plan.offload.params && (plan.zero != 3 || !plan.offload.optimizer)) {
    fail("plan.offload.params",
         "offload.params: cpu needs zero: 3 (parameters are sharded and fetched per layer) and "
         "offload.optimizer: cpu (they are updated on the host), as ZeRO-Infinity; found zero=" +
             std::to_string(plan.zero) +
             ", offload.optimizer=" + (plan.offload.optimizer ? "cpu" : "none"));
  }
  if (!dims_ok || !cluster_ok || !train_ok || !plan_ok) return errors;
  if (plan.recompute_layers != -1 && plan.layers_per_stage.empty() &&
      plan.first_stage_layers == 0 && plan.last_stage_layers == 0 &&
      (plan.recompute_layers < 1 || plan.recompute_layers > model.layers / plan.pp) &&
      model.layers % plan.pp == 0) {
    fail("plan.recompute_layers", "recompute_layers=" + std::to_string(plan.recompute_layers) +
                                      " is not between 1 and the " +
                                      std::to_string(model.layers / plan.pp) +
                                      " layers of a stage (layers / pp)");
  }

  // Tensor parallelism splits attention heads (and KV heads, which must not be split below one
  // per rank) and the MLP hidden dimension.
  if (model.heads % plan.tp != 0 || model.kv_heads % plan.tp != 0 ||
      model.ffn_hidden % plan.tp != 0) {
    fail("plan.tp",
         "tp=" + std::to_string(plan.tp) + " does not divide heads=" + std::to_string(model.heads) +
             (model.kv_heads != model.heads ? ", kv_heads=" + std::to_string(model.kv_heads)
                                            : std::string()) +
             " and ffn_hidden=" + std::to_string(model.ffn_hidden) + "; valid tp: " +
             Join(CommonDivisors(model.kv_heads, model.ffn_hidden, model.kv_heads)));
  }
  const bool uneven =
      !plan.layers_per_stage.empty() || plan.first_stage_layers > 0 || plan.last_stage_layers > 0;
  if (!uneven && model.layers % plan.pp != 0) {
    fail("plan.pp", "pp=" + std::to_string(plan.pp) +
                        " does not divide layers=" + std::to_string(model.layers) +
                        "; valid pp: " + Join(Divisors(model.layers)) +
                        " (or set plan.layers_per_stage / first_stage_layers / last_stage_layers)");
  }
  for (PlanError& e : internal::ValidatePipeline(model, plan)) errors.push_back(std::move(e));

  ValidateParallelism(model, training, plan, errors);
  const std::int64_t world = cluster.world_size();
  const std::int64_t model_parallel = plan.tp * plan.cp * plan.pp;
  if (plan.dp == 0) {
    if (world % model_parallel != 0) {
      fail("plan.tp", std::string(plan.cp > 1 ? "tp*cp*pp" : "tp*pp") + " = " +
                          std::to_string(model_parallel) + " does not divide the world size " +
                          std::to_string(world) + " (" + std::to_string(cluster.nodes) +
                          " nodes x " + std::to_string(cluster.gpus_per_node) + " GPUs)");
      return errors;
    }
    plan.dp = world / model_parallel;
  } else if (model_parallel * plan.dp != world) {
    const bool cp = plan.cp > 1;
    fail("plan.dp",
         std::string(cp ? "tp*cp*pp*dp = " : "tp*pp*dp = ") + std::to_string(plan.tp) + "*" +
             (cp ? std::to_string(plan.cp) + "*" : std::string()) + std::to_string(plan.pp) + "*" +
             std::to_string(plan.dp) + " = " + std::to_string(model_parallel * plan.dp) +
             " does not equal the world size " + std::to_string(world) + " (" +
             std::to_string(cluster.nodes) + " nodes x " + std::to_string(cluster.gpus_per_node) +
             " GPUs)" +
             (world % model_parallel == 0
                  ? "; with this tp and pp, dp must be " + std::to_string(world / model_parallel)
                  : std::string()));
    return errors;
  }
  ValidateExpertParallelism(model, plan, errors);
  const std::int64_t per_step = training.micro_batch * plan.dp;
  if (plan.schedule == Schedule::kInterleaved1F1B && training.global_batch % per_step == 0 &&
      MicroBatches(training, plan) % plan.pp != 0) {
    const std::int64_t m = MicroBatches(training, plan);
    fail("training.global_batch",
         "schedule interleaved-1f1b needs the micro-batches per step, global_batch / "
         "(micro_batch*dp) = " +
             std::to_string(m) + ", to be a multiple of pp=" + std::to_string(plan.pp) +
             " (as Megatron-LM); nearest valid global_batch: " +
             std::to_string((m / plan.pp + 1) * plan.pp * per_step) +
             (m > plan.pp ? " or " + std::to_string(m / plan.pp * plan.pp * per_step) : ""));
  }
  if (training.global_batch % per_step != 0) {
    fail("training.global_batch",
         "global_batch=" + std::to_string(training.global_batch) +
             " is not divisible by micro_batch*dp = " + std::to_string(training.micro_batch) + "*" +
             std::to_string(plan.dp) + " = " + std::to_string(per_step) +
             "; nearest valid global_batch: " +
             std::to_string(
                 std::max<std::int64_t>(per_step, training.global_batch / per_step * per_step)) +
             " or " + std::to_string((training.global_batch / per_step + 1) * per_step));
  }
  return errors;
}

}  // namespace foresight::plan
