// End-to-end fit of compute-efficiency parameters to measured step times.
//
// Every row of a step table (import_steps.h) becomes a plan::StepInput (a GPT-style model run
// with the conventions below) and is simulated with plan::SimulateStep; Levenberg-Marquardt
// (Eigen unsupported NonLinearOptimization, central-difference Jacobian) then minimises
//   sum_i ((T_sim,i(theta) - T_meas,i) / T_meas,i)^2
// over the chosen profile parameters theta (each kept inside its valid range), from the base
// profile's values and, when some parameter starts at the lower bound of its range (where the
// difference quotient sees no slope), also from a start with those parameters at 10 x their
// scale (10 us for seconds); the best point of all starts is kept. Rows are used in
// file order; `max_rows` > 0 keeps every k-th row (k = ceil(rows / max_rows)), deterministic.
// Cost: (iterations * (parameters + 1)) * rows step simulations.
//
// Conventions (StepConventions; defaults are vTrain's Megatron-DeepSpeed runs, data/README.md):
// GPT model: ffn = 4h, kv_heads = heads, gelu, layernorm, biases, tied embeddings, learned
// positions; vocab 50257 padded as Megatron does to a multiple of 128 * tp; activation
// checkpointing = full recompute; 1F1B; no gradient bucketing (one DP all-reduce after the
// backward, not overlapped); pipeline sends and receives block the compute stream (plan
// overlap.p2p = false: Megatron's p2p_communication waits for its batch_isend_irecv requests
// and calls torch.cuda.synchronize()); unfused attention (Megatron-DeepSpeed runs without
// --use-flash-attn unless told); fp16 (Megatron-DeepSpeed's --fp16; A100 fp16 and bf16 peaks are
// equal). Nodes = ceil(GPUs / gpus_per_node), GPUs per node = min(GPUs, profile's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/status.h"
#include "calibrate/fit_report.h"
#include "calibrate/import_steps.h"
#include "models/hw/hardware.h"
#include "plan/plan.h"
#include "plan/simulate.h"

namespace foresight::calibrate {

// How the data-parallel replicas share model states (docs/validation.md, "Dataset formats"):
//  - kNone: Megatron DDP as in the vTrain runs: replicated states, one gradient all-reduce after
//    the last backward (no bucketing, not overlapped).
//  - kFullShard: PyTorch FSDP FULL_SHARD with one FSDP unit per transformer block (llm-foundry's
//    MPT wrapping): ZeRO-3, every forward and backward gathers each block's parameters on the
//    communication stream ahead of use (prefetch, limit_all_gathers) and every backward
//    reduce-scatters each block's gradients as soon as its backward ends (plan zero = 3,
//    overlap.grad_reduce, one bucket per part).
//  - kShardGradOp: FSDP SHARD_GRAD_OP: parameters stay gathered from the forward to the end of
//    the backward, gradients reduce-scattered per block (plan zero = 2, overlap.param_gather:
//    each block's gather before its first forward, overlap.grad_reduce, one bucket per part).
//    With gradient accumulation FSDP re-gathers every micro-batch's forward, which zero 2 does
//    not: callers keep such rows out (validate/foundry.h).
enum class DpSharding : std::uint8_t { kNone, kFullShard, kShardGradOp };

struct StepConventions {
  std::int64_t vocab = 50257;
  std::int64_t vocab_multiple = 128;  // padded to a multiple of this times tp
  plan::Recompute recompute = plan::Recompute::kFull;
  plan::Schedule schedule = plan::Schedule::k1F1B;
  bool flash_attention = false;
  // plan.attention_kernel: a name from the profile's gpu.attention_kernels; empty = default.
  std::string attention_kernel;
  Dtype dtype = Dtype::kFp16;
  DpSharding sharding = DpSharding::kNone;
};

// Parameters the step fit can move: "gpu.gemm.max_efficiency", "gpu.attention_efficiency",
// "gpu.memory.max_efficiency", "gpu.kernel_launch_seconds", "gpu.gemm.k_half",
// "gpu.memory.bytes_half", "host.kernel_dispatch_seconds", "gpu.interference.compute_slowdown",
// "gpu.interference.comm_slowdown".
const std::vector<std::string>& StepFitParameterNames();

struct StepFitOptions {
  std::vector<std::string> parameters = {"gpu.gemm.max_efficiency", "gpu.memory.max_efficiency",
                                         "gpu.kernel_launch_seconds"};
  std::size_t max_rows = 0;   // 0 = all rows
  int max_evaluations = 200;  // LM function evaluations (each simulates every row)
  // Efficiency parameters may not rise above the base profile's value: the catalog holds the
  // best measured ceilings (gpu.gemm.max_efficiency = best measured matmul / peak), and a
  // per-kernel overhead that the roofline adds to every kernel (also the big ones) otherwise
  // pushes them to 1. false: bound by 1 only.
  bool cap_efficiency_at_base = true;
  StepConventions conventions;
};

// Megatron's padded vocabulary: ceil(vocab / (multiple * tp)) * multiple * tp.
std::int64_t PaddedVocab(std::int64_t vocab, std::int64_t multiple, std::int64_t tp);

// The simulator input for one row; errors (invalid plan) name the row's file:line.
Result<plan::StepInput> StepInputFor(const StepRow& row, const std::string& path,
                                     const hw::HardwareProfile& hardware,
                                     const StepConventions& conventions);

// Deterministic subsample: every k-th row, k = ceil(rows / max_rows); all rows when max_rows = 0.
std::vector<StepRow> SubsampleRows(const std::vector<StepRow>& rows, std::size_t max_rows);

struct StepFitResult {
  hw::HardwareProfile profile;  // base with the fitted parameters
  FitSection section;           // after the fit
  FitQuality before;            // the base profile on the same rows
};

Result<StepFitResult> FitStepTimes(const std::vector<StepTable>& tables,
                                   const hw::HardwareProfile& base, const StepFitOptions& options);

// A step table whose rows carry their own conventions (the measured-runs CSV and the
// llm-foundry tables that `foresight validate` reads, given to `calibrate fit`):
// conventions[i] applies to table.rows[i]; `kind` says where the rows came from (report).
struct StepTableWithConventions {
  StepTable table;
  std::vector<StepConventions> conventions;
  std::string kind;
};

// `table` with `conventions` for every row (the step-table format; `kind` empty).
StepTableWithConventions WithConventions(const StepTable& table,
                                         const StepConventions& conventions);

// The same fit over tables with per-row conventions (options.conventions is not used).
Result<StepFitResult> FitStepTimes(const std::vector<StepTableWithConventions>& tables,
                                   const hw::HardwareProfile& base, const StepFitOptions& options);

}  // namespace foresight::calibrate
