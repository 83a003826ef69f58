// Shared pieces of the step builders: per-rank dimensions, op constructors, norm and residual
// kernel groups. Not part of the ops interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/ops/layer_builder.h"
#include "models/ops/model_config.h"
#include "models/ops/op.h"

namespace foresight::ops::internal {

// FLOPs per element of the elementwise kernels. These are operation counts of the arithmetic
// each kernel performs (transcendentals count 1, random-number generation is not counted):
inline constexpr double kAddFlops = 1;            // bias add, residual add
inline constexpr double kDropoutFlops = 2;        // compare with keep probability, scale
inline constexpr double kDropoutBwdFlops = 2;     // mask multiply, scale
inline constexpr double kGeluFlops = 8;           // tanh form: x*0.5*(1+tanh(c*(x+0.044715x^3)))
inline constexpr double kGeluBwdFlops = 12;       // derivative of the above times dy
inline constexpr double kSwigluFlops = 5;         // silu(g) = g/(1+exp(-g)) (4), times up (1)
inline constexpr double kSwigluBwdFlops = 8;      // d_gate (6) and d_up (2) per output element
inline constexpr double kSoftmaxFlops = 5;        // max, subtract, exp, sum, divide
inline constexpr double kSoftmaxBwdFlops = 4;     // y * (dy - sum(dy*y)): mul, sum, sub, mul
inline constexpr double kScaleMaskFlops = 2;      // scale and causal mask select
inline constexpr double kLayerNormFlops = 8;      // mean 1, variance 3, normalize 2, affine 2
inline constexpr double kLayerNormBwdFlops = 12;  // affine grads 3, dxhat 1, row sums 4, dx 4
inline constexpr double kRmsNormFlops = 4;        // square-sum 2, normalize 1, gain 1
inline constexpr double kRmsNormBwdFlops = 8;     // gain grad 2, dxhat 1, row sum 2, dx 3
inline constexpr double kRopeFlops = 3;           // x*cos + rotate(x)*sin
inline constexpr double kAdamFlops = 12;          // m 3, v 4, sqrt+eps 2, divide 1, update 2
inline constexpr double kMaskBytes = 1;           // torch.bool dropout mask
inline constexpr double kFp32Bytes = 4;           // statistics, main gradients, loss logits
inline constexpr double kIndexBytes = 8;          // int64 token ids
// FlashAttention tile: the causal kernel visits (n+1)/(2n) of the n x n tiles, n = s/128.
inline constexpr double kFlashTile = 128;

// Per-rank dimensions of one micro-batch (doubles: they feed byte and FLOP formulas).
struct Dims {
  std::int64_t b = 0, s = 0, tokens = 0, h = 0;
  std::int64_t heads = 0;     // query heads on this rank
  std::int64_t kv_heads = 0;  // key/value heads on this rank (replicated when tp > kv_heads)
  std::int64_t head_dim = 0;
  std::int64_t ffn = 0;    // ffn_hidden / tp
  std::int64_t vocab = 0;  // ceil(vocab / tp)
  std::int64_t tp = 1;
  std::int64_t cp = 1;
  std::int64_t ep = 1;
  std::int64_t s_q = 0;  // query (local) sequence length: s / cp; s stays the key length
  bool sp = false;       // sequence parallelism
  CpComm cp_comm = CpComm::kRing;
  double act = 2;      // bytes of a stored element (activation, weight, GEMM output)
  double gemm_in = 2;  // bytes of a GEMM operand element
  Norm norm = Norm::kLayerNorm;
  bool bias = true;
  bool dropout = true;
  bool rope = false;
  bool swiglu = false;
  // tokens * width, as a double.
  double TokenElems(std::int64_t width) const {
    return static_cast<double>(tokens) * static_cast<double>(width);
  }
};
// Checks the preconditions in layer_builder.h.
Dims MakeDims(const ModelConfig& model, const BuildOptions& options);

// Whether the residual add is fused into the following norm (norm_residual needs a fused norm).
inline bool FuseResidualIntoNorm(const FusionRules& f) { return f.norm_residual && f.norm; }

Op MakeKernel(std::string name, OpKind kind, Pass pass, double flops, double bytes);
Op MakeTpAllReduce(std::string name, Pass pass, double comm_bytes);
Op MakeCollective(std::string name, Pass pass, CommGroup group, CollectiveKind kind,
                  double comm_bytes);
// The tokens of the sequence-parallel region (norms, dropout, residual): tokens / tp with
// sequence parallelism, else tokens.
Dims SequenceShard(const Dims& d);
// The TP reduction after a row-parallel GEMM (forward) or a column-parallel data gradient
// (backward): "tp_allreduce", or "tp_reducescatter" with sequence parallelism; and the
// sequence-parallel "tp_allgather" before a column-parallel GEMM (forward) or a row-parallel
// data gradient (backward). comm_bytes is the full (gathered) buffer, T*h*e, in all three.
Op TpReduce(const Dims& d, Pass pass, double comm_bytes);
Op TpGather(Pass pass, double comm_bytes);
// A GEMM C[m x n] = A[m x k] B[k x n] (x batch) with explicit byte count.
Op MakeGemm(std::string name, Pass pass, std::int64_t m, std::int64_t n, std::int64_t k,
            std::int64_t batch, double bytes, bool model_flops);

// The three GEMMs of a linear layer Y[m x n] = X[m x k] W[k x n]:
//   forward reads X, W (+ bias n), writes Y;
//   "_dgrad" dX[m x k] = dY W^T reads dY, W, writes dX;
//   "_wgrad" dW[k x n] += X^T dY reads X, dY and reads+writes the fp32 main gradient
//   (Megatron's gradient_accumulation_fusion); a GEMM-epilogue bias adds a read of dY for its
//   gradient reduction.
Op LinearForward(std::string name, std::int64_t m, std::int64_t n, std::int64_t k, const Dims& d,
                 bool bias_in_gemm, bool model_flops = true);
Op LinearDgrad(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k,
               const Dims& d);
Op LinearWgrad(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k,
               const Dims& d, bool bias_in_gemm);

// Norm over tokens x h. Fused: one kernel reading x, writing y and fp32 statistics. Unfused:
// the PyTorch composite (stats, normalize, scale[, shift]) with each kernel reading and writing
// HBM; backward four kernels (affine grads, dxhat, row sums, dx).
double NormFlops(Norm norm);
double NormBwdFlops(Norm norm);
double NormParamBytes(const Dims& d);  // gain (+ bias) at storage precision
double NormStatsBytes(const Dims& d);  // fp32 mean/rstd (layernorm) or rstd (rmsnorm)
void AppendNormForward(std::vector<Op>& ops, const std::string& name, const Dims& d, bool fused);
void AppendNormBackward(std::vector<Op>& ops, const std::string& name, const Dims& d, bool fused);
// The residual stream's gradient accumulation: reads two gradients, writes their sum.
Op ResidualGradAdd(const Dims& d);

// Residual block after a row-parallel GEMM: y = residual + dropout(x + bias), and with
// `with_norm` also z = norm(y) in the same kernel (norm_residual). Parts absent from the model
// (bias, dropout) are left out.
void AppendResidualForward(std::vector<Op>& ops, const std::string& prefix, const Dims& d,
                           const FusionRules& fusion, bool with_norm);
// Backward of the block: from dz (with_norm) and the incoming residual gradient, produces the
// branch gradient dx; with_norm also accumulates the residual gradient.
void AppendResidualBackward(std::vector<Op>& ops, const std::string& prefix, const Dims& d,
                            const FusionRules& fusion, bool with_norm);

}  // namespace foresight::ops::internal
