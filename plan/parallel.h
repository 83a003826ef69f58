// Sequence, context and expert parallelism, and FP8: plan validation, the context-parallel
// ring pricing and overlap, and the model states of MoE stages. See docs/model.md ("Sequence,
// context and expert parallelism") and docs/memory.md.
//
// Rank placement follows Megatron-Core's tp-cp-ep-dp-pp order: TP at stride 1, CP at stride
// tp, the dense data-parallel group at stride tp*cp, PP at stride tp*cp*dp. Context-parallel
// ranks hold the same parameters and Megatron reduces gradients (and shards the distributed
// optimizer) over the combined dp*cp group, of stride tp. The expert-parallel group is carved
// out of those dp*cp ranks (stride tp*cp, expert tensor parallelism = tp, Megatron-Core's
// default): ep must divide dp*cp, and expert parameters are replicated over, and reduce their
// gradients across (in buckets of their own), the dp*cp/ep ranks of the expert-data-parallel
// group (ExpertDataParallelSpan); ZeRO shards them and the optimizer step updates them over it.
#pragma once

#include <cstdint>
#include <vector>

#include "models/hw/collective.h"
#include "models/hw/hardware.h"
#include "models/ops/model_config.h"
#include "plan/cost.h"
#include "plan/memory.h"
#include "plan/plan.h"

namespace foresight::plan {

// Checks that need only the model and the plan (before dp is derived; tp, cp, ep >= 1): cp,
// sequence_parallel, ep without MoE, the MoE dimensions. Appends to `errors`.
void ValidateParallelism(const ops::ModelConfig& model, const TrainingConfig& training,
                         const Plan& plan, std::vector<PlanError>& errors);
// After dp is resolved: ep divides dp*cp (and experts).
void ValidateExpertParallelism(const ops::ModelConfig& model, const Plan& plan,
                               std::vector<PlanError>& errors);
// training.dtype fp8 needs a GPU with an fp8 peak (gpu.peak_flops_per_s.fp8 > 0).
std::vector<PlanError> ValidateDtypeForHardware(const TrainingConfig& training,
                                                const hw::HardwareProfile& hw);

// Ranks that share every (dense) parameter and reduce its gradient: dp * cp.
inline std::int64_t GradReduceRanks(const Plan& plan) { return plan.dp * plan.cp; }

// The expert-data-parallel group: the dp*cp/ep ranks that hold the same routed-expert shard and
// reduce (and ZeRO-shard) its gradients (Megatron-Core's expert data-parallel group, with its
// own gradient buckets). In the tp-cp-ep-dp-pp order its members are the cp context-parallel
// ranks (stride tp) of each of the dp/ep data-parallel replicas of an expert-parallel rank
// (stride tp*cp*ep). `dp` is the user's dense data-parallel size (without cp), ep divides
// dp*cp. Its span is the product of two SpanOf calls:
//   inner = SpanOf(cp, tp), outer = SpanOf(dp/ep, tp*cp*ep)
//   size = cp*dp/ep, ranks_per_node = inner.rpn * outer.rpn, nodes = inner.nodes * outer.nodes
// (outer stride >= gpus_per_node: every replica's CP block on its own nodes; otherwise the CP
// block lies inside a node and outer packs whole blocks per node; exact for power-of-two
// layouts, as SpanOf). When ep does not divide dp the expert-parallel group also spans CP
// ranks and the group is taken as dp*cp/ep ranks at stride tp.
hw::GroupSpan ExpertDataParallelSpan(std::int64_t tp, std::int64_t cp, std::int64_t dp,
                                     std::int64_t ep, std::int32_t gpus_per_node);

// Seconds of a context-parallel ring exchange of `bytes` in total over span.size - 1 steps,
// each a point-to-point transfer of bytes / (size - 1) to the next rank of the ring (over the
// NIC when the group spans nodes: the slowest hop paces every step).
double ContextRingSeconds(const hw::HardwareProfile& hw, double bytes, const hw::GroupSpan& span);

// Ring attention overlaps step i's K/V transfer with step i-1's attention block: of the cp
// blocks, cp-1 can hide a transfer. Each cp_ring_kv / cp_ring_kv_bwd op in `ops` keeps its
// bytes and is charged only its exposed time, max(0, ring - (cp-1)/cp * attention), attention
// being the flash-attention op that follows it.
void OverlapRingAttention(std::vector<CostedOp>& ops, std::int64_t cp);

// Model states of a stage rank holding `dense_params` parameters (sharded by ZeRO over
// plan.dp ranks) and `expert_params` routed-expert parameters (sharded over plan.dp / ep).
// plan.dp here is the gradient-reduction group (GradReduceRanks of the user's plan).
ModelStates StageModelStates(double dense_params, double expert_params, Dtype dtype,
                             const Plan& plan);

}  // namespace foresight::plan
