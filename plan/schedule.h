// Pipeline schedules: the order in which one pipeline stage runs the forward and backward
// passes of its micro-batches.
//
//   gpipe: all m forwards, then all m backwards (Huang et al. 2019).
//   1f1b:  min(p-s-1, m) warm-up forwards, then alternate one forward / one backward, then the
//          remaining backwards (PipeDream-Flush, Narayanan et al. 2021). Stage s keeps at most
//          p-s micro-batches of activations in flight instead of m.
//   interleaved-1f1b: each rank holds v = plan.vpp model chunks (virtual stages c*p + s);
//          Megatron-LM's interleaved schedule (Narayanan et al. 2021, section 2.2): the k-th
//          forward of a rank runs chunk (k / p) mod v of micro-batch (k / (p v)) p + k mod p,
//          backwards run the chunks in reverse; warm-up 2(p-s-1) + (v-1)p forwards (capped at
//          m v). Needs m a multiple of p. Bubble (p-1)/(v m) of the ideal time.
//   zb-h1: 1F1B with the backward split into B (input gradient) and W (weight gradient) (Qi et
//          al. 2024, "Zero Bubble Pipeline Parallelism", ZB-H1): stage s runs the 1F1B order of
//          F and B and delays each W by s slots, so every stage holds p micro-batches until
//          their W (stage 0's 1F1B peak); the deferred W fill the cool-down, one after each
//          B. Bubble (p-1)(T_F + T_B - T_W) instead of 1F1B's (p-1)(T_F + T_B + T_W).
// With uniform stage costs and free communication gpipe and 1f1b have the bubble fraction
// (p-1)/(m+p-1) of the step.
#pragma once

#include <cstdint>
#include <vector>

#include "plan/plan.h"

namespace foresight::plan {

struct PipelineSlot {
  bool forward;  // false: backward
  std::int64_t micro_batch;
  std::int64_t chunk = 0;  // model chunk (interleaved-1f1b), virtual stage chunk * p + stage
  bool weight = false;     // zb-h1: a weight-gradient (W) slot (forward is false)
};

// Order of work on `stage` (0-based) of a `stages`-deep pipeline with `micro_batches` and `vpp`
// model chunks per stage (vpp > 1 only with interleaved-1f1b, which needs micro_batches a
// multiple of stages). With zb-h1 the backward slots are B (weight = false) and W
// (weight = true). O(micro_batches * vpp).
std::vector<PipelineSlot> PipelineOrder(Schedule schedule, std::int64_t stages, std::int64_t stage,
                                        std::int64_t micro_batches, std::int64_t vpp = 1);

// Largest number of (chunk, micro-batch) pairs whose activations `stage` holds at once under the
// order: from the forward to the backward, or to the W when the order has W slots.
std::int64_t MaxInFlight(const std::vector<PipelineSlot>& order);

namespace internal {
// plan/pipeline_schedules.cc
std::vector<PipelineSlot> InterleavedOrder(std::int64_t stages, std::int64_t stage,
                                           std::int64_t micro_batches, std::int64_t vpp);
std::vector<PipelineSlot> ZeroBubbleH1Order(std::int64_t stages, std::int64_t stage,
                                            std::int64_t micro_batches);
// plan.schedule / vpp / layers_per_stage / first_stage_layers / last_stage_layers and the
// overlap flags, checked against the model (part of ValidateAndResolve; dims already positive).
std::vector<PlanError> ValidatePipeline(const ops::ModelConfig& model, const Plan& plan);
}  // namespace internal

}  // namespace foresight::plan
