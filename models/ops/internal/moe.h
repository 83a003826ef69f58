// The mixture-of-experts block of a transformer layer (models/ops/moe.cc). Not part of the ops
// interface.
#pragma once

#include <vector>

#include "models/ops/internal/op_factory.h"
#include "models/ops/model_config.h"
#include "models/ops/op.h"

namespace foresight::ops::internal {

// Tokens and experts of one rank's MoE block, one micro-batch:
//   router_tokens  tokens the rank routes: T/tp with sequence parallelism (required with tp > 1,
//                  as in Megatron-Core), T otherwise (T = b*s/cp)
//   load           effective load of the busiest rank over the mean: load_imbalance, capped at
//                  capacity_factor when that is > 0 (the excess tokens are dropped)
//   expert_tokens  token-expert pairs the rank's experts process: load * router_tokens * top_k
//                  * tp (the TP ranks of an expert-tensor-parallel group all-gather theirs)
//   local_experts  experts / ep
struct MoeShape {
  double router_tokens = 0;
  double load = 1;
  double expert_tokens = 0;
  std::int64_t local_experts = 1;
  std::int64_t tokens_per_expert = 0;  // ceil(expert_tokens / local_experts): grouped GEMM m
  std::int64_t expert_ffn = 0;         // expert_ffn_hidden / tp
  std::int64_t shared_ffn = 0;         // shared_experts * expert_ffn_hidden / tp
};
MoeShape MakeMoeShape(const Dims& d, const ModelConfig& model);

// Forward from the post-attention norm output to the block output (before the MLP residual),
// backward the reverse; saved activation bytes of the block (replacing the dense MLP's).
void MoeForward(std::vector<Op>& ops, const Dims& d, const ModelConfig& model,
                const FusionRules& f);
void MoeBackward(std::vector<Op>& ops, const Dims& d, const ModelConfig& model,
                 const FusionRules& f);
double MoeSavedBytes(const Dims& d, const ModelConfig& model, const FusionRules& f);

}  // namespace foresight::ops::internal
