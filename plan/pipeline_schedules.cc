// The interleaved 1F1B and ZB-H1 orders (plan/schedule.h has the definitions and sources).
#include <algorithm>
#include <string>

#include "base/check.h"
#include "plan/schedule.h"

namespace foresight::plan::internal {

std::vector<PipelineSlot> InterleavedOrder(std::int64_t stages, std::int64_t stage,
                                           std::int64_t micro_batches, std::int64_t vpp) {
  // Megatron-LM forward_backward_pipelining_with_interleaving: micro-batches run in groups of
  // p through each chunk in turn; the k-th forward (backward) of the rank is chunk
  // (k / p) mod v (reversed for backwards) of micro-batch (k / (p v)) p + k mod p.
  FS_CHECK(micro_batches % stages == 0, "interleaved-1f1b needs micro_batches % stages == 0");
  const std::int64_t p = stages, v = vpp, total = micro_batches * vpp;
  const std::int64_t warmup = std::min((p - stage - 1) * 2 + (v - 1) * p, total);
  auto slot = [&](std::int64_t k, bool forward) {
    const std::int64_t group = (k / p) % v;
    return PipelineSlot{forward, (k / (p * v)) * p + k % p, forward ? group : v - 1 - group};
  };
  std::vector<PipelineSlot> order;
  order.reserve(static_cast<std::size_t>(2 * total));
  std::int64_t next_forward = 0, next_backward = 0;
  for (; next_forward < warmup; ++next_forward) order.push_back(slot(next_forward, true));
  while (next_forward < total) {
    order.push_back(slot(next_forward++, true));
    order.push_back(slot(next_backward++, false));
  }
  while (next_backward < total) order.push_back(slot(next_backward++, false));
  return order;
}

std::vector<PipelineSlot> ZeroBubbleH1Order(std::int64_t stages, std::int64_t stage,
                                            std::int64_t micro_batches) {
  // The 1F1B order of F and B; stage s keeps up to s + 1 B's whose W is pending in the steady
  // state (a W runs after a B once more than s are pending), then one W after each cool-down
  // B, then the rest.
  const std::int64_t m = micro_batches;
  const std::int64_t warmup = std::min(stages - stage - 1, m);
  std::vector<PipelineSlot> order;
  order.reserve(static_cast<std::size_t>(3 * m));
  std::int64_t next_forward = 0, next_backward = 0, next_weight = 0;
  auto weight = [&]() { order.push_back(PipelineSlot{false, next_weight++, 0, true}); };
  for (; next_forward < warmup; ++next_forward) order.push_back({true, next_forward});
  while (next_forward < m) {
    order.push_back({true, next_forward++});
    order.push_back({false, next_backward++});
    if (next_backward - next_weight > stage) weight();
  }
  while (next_backward < m) {
    order.push_back({false, next_backward++});
    weight();
  }
  while (next_weight < m) weight();
  return order;
}

}  // namespace foresight::plan::internal

namespace foresight::plan::internal {
namespace {

std::string Str(std::int64_t v) { return std::to_string(v); }

}  // namespace

std::vector<PlanError> ValidatePipeline(const ops::ModelConfig& model, const Plan& plan) {
  std::vector<PlanError> errors;
  auto fail = [&errors](std::string key, std::string message) {
    errors.push_back(PlanError{std::move(key), std::move(message)});
  };
  const std::int64_t pp = plan.pp, layers = model.layers;
  const bool interleaved = plan.schedule == Schedule::kInterleaved1F1B;
  const bool explicit_list = !plan.layers_per_stage.empty();
  const bool first_last = plan.first_stage_layers > 0 || plan.last_stage_layers > 0;

  // Uneven stages.
  if (explicit_list && first_last) {
    fail("plan.layers_per_stage",
         "layers_per_stage and first_stage_layers/last_stage_layers both set; use one of them");
  } else if (explicit_list) {
    std::int64_t sum = 0;
    bool positive = true;
    for (std::int64_t l : plan.layers_per_stage) {
      sum += l;
      positive = positive && l >= 1;
    }
    if (static_cast<std::int64_t>(plan.layers_per_stage.size()) != pp) {
      fail("plan.layers_per_stage",
           "layers_per_stage has " + Str(static_cast<std::int64_t>(plan.layers_per_stage.size())) +
               " entries; expected one per pipeline stage (pp=" + Str(pp) + ")");
    } else if (!positive) {
      fail("plan.layers_per_stage", "every entry of layers_per_stage must be >= 1");
    } else if (sum != layers) {
      fail("plan.layers_per_stage",
           "layers_per_stage sums to " + Str(sum) + "; expected the model's layers=" + Str(layers));
    }
  } else if (first_last) {
    const std::string key =
        plan.first_stage_layers > 0 ? "plan.first_stage_layers" : "plan.last_stage_layers";
    const std::int64_t set_stages =
        (plan.first_stage_layers > 0 ? 1 : 0) + (plan.last_stage_layers > 0 ? 1 : 0);
    const std::int64_t rest = layers - plan.first_stage_layers - plan.last_stage_layers;
    const std::int64_t rest_stages = pp - set_stages;
    if (pp < 2) {
      fail(key, "first_stage_layers/last_stage_layers need pp >= 2 (pp=" + Str(pp) + ")");
    } else if (rest_stages == 0 ? rest != 0 : (rest < rest_stages || rest % rest_stages != 0)) {
      fail(key, "the " + Str(rest) +
                    " layers left after first_stage_layers=" + Str(plan.first_stage_layers) +
                    " and last_stage_layers=" + Str(plan.last_stage_layers) +
                    " do not split evenly over the other " + Str(rest_stages) +
                    " stages (layers=" + Str(layers) + ", pp=" + Str(pp) + ")");
    }
  }

  // Virtual stages.
  if (plan.vpp > 1 && !interleaved) {
    fail("plan.vpp", "vpp=" + Str(plan.vpp) + " needs schedule: interleaved-1f1b (schedule is " +
                         std::string(ScheduleName(plan.schedule)) + "); or set vpp: 1");
  }
  if (interleaved) {
    if (plan.vpp < 2) {
      fail("plan.vpp",
           "schedule interleaved-1f1b needs vpp >= 2 model chunks per stage, found vpp=" +
               Str(plan.vpp));
    } else if (explicit_list || first_last) {
      fail("plan.vpp",
           "interleaved-1f1b with uneven stages (layers_per_stage, "
           "first_stage_layers, last_stage_layers) is not modelled; use even stages");
    } else if (layers % pp == 0 && (layers / pp) % plan.vpp != 0) {
      std::vector<std::int64_t> valid;
      for (std::int64_t v = 2; v <= layers / pp; ++v) {
        if ((layers / pp) % v == 0) valid.push_back(v);
      }
      std::string list;
      for (std::int64_t v : valid) list += (list.empty() ? "" : ", ") + Str(v);
      fail("plan.vpp", "vpp=" + Str(plan.vpp) + " does not divide the " + Str(layers / pp) +
                           " layers per stage (layers / pp = " + Str(layers) + " / " + Str(pp) +
                           ")" + (list.empty() ? "" : "; valid vpp: " + list));
    }
    if (pp < 2) fail("plan.schedule", "interleaved-1f1b needs pp >= 2");
  }
  if (plan.schedule == Schedule::kZbH1 && (plan.zero >= 2 || plan.offload.optimizer ||
                                           plan.offload.activations || plan.offload.params)) {
    fail("plan.schedule",
         "zb-h1 is modelled with zero 0 or 1 and no offload (its weight-gradient passes would "
         "move the ZeRO-2/3 reductions and gathers); found zero=" +
             Str(plan.zero));
  }
  if (plan.overlap.param_gather && plan.zero != 1 && plan.zero != 2) {
    fail("plan.overlap.param_gather",
         "overlap.param_gather overlaps the ZeRO-1/2 parameter all-gather with the next forward "
         "and needs zero: 1 or 2 (found zero=" +
             Str(plan.zero) + "; zero 3 already prefetches its per-layer gathers)");
  }
  return errors;
}

}  // namespace foresight::plan::internal
