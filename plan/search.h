// Plan-space enumeration and a cheap memory lower bound for pruning (docs/search.md).
//
// EnumeratePlans walks a list of axes (tp, cp, pp, ep, micro_batch, schedule, recompute, zero,
// sequence_parallel; cp, ep, zero and sequence_parallel only when SearchSpace lists values). Each
// axis expands a partial point into its variants, generating only values that can be valid (tp
// divides heads, kv_heads and ffn_hidden; pp divides layers; tp*pp divides the world;
// micro_batch*dp divides global_batch), so divisibility prunes before anything is built; every
// surviving point is then checked by ValidateAndResolve, so the rules are never duplicated in a way
// that could drift. A new plan feature (zero, offload, vpp, ...) is one more axis: a function
// appended to the list in search.cc's Axes().
//
// Order is deterministic: tp ascending, then cp, pp, ep, micro_batch, schedule (gpipe, 1f1b),
// recompute (none, full), zero, sequence_parallel, the first axis varying slowest. Values that
// give the same step are generated once: zero > 0 needs dp*cp > 1; sequence_parallel needs
// tp > 1. With pp = 1 both schedules are the same step,
// so only 1f1b is kept.
//
// MemoryLowerBoundBytes is a lower bound on SimulateStep's peak_bytes: per stage, the resident
// device model states (compile.cc's per-stage parameter rules — layers/pp sharded by tp plus the
// replicated norms and biases, the embedding on the first stage, the final norm and untied or
// pipeline-split output projection on the last — priced by plan/memory.h's ComputeModelStates,
// so ZeRO and offload are included), the reserved bytes, the activations of the largest number of
// micro-batches the schedule keeps in flight (PipelineOrder/MaxInFlight, LayerKeptBytes per
// recompute mode; none with offload.activations), and the fragmentation allowance on those
// bytes. It leaves out the transient activations of a recomputed layer and ZeRO-3's gathered
// layers, so it never exceeds the simulated peak: a plan whose bound exceeds the GPU memory
// cannot fit and is pruned without simulation. Cost: O(pp * micro_batches + ops of one layer),
// microseconds, against milliseconds for a simulation. It must follow compile.cc's memory
// rules; search_test.cc checks it against simulation.
#pragma once

#include <cstdint>
#include <vector>

#include "plan/compile.h"
#include "plan/plan.h"

namespace foresight::plan {

// Which values each axis may take. Empty lists mean "every valid value".
struct SearchSpace {
  std::vector<std::int64_t> tp;           // empty: every divisor of heads/kv_heads/ffn_hidden
  std::vector<std::int64_t> pp;           // empty: every divisor of layers
  std::vector<std::int64_t> micro_batch;  // empty: divisors of global_batch/dp up to the max
  std::int64_t max_micro_batch = 16;
  std::vector<Schedule> schedules = {Schedule::kGpipe, Schedule::k1F1B};
  // interleaved-1f1b chunks; empty: every vpp >= 2 dividing the layers of a stage.
  std::vector<std::int64_t> vpp;
  std::vector<Recompute> recomputes = {Recompute::kNone, Recompute::kFull};
  // Axes added with the parallelism features; empty = keep the base plan's value (the default,
  // so a default search is the tp/pp/micro_batch/schedule/recompute space above).
  std::vector<std::int64_t> cp;         // context parallel sizes (divide seq_len / 2)
  std::vector<std::int64_t> ep;         // expert parallel sizes (MoE models only)
  std::vector<std::int64_t> zero;       // ZeRO stages 0-3
  std::vector<bool> sequence_parallel;  // false/true; true is only tried with tp > 1
};

// One point of the plan space: a validated plan (dp resolved) and the training settings it
// implies (micro_batch is a training key).
struct PlanPoint {
  Plan plan;
  TrainingConfig training;
};

struct Enumeration {
  std::vector<PlanPoint> points;  // valid, in the documented order
  std::int64_t rejected = 0;      // generated but refused by ValidateAndResolve (0 when the axes
                                  // generate only valid values, as today)
};

// Enumerates the plans for `model` on `cluster` (gpus_per_node resolved). Every other plan
// field (flash_attention, fusion, overlap, buckets; vpp unless the schedule axis sets it) and
// training.global_batch/dtype come from `base_plan` and `base_training`. O(points * validation).
Enumeration EnumeratePlans(const ops::ModelConfig& model, const ClusterConfig& cluster,
                           const TrainingConfig& base_training, const Plan& base_plan,
                           const SearchSpace& space);

// Lower bound on the peak memory of one GPU, bytes (see above). `input.plan` must be validated.
double MemoryLowerBoundBytes(const StepInput& input);

// MemoryLowerBoundBytes(input) > the GPU memory: the plan cannot fit.
bool CannotFit(const StepInput& input);

}  // namespace foresight::plan
