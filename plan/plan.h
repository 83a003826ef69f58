// Plan: how one training step is parallelized and executed, plus its validation.
//
// Validation explains itself: every error names the offending key (dotted path, e.g.
// "plan.tp") and the valid choices ("tp=3 does not divide heads=32; valid tp: 1, 2, 4, 8, 16,
// 32"). The scenarios layer maps the key back to file:line:column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "models/ops/layer_builder.h"
#include "models/ops/model_config.h"

namespace foresight::plan {

// Pipeline schedules (plan/schedule.h): gpipe, 1f1b, interleaved-1f1b (with vpp), zb-h1.
enum class Schedule : std::uint8_t { kGpipe, k1F1B, kInterleaved1F1B, kZbH1 };
// none: keep every activation; selective: replay the attention core in the backward
// (Korthikanti et al. 2022); full: keep only each layer's input and replay its forward.
enum class Recompute : std::uint8_t { kNone, kSelective, kFull };

// What runs off the compute stream's critical path (docs/model.md, "Overlap").
struct Overlap {
  bool grad_reduce = true;  // DP gradient all-reduce in buckets, overlapped with backward
  // ZeRO-1/2 parameter all-gather: per part before the first forward that needs it (Megatron's
  // overlap_param_gather) instead of whole after the optimizer step.
  bool param_gather = false;
  // TP collectives overlapped with the GEMM that produces their input (Megatron/TE
  // tp-comm-overlap): only max(0, collective - GEMM) stays on the compute stream.
  bool tp_comm = false;
  // Pipeline sends on the p2p stream (true) or blocking the sender's compute stream (false).
  bool p2p = true;
};

// Where model states and activations live (ZeRO-Offload / ZeRO-Infinity, see docs/memory.md).
struct Offload {
  bool optimizer = false;    // fp32 master + Adam moments on the host, Adam runs on the CPU
  bool activations = false;  // saved activations copied to host after the forward
  bool params = false;       // parameter shards on the host, fetched per layer (needs zero 3)
};

struct Plan {
  std::int64_t tp = 1;
  std::int64_t pp = 1;
  std::int64_t dp = 0;   // 0 = derive as world / (tp * pp)
  std::int64_t vpp = 1;  // model chunks per pipeline rank (interleaved-1f1b)
  Schedule schedule = Schedule::k1F1B;
  // Uneven stages: explicit layers of each stage (pp entries summing to model.layers), or the
  // first/last stage's layers with the rest spread evenly (Megatron's
  // decoder_first/last_pipeline_num_layers); 0 / empty = even.
  std::vector<std::int64_t> layers_per_stage;
  std::int64_t first_stage_layers = 0;
  std::int64_t last_stage_layers = 0;
  Recompute recompute = Recompute::kNone;
  // Full recompute of only this many layers per stage (the first ones, Megatron's "block"
  // method); -1 = every layer. Only with recompute = full.
  std::int64_t recompute_layers = -1;
  // ZeRO stage: 0 none; 1 optimizer states sharded over dp (Megatron's distributed optimizer);
  // 2 also gradients; 3 also parameters (gathered per layer).
  std::int64_t zero = 0;
  Offload offload;
  bool flash_attention = true;
  // The fused-attention implementation, a name from the hardware profile's
  // gpu.attention_kernels (e.g. flash2, flash3, triton_flash); empty = the profile's default
  // gpu.attention_efficiency. Needs flash_attention (ValidateForHardware checks the name).
  std::string attention_kernel;
  std::string fusion_preset = "default";  // "none" | "default" | "max" | "custom"
  ops::FusionRules fusion;                // resolved rules
  Overlap overlap;
  double grad_bucket_bytes = 40e6 * 2;  // DP bucket size (Megatron: 40M elements, bf16 grads)
  // --- sequence, context and expert parallelism (plan/parallel.h) ---
  // Ranks are placed in Megatron-Core's tp-cp-ep-dp-pp order: the CP group has stride tp, the
  // data-parallel group stride tp*cp, the EP group (carved out of the dp*cp ranks) stride tp*cp.
  // dp = world / (tp * cp * pp); gradients are reduced over the dp*cp ranks (expert gradients
  // over dp*cp/ep).
  bool sequence_parallel = false;
  std::int64_t cp = 1;
  ops::CpComm cp_comm = ops::CpComm::kRing;
  std::int64_t ep = 1;
};

struct TrainingConfig {
  std::int64_t global_batch = 0;  // sequences per step
  std::int64_t micro_batch = 1;
  Dtype dtype = Dtype::kBf16;
};

struct ClusterConfig {
  std::string hardware;  // catalog name or profile path
  std::int64_t nodes = 1;
  std::int64_t gpus_per_node = 0;  // 0 = from the hardware profile
  std::int64_t world_size() const { return nodes * gpus_per_node; }
};

std::string_view ScheduleName(Schedule s);
std::string_view RecomputeName(Recompute r);

// A validation failure tied to a scenario key.
struct PlanError {
  std::string key;      // dotted path: "plan.tp", "training.global_batch", ...
  std::string message;  // what is wrong and what would be valid
};

// Checks divisibility and consistency, derives plan.dp when it is 0. gpus_per_node must be
// resolved (> 0). Returns all errors found (empty = valid).
std::vector<PlanError> ValidateAndResolve(const ops::ModelConfig& model,
                                          const ClusterConfig& cluster,
                                          const TrainingConfig& training, Plan& plan);

// Layers of a stage that are fully recomputed (0 unless recompute = full); `stage_layers` = the
// stage's layers (-1: layers / pp).
std::int64_t RecomputedLayersPerStage(const ops::ModelConfig& model, const Plan& plan,
                                      std::int64_t stage_layers = -1);

// Layers of each of the pp stages (layers_per_stage, first/last_stage_layers, or even). Valid
// after ValidateAndResolve.
std::vector<std::int64_t> StageLayers(const ops::ModelConfig& model, const Plan& plan);

// Micro-batches per step per pipeline: global_batch / (micro_batch * dp).
std::int64_t MicroBatches(const TrainingConfig& training, const Plan& plan);

}  // namespace foresight::plan
