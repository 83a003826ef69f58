// Op: one kernel (or one collective) of a training step, with exact FLOP and byte counts.
//
// FLOPs count a multiply-add as 2. GEMM FLOPs are 2*m*n*k*batch. Bytes are the bytes the kernel
// reads plus writes in HBM at the op's storage dtype (operands, results, saved masks/stats).
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
  kBackward,  // input-gradient (data-gradient) work, and elementwise backward
  kWeightGrad,  // weight-gradient GEMMs
  kOptimizer,
};

enum class CommGroup : std::uint8_t { kNone, kTensor, kData, kPipeline };
enum class CollectiveKind : std::uint8_t { kNone, kAllReduce, kAllGather, kReduceScatter, kSendRecv };

struct Op {
  std::string name;  // e.g. "qkv_proj", "attn_flash", "mlp_fc1", "tp_allreduce"
  OpKind kind = OpKind::kElementwise;
  Pass pass = Pass::kForward;
  // GEMM shape (per rank, after tensor-parallel sharding); zero for non-GEMMs.
  std::int64_t m = 0, n = 0, k = 0, batch = 1;
  double flops = 0;         // per rank
  double bytes = 0;         // HBM bytes read + written, per rank
  bool model_flops = false; // counted in model FLOPs (matmuls incl. attention and logits)
  // Collectives: group and bytes (the full buffer per rank, nccl-tests "size").
  CommGroup group = CommGroup::kNone;
  CollectiveKind collective = CollectiveKind::kNone;
  double comm_bytes = 0;
};

std::string_view OpKindName(OpKind kind);
std::string_view PassName(Pass pass);

}  // namespace foresight::ops
