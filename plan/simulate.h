// SimulateStep: compile one training step, run it on the engine, and summarise it.
//
// Metrics (Narayanan et al. 2021 conventions):
//   tokens_per_s = global_batch * seq_len / step_time
//   mfu = model_flops_per_step / (step_time * world * peak_flops(dtype))
//   hfu = hardware_flops_per_step (model FLOPs + recomputed matmul FLOPs) / (same)
// Time breakdown per simulated rank, each instant of the step classified once, in priority:
// compute (a compute kernel runs) > other (optimizer step) > exposed_comm (only communication
// runs) > bubble (the rank waits). The step-level breakdown is the mean over pipeline stages,
// so its parts sum to the step time. The host Adam step (offload.optimizer) counts as other,
// host<->device copies as communication.
//
// Memory: each stage's device peak is the engine's pool peak plus the allocator allowance
// (fragmentation_fraction of the allocated bytes) and the reserved bytes; `fits` requires every
// stage to fit in gpu.memory_bytes AND every node's host memory to hold what its GPUs offload.
// A plan that does not fit is a result (fits = false, fits_detail says what and where), not an
// error; an offload plan on a profile without host.memory_bytes is an error (ValidateForHardware).
// Host use per node is the sum, over the node's GPUs, of their stage's host peak (the peaks of
// different ranks may be at different times, so this is an upper bound).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "plan/compile.h"
#include "sim/engine.h"

namespace foresight::plan {

struct MemoryBreakdown {
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double activations = 0;
  double other = 0;  // reserved (context, workspaces) + fragmentation allowance
  double total() const { return weights + gradients + optimizer + activations + other; }
};

struct TimeBreakdown {
  double compute_s = 0;
  double exposed_comm_s = 0;
  double bubble_s = 0;
  double other_s = 0;
  // How much longer the compute stream's kernels ran than their own durations because NCCL
  // kernels ran beside them (hardware gpu.interference; 0 without it). Part of the step time,
  // so bubble_s = step - compute_s - exposed_comm_s - other_s - interference_s.
  double interference_s = 0;
};

struct StageResult {
  std::int32_t stage = 0;
  double peak_bytes = 0;
  MemoryBreakdown breakdown;  // at the peak
  TimeBreakdown time;
  // Detail of one rank of the stage.
  double params_per_rank = 0;
  double activation_bytes_per_micro_batch = 0;  // kept from forward to backward
  std::int64_t micro_batches_in_flight = 0;     // most micro-batches whose activations it holds
  std::int64_t recomputed_layers = 0;
  double host_peak_bytes = 0;      // host memory of one rank (offload); 0 without offload
  MemoryBreakdown host_breakdown;  // at the host peak (other = 0)
};

struct StepResult {
  double step_time_s = 0;
  std::int64_t world_size = 0;
  double tokens_per_s = 0;
  double samples_per_s = 0;
  double model_flops_per_step = 0;
  double hardware_flops_per_step = 0;
  double model_tflops_per_gpu = 0;
  double hardware_tflops_per_gpu = 0;
  double mfu = 0;
  double hfu = 0;
  double peak_bytes = 0;       // max over stages
  double capacity_bytes = 0;   // GPU memory
  bool fits = false;           // device and host
  std::string fits_detail;     // why not, when !fits; empty otherwise
  double host_peak_bytes = 0;  // max over nodes of the host memory its GPUs use
  double host_capacity_bytes = 0;
  bool host_fits = true;
  std::int32_t peak_stage = 0;
  TimeBreakdown time;  // mean over stages
  std::vector<StageResult> stages;
  std::int64_t micro_batches = 0;
  std::int64_t num_tasks = 0;

  // The simulated timeline (for traces and critical-path reports).
  CompiledStep compiled;
  sim::RunResult run;
};

Result<StepResult> SimulateStep(const StepInput& input);

}  // namespace foresight::plan
