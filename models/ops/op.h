// Op: one kernel (or one collective) of a training step, with exact FLOP and byte counts.
//
// FLOPs count a multiply-add as 2. GEMM FLOPs are 2*m*n*k*batch (a bias added in the GEMM
// epilogue is not counted). `flops` follows the model-FLOPs convention (Narayanan et al. 2021):
// attention counts the full s x s score matrix and an attention backward is 2x its forward;
// `executed_flops` says what the kernel really executes when that differs (a causal
// FlashAttention kernel skips fully masked tiles). Bytes are the bytes the kernel reads plus
// writes in HBM at the op's storage dtype (operands, results, saved masks/stats). Collectives
// carry their buffer size in `comm_bytes` and leave `bytes` at 0: their HBM traffic is part of
// the collective cost model.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace foresight::ops {

enum class OpKind : std::uint8_t {
  kGemm,            // dense matmul (m x k) * (k x n); batch > 1 for batched matmuls
  kFlashAttention,  // fused attention core (scores, softmax, dropout, context) forward/backward
  kElementwise,     // bias, activation, dropout, residual add, softmax, fused elementwise chains
  kNorm,            // layernorm / rmsnorm
  kEmbedding,       // token embedding gather / gradient scatter-add
  kCrossEntropy,    // loss (softmax + nll over the vocabulary)
  kOptimizer,       // optimizer step (memory bound)
  kCollective,      // communication; see CommGroup / CollectiveKind
};

enum class Pass : std::uint8_t {
  kForward,
  kBackward,    // input-gradient (data-gradient) work, and elementwise backward
  kWeightGrad,  // weight-gradient GEMMs (and the embedding's weight-gradient scatter)
  kOptimizer,
};

// kContext: the context-parallel group (cp ranks, stride tp); kExpert: the expert-parallel
// group (ep ranks, stride tp*cp).
enum class CommGroup : std::uint8_t { kNone, kTensor, kData, kPipeline, kContext, kExpert };
enum class CollectiveKind : std::uint8_t {
  kNone,
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kSendRecv,
  kAllToAll
};

struct Op {
  std::string name;  // e.g. "qkv_proj", "attn_flash", "mlp_fc1", "tp_allreduce"
  OpKind kind = OpKind::kElementwise;
  Pass pass = Pass::kForward;
  // GEMM shape (per rank, after tensor-parallel sharding); zero for non-GEMMs.
  std::int64_t m = 0, n = 0, k = 0, batch = 1;
  double flops = 0;          // per rank, model-FLOPs convention (see above)
  double bytes = 0;          // HBM bytes read + written, per rank
  bool model_flops = false;  // counted in model FLOPs (matmuls incl. attention and logits)
  // FLOPs the kernel executes when different from `flops`; 0 = same as `flops`. Set for
  // causal FlashAttention: forward (n+1)/(2n) of `flops` with n = ceil(s/128) query tiles,
  // backward 2.5x forward (it recomputes the scores), times the same fraction.
  double executed_flops = 0;
  // A GEMM of a module outside Transformer Engine: in an fp8 run it keeps bf16 operands and the
  // bf16 peak (TE's fp8_autocast changes only TE modules; the output layer is Megatron-Core's
  // tensor_parallel.ColumnParallelLinear, and llm-foundry's MPT head is F.linear with the tied
  // embedding). No effect in other dtypes.
  bool bf16_in_fp8 = false;
  // Collectives: group and bytes (the full buffer per rank, nccl-tests "size").
  CommGroup group = CommGroup::kNone;
  CollectiveKind collective = CollectiveKind::kNone;
  double comm_bytes = 0;
};

// The FLOPs a cost model should time: executed_flops when set, else flops.
inline double ExecutedFlops(const Op& op) {
  return op.executed_flops > 0 ? op.executed_flops : op.flops;
}

std::string_view OpKindName(OpKind kind);
std::string_view PassName(Pass pass);
std::string_view CommGroupName(CommGroup group);           // "none", "tp", "dp", "pp", "cp", "ep"
std::string_view CollectiveKindName(CollectiveKind kind);  // "all_reduce", ...

}  // namespace foresight::ops
