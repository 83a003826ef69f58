#include "plan/parallel.h"

#include <algorithm>
#include <string>

#include "base/dtype.h"

namespace foresight::plan {
namespace {

std::string Str(std::int64_t v) { return std::to_string(v); }

std::string DivisorList(std::int64_t n, std::int64_t also = 0) {
  std::string out;
  for (std::int64_t d = 1; d <= n; ++d) {
    if (n % d != 0 || (also > 0 && also % d != 0)) continue;
    if (!out.empty()) out += ", ";
    out += Str(d);
  }
  return out;
}

}  // namespace

void ValidateParallelism(const ops::ModelConfig& model, const TrainingConfig& training,
                         const Plan& plan, std::vector<PlanError>& errors) {
  (void)training;
  auto fail = [&errors](std::string key, std::string message) {
    errors.push_back(PlanError{std::move(key), std::move(message)});
  };
  // cp, ep >= 1: checked by ValidateAndResolve before this runs.
  if (plan.cp > 1) {
    // Causal load balancing splits each sequence into 2*cp chunks (Megatron-Core asserts
    // seq_len % (2 * cp) == 0).
    if (model.seq_len % (2 * plan.cp) != 0) {
      std::string valid;
      for (std::int64_t c = 1; 2 * c <= model.seq_len && c <= 1024; c *= 2) {
        if (model.seq_len % (2 * c) == 0) valid += (valid.empty() ? "" : ", ") + Str(c);
      }
      fail("plan.cp", "cp=" + Str(plan.cp) + ": seq_len=" + Str(model.seq_len) +
                          " must be divisible by 2*cp = " + Str(2 * plan.cp) +
                          " (causal load balancing splits each sequence into 2*cp chunks)" +
                          (valid.empty() ? std::string() : "; valid cp (powers of two): " + valid));
    }
    if (!plan.flash_attention) {
      fail("plan.cp", "cp=" + Str(plan.cp) +
                          " needs flash_attention: true (context parallelism runs the attention "
                          "in blocks, as Transformer Engine's fused attention)");
    }
  }
  if (plan.sequence_parallel && plan.tp > 1 && plan.cp >= 1 &&
      (model.seq_len % plan.cp != 0 || (model.seq_len / plan.cp) % plan.tp != 0)) {
    fail("plan.sequence_parallel", "sequence_parallel splits the s/cp = " + Str(model.seq_len) +
                                       "/" + Str(plan.cp) + " tokens of a sequence across tp=" +
                                       Str(plan.tp) + " ranks; tp must divide seq_len / cp");
  }
  const ops::MoeConfig& moe = model.moe;
  if (!moe.enabled()) {
    if (plan.ep > 1) {
      fail("plan.ep", "ep=" + Str(plan.ep) +
                          " needs a mixture-of-experts model (model.moe.experts > 0); valid ep: 1");
    }
    return;
  }
  if (moe.top_k < 1 || moe.top_k > moe.experts) {
    fail("model.moe.top_k",
         "top_k=" + Str(moe.top_k) + " must be between 1 and experts=" + Str(moe.experts));
  }
  if (moe.expert_ffn_hidden < 1) {
    fail("model.moe.expert_ffn_hidden",
         "expert_ffn_hidden must be a positive integer, found " + Str(moe.expert_ffn_hidden));
  } else if (plan.tp >= 1 && moe.expert_ffn_hidden % plan.tp != 0) {
    fail("plan.tp", "tp=" + Str(plan.tp) + " does not divide model.moe.expert_ffn_hidden=" +
                        Str(moe.expert_ffn_hidden) + " (experts are tensor-parallel over tp)");
  }
  if (moe.capacity_factor < 0) {
    fail("model.moe.capacity_factor", "capacity_factor must be >= 0 (0 = dropless), found " +
                                          std::to_string(moe.capacity_factor));
  }
  if (moe.load_imbalance < 1) {
    fail("model.moe.load_imbalance",
         "load_imbalance is the busiest rank's tokens over the mean and must be >= 1, found " +
             std::to_string(moe.load_imbalance));
  }
  if (moe.first_dense_layers < 0 || moe.first_dense_layers > model.layers) {
    fail("model.moe.first_dense_layers",
         "first_dense_layers must be between 0 and layers=" + Str(model.layers));
  }
  if (plan.tp > 1 && !plan.sequence_parallel) {
    fail("plan.sequence_parallel",
         "a mixture-of-experts model with tp=" + Str(plan.tp) +
             " needs sequence_parallel: true (Megatron-Core requires sequence parallelism for "
             "MoE with tensor parallelism)");
  }
  if (moe.experts % plan.ep != 0) {
    fail("plan.ep", "ep=" + Str(plan.ep) + " does not divide model.moe.experts=" +
                        Str(moe.experts) + "; valid ep: " + DivisorList(moe.experts));
  }
}

void ValidateExpertParallelism(const ops::ModelConfig& model, const Plan& plan,
                               std::vector<PlanError>& errors) {
  // ep not dividing the experts is reported by ValidateParallelism.
  if (plan.ep <= 1 || plan.dp < 1 || !model.moe.enabled() || model.moe.experts % plan.ep != 0) {
    return;
  }
  const std::int64_t ranks = GradReduceRanks(plan);
  if (ranks % plan.ep != 0) {
    errors.push_back(
        PlanError{"plan.ep", "ep=" + Str(plan.ep) + " does not divide dp*cp = " + Str(plan.dp) +
                                 "*" + Str(plan.cp) + " = " + Str(ranks) +
                                 " (the expert-parallel group is carved out of the data- and "
                                 "context-parallel ranks, as in Megatron-Core); valid ep: " +
                                 DivisorList(ranks, model.moe.experts)});
  }
}

std::vector<PlanError> ValidateDtypeForHardware(const TrainingConfig& training,
                                                const hw::HardwareProfile& hw) {
  std::vector<PlanError> errors;
  if (training.dtype == Dtype::kFp8 && hw.gpu.peak_flops_per_s_fp8 <= 0) {
    errors.push_back(PlanError{
        "training.dtype", "fp8 needs FP8 tensor cores, but " + hw.gpu.name + " (hardware profile " +
                              hw.name +
                              ") has no fp8 peak (gpu.peak_flops_per_s.fp8); use bf16, or a GPU "
                              "with FP8 such as dgx-h100"});
  }
  return errors;
}

hw::GroupSpan ExpertDataParallelSpan(std::int64_t tp, std::int64_t cp, std::int64_t dp,
                                     std::int64_t ep, std::int32_t gpus_per_node) {
  const auto size = static_cast<std::int32_t>(std::max<std::int64_t>(1, dp * cp / ep));
  if (dp % ep != 0) return hw::SpanOf(size, tp, gpus_per_node);
  const hw::GroupSpan inner = hw::SpanOf(static_cast<std::int32_t>(cp), tp, gpus_per_node);
  const hw::GroupSpan outer =
      hw::SpanOf(static_cast<std::int32_t>(dp / ep), tp * cp * ep, gpus_per_node);
  return hw::GroupSpan{size, inner.ranks_per_node * outer.ranks_per_node,
                       inner.nodes * outer.nodes};
}

double ContextRingSeconds(const hw::HardwareProfile& hw, double bytes, const hw::GroupSpan& span) {
  if (span.size <= 1 || bytes <= 0) return 0;
  const auto steps = static_cast<double>(span.size - 1);
  return steps * hw::PointToPointSeconds(hw, bytes / steps, span.nodes == 1);
}

void OverlapRingAttention(std::vector<CostedOp>& ops, std::int64_t cp) {
  if (cp <= 1) return;
  const double hidden_fraction = static_cast<double>(cp - 1) / static_cast<double>(cp);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].name != "cp_ring_kv" && ops[i].name != "cp_ring_kv_bwd") continue;
    for (std::size_t j = i + 1; j < ops.size(); ++j) {
      if (ops[j].kind != ops::OpKind::kFlashAttention) continue;
      const sim::SimTime hidden =
          sim::SimTime::FromSeconds(ops[j].duration.ToSeconds() * hidden_fraction);
      ops[i].duration = ops[i].duration > hidden ? ops[i].duration - hidden : sim::SimTime();
      break;
    }
  }
}

ModelStates StageModelStates(double dense_params, double expert_params, Dtype dtype,
                             const Plan& plan) {
  ModelStates s = ComputeModelStates(dense_params, dtype, plan);
  if (expert_params <= 0) return s;
  Plan expert = plan;
  expert.dp = std::max<std::int64_t>(1, plan.dp / plan.ep);
  const ModelStates e = ComputeModelStates(expert_params, dtype, expert);
  s.weights += e.weights;
  s.gradients += e.gradients;
  s.optimizer += e.optimizer;
  s.host_weights += e.host_weights;
  s.host_gradients += e.host_gradients;
  s.host_optimizer += e.host_optimizer;
  return s;
}

}  // namespace foresight::plan
