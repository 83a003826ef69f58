// One transformer layer for one tensor-parallel rank (Megatron-LM sharding).
//
// Activations a layer keeps for the backward (saved_activation_bytes), per micro-batch and
// rank, e = activation bytes, T = b*s tokens, a_t = heads/tp, kv_t = kv heads per rank,
// d = head_dim, f_t = ffn/tp, n1 = f_t (gelu) or 2 f_t (swiglu), S2 = b*a_t*s*s:
//   input norm input            e*T*h        (replicated: no sequence parallelism)
//   QKV GEMM input (norm out)   e*T*h
//   Q, K, V after RoPE          unfused: e*T*a_t*d each (GQA K/V are kept expanded to a_t
//                               heads, as Megatron's repeat_interleave before the batched
//                               GEMMs); flash: e*T*(a_t + 2 kv_t)*d
//   unfused attention           softmax output e*S2; with dropout also its mask S2 (1 byte)
//                               and output e*S2  (Korthikanti's 5as/h term)
//   flash attention             fp32 log-sum-exp 4*b*a_t*s (no s x s tensor)
//   out-proj input (context)    e*T*a_t*d
//   attention dropout mask      T*h (1 byte), when dropout
//   post-attention norm input   e*T*h
//   fc1 input (norm out)        e*T*h
//   activation input (fc1 out)  e*T*n1
//   silu output                 e*T*f_t, only for unfused swiglu (separate silu and mul)
//   fc2 input                   e*T*f_t
//   MLP dropout mask            T*h (1 byte), when dropout
//   unfused norms               + e*T*h each (the normalized x kept for the gain gradient)
// GPT shapes (f = 4h, kv = heads, e = 2) sum to T*h*(10 + 24/t) + 5*S2, Korthikanti et al.
// 2022, "Reducing Activation Recomputation in Large Transformer Models", Sec. 4.2.1.
// FP8 (Transformer Engine): a te.Linear keeps for its weight gradient only the fp8 transpose of
// its input (1 byte), not the bf16 input, so the QKV, fc1 and fc2 inputs (and MLA's up-
// projection input) are 1 byte per element; the out-proj input stays bf16 when flash attention
// needs it as its output O, plus the 1-byte transpose (unfused attention: 1 byte only). A GPT
// layer with flash attention keeps T*h + T*h + 4T*h - T*h = 5*T*h bytes less than in bf16.
#include "models/ops/layer_builder.h"

#include <cmath>
#include <string>

#include "models/ops/internal/fp8_casts.h"
#include "models/ops/internal/moe.h"
#include "models/ops/internal/op_factory.h"

namespace foresight::ops {
namespace {

using internal::Dims;
using internal::MakeGemm;
using internal::MakeKernel;

// Context parallelism (cp > 1), per rank, e = activation bytes, chunk = the rank's K and V,
// 2 * b * (s/cp) * kv_t * d * e bytes:
//   ring       forward cp_ring_kv: cp-1 steps of one chunk (comm_bytes = (cp-1) * chunk),
//              priced step by step and overlapped with the attention blocks (plan/cost.cc);
//              backward cp_ring_kv_bwd: K/V and dK/dV travel, 2 * (cp-1) * chunk.
//   allgather  forward cp_allgather_kv: all-gather of the full K/V (cp * chunk, nccl-tests
//              size); backward cp_allgather_kv_bwd (the gathered K/V are not kept) and
//              cp_reducescatter_dkv (cp * chunk).
double ContextChunkBytes(const Dims& d) {
  return 2 * d.TokenElems(d.kv_heads * d.head_dim) * d.act;
}

void AppendContextParallelForward(std::vector<Op>& ops, const Dims& d) {
  if (d.cp <= 1) return;
  const double chunk = ContextChunkBytes(d);
  const auto cp = static_cast<double>(d.cp);
  if (d.cp_comm == CpComm::kRing) {
    ops.push_back(internal::MakeCollective("cp_ring_kv", Pass::kForward, CommGroup::kContext,
                                           CollectiveKind::kSendRecv, (cp - 1) * chunk));
  } else {
    ops.push_back(internal::MakeCollective("cp_allgather_kv", Pass::kForward, CommGroup::kContext,
                                           CollectiveKind::kAllGather, cp * chunk));
  }
}

void AppendContextParallelBackward(std::vector<Op>& ops, const Dims& d) {
  if (d.cp <= 1) return;
  const double chunk = ContextChunkBytes(d);
  const auto cp = static_cast<double>(d.cp);
  if (d.cp_comm == CpComm::kRing) {
    ops.push_back(internal::MakeCollective("cp_ring_kv_bwd", Pass::kBackward, CommGroup::kContext,
                                           CollectiveKind::kSendRecv, 2 * (cp - 1) * chunk));
  } else {
    ops.push_back(internal::MakeCollective("cp_allgather_kv_bwd", Pass::kBackward,
                                           CommGroup::kContext, CollectiveKind::kAllGather,
                                           cp * chunk));
  }
}

void AppendContextParallelBackwardAfter(std::vector<Op>& ops, const Dims& d) {
  if (d.cp <= 1 || d.cp_comm != CpComm::kAllGather) return;
  ops.push_back(internal::MakeCollective("cp_reducescatter_dkv", Pass::kBackward,
                                         CommGroup::kContext, CollectiveKind::kReduceScatter,
                                         static_cast<double>(d.cp) * ContextChunkBytes(d)));
}

double CausalFlashFraction(std::int64_t s) {
  const double tiles = std::ceil(static_cast<double>(s) / internal::kFlashTile);
  return (tiles + 1) / (2 * tiles);
}

// How the unfused attention's scale + mask + softmax runs. Megatron's FusedScaleMaskSoftmax
// uses its fused CUDA kernel only when is_kernel_available holds (megatron/model/
// fused_softmax.py; the same test in Megatron-DeepSpeed and megatron/core/fusions/
// fused_softmax.py): 16-bit input, 16 < s_k <= 16384 (4096 in Megatron-DeepSpeed, 2048 in the
// 2021 code vTrain measured), s_q and s_k multiples of 4, and b * a_t a multiple of
// batch_per_block (4 for s_k > 128, 8 below: 128 threads per block, warps of
// min(32, next_pow2(s_k)) threads, 2 rows per warp at s_k <= 128). Otherwise it runs
// forward_torch_softmax: eager PyTorch ops in fp32 (softmax_in_fp32, set by
// apply_query_key_layer_scaling). fusion.softmax_mask = false models a run without the fused
// kernel in fp16 (kUnfused).
enum class SoftmaxPath : std::uint8_t { kFused, kTorchFp32, kUnfused };
SoftmaxPath SoftmaxPathFor(const Dims& d, const FusionRules& f) {
  if (!f.softmax_mask) return SoftmaxPath::kUnfused;
  const std::int64_t sk = d.s, sq = d.s_q, batches = d.b * d.heads;
  const std::int64_t per_block = sk <= 128 ? 8 : 4;
  const bool available = d.act == 2 && sk > 16 && sk <= 16384 && sq % 4 == 0 && sk % 4 == 0 &&
                         batches % per_block == 0;
  return available ? SoftmaxPath::kFused : SoftmaxPath::kTorchFp32;
}

struct AttentionSizes {
  double q;   // element counts (not bytes): T*a_t*d
  double kv;  // T*kv_t*d
  double s2;  // b*a_t*s*s
};
AttentionSizes Sizes(const Dims& d) {
  return {d.TokenElems(d.heads * d.head_dim), d.TokenElems(d.kv_heads * d.head_dim),
          static_cast<double>(d.b * d.heads) * static_cast<double>(d.s) * static_cast<double>(d.s)};
}

// s_q = s/cp local queries against all s keys (= s x s without context parallelism).
double FlashForwardFlops(const Dims& d) {
  return 4.0 * static_cast<double>(d.b * d.heads) * static_cast<double>(d.s_q) *
         static_cast<double>(d.s) * static_cast<double>(d.head_dim);
}

// Appends the attention forward; *core_begin is set to the index of the first op of the
// attention core (after RoPE and the KV expansion), the part selective recompute replays.
void AttentionForward(std::vector<Op>& ops, const Dims& d, const BuildOptions& o,
                      std::int32_t* core_begin) {
  const AttentionSizes z = Sizes(d);
  const double e = d.act;
  if (d.rope) {
    ops.push_back(MakeKernel("rope_q", OpKind::kElementwise, Pass::kForward,
                             internal::kRopeFlops * z.q, 2 * z.q * e));
    ops.push_back(MakeKernel("rope_k", OpKind::kElementwise, Pass::kForward,
                             internal::kRopeFlops * z.kv, 2 * z.kv * e));
  }
  if (o.flash_attention) {
    *core_begin = static_cast<std::int32_t>(ops.size());
    AppendContextParallelForward(ops, d);
    const double flops = FlashForwardFlops(d);
    Op op = MakeKernel("attn_flash", OpKind::kFlashAttention, Pass::kForward, flops,
                       (2 * z.q + 2 * z.kv) * e + internal::kFp32Bytes * d.TokenElems(d.heads));
    op.model_flops = true;
    op.executed_flops = flops * CausalFlashFraction(d.s);
    ops.push_back(op);
    return;
  }
  const std::int64_t batch = d.b * d.heads;
  if (d.kv_heads != d.heads) {
    ops.push_back(MakeKernel("attn_expand_kv", OpKind::kElementwise, Pass::kForward, 0,
                             2 * z.kv * e + 2 * z.q * e));
  }
  *core_begin = static_cast<std::int32_t>(ops.size());
  ops.push_back(MakeGemm("attn_scores", Pass::kForward, d.s, d.s, d.head_dim, batch,
                         2 * z.q * d.gemm_in + z.s2 * e, true));
  const SoftmaxPath path = SoftmaxPathFor(d, o.fusion);
  const bool fused_dropout = path == SoftmaxPath::kFused && o.fusion.softmax_dropout && d.dropout;
  const double mask = z.s2 * internal::kMaskBytes;
  if (path == SoftmaxPath::kTorchFp32) {
    // Megatron's forward_torch_softmax: input.float(), input * scale, masked_fill_, softmax,
    // probs.half(); each a PyTorch kernel over the s x s scores, in fp32 between the casts.
    const double f = internal::kFp32Bytes;
    const double causal_mask = static_cast<double>(d.s * d.s) * internal::kMaskBytes;
    const bool casts = e < f;  // fp32 activations: no casts
    if (casts) {
      ops.push_back(MakeKernel("attn_softmax_upcast", OpKind::kElementwise, Pass::kForward, 0,
                               (e + f) * z.s2));
    }
    ops.push_back(
        MakeKernel("attn_scale", OpKind::kElementwise, Pass::kForward, z.s2, 2 * f * z.s2));
    ops.push_back(MakeKernel("attn_mask", OpKind::kElementwise, Pass::kForward, z.s2,
                             2 * f * z.s2 + causal_mask));
    ops.push_back(MakeKernel("attn_softmax", OpKind::kElementwise, Pass::kForward,
                             internal::kSoftmaxFlops * z.s2, 2 * f * z.s2));
    if (casts) {
      ops.push_back(MakeKernel("attn_softmax_downcast", OpKind::kElementwise, Pass::kForward, 0,
                               (f + e) * z.s2));
    }
  } else if (path == SoftmaxPath::kUnfused) {
    const double causal_mask = static_cast<double>(d.s * d.s) * internal::kMaskBytes;
    ops.push_back(MakeKernel("attn_mask", OpKind::kElementwise, Pass::kForward,
                             internal::kScaleMaskFlops * z.s2, 2 * z.s2 * e + causal_mask));
    ops.push_back(MakeKernel("attn_softmax", OpKind::kElementwise, Pass::kForward,
                             internal::kSoftmaxFlops * z.s2, 2 * z.s2 * e));
  } else if (fused_dropout) {
    ops.push_back(MakeKernel(
        "attn_softmax_dropout", OpKind::kElementwise, Pass::kForward,
        (internal::kScaleMaskFlops + internal::kSoftmaxFlops + internal::kDropoutFlops) * z.s2,
        3 * z.s2 * e + mask));
  } else {
    ops.push_back(MakeKernel("attn_softmax", OpKind::kElementwise, Pass::kForward,
                             (internal::kScaleMaskFlops + internal::kSoftmaxFlops) * z.s2,
                             2 * z.s2 * e));
  }
  if (d.dropout && !fused_dropout) {
    ops.push_back(MakeKernel("attn_probs_dropout", OpKind::kElementwise, Pass::kForward,
                             internal::kDropoutFlops * z.s2, 2 * z.s2 * e + mask));
  }
  ops.push_back(MakeGemm("attn_context", Pass::kForward, d.s, d.head_dim, d.s, batch,
                         (z.s2 + z.q) * d.gemm_in + z.q * e, true));
}

void AttentionBackward(std::vector<Op>& ops, const Dims& d, const BuildOptions& o) {
  const AttentionSizes z = Sizes(d);
  const double e = d.act;
  if (o.flash_attention) {
    AppendContextParallelBackward(ops, d);
    const double fwd = FlashForwardFlops(d);
    // Reads Q, K, V, O, dO and the log-sum-exp; writes dQ, dK, dV.
    Op op = MakeKernel("attn_flash_bwd", OpKind::kFlashAttention, Pass::kBackward, 2 * fwd,
                       (3 * z.q + 2 * z.kv) * e + internal::kFp32Bytes * d.TokenElems(d.heads) +
                           (z.q + 2 * z.kv) * e);
    op.model_flops = true;
    op.executed_flops = 2.5 * fwd * CausalFlashFraction(d.s);
    ops.push_back(op);
    AppendContextParallelBackwardAfter(ops, d);
  } else {
    const std::int64_t batch = d.b * d.heads;
    const double mask = z.s2 * internal::kMaskBytes;
    const SoftmaxPath path = SoftmaxPathFor(d, o.fusion);
    const bool fused_dropout = path == SoftmaxPath::kFused && o.fusion.softmax_dropout && d.dropout;
    // attn_context: C = P V. dP = dC V^T (s x s x d), dV = P^T dC (s x d x s).
    ops.push_back(MakeGemm("attn_context_dgrad_probs", Pass::kBackward, d.s, d.s, d.head_dim, batch,
                           2 * z.q * d.gemm_in + z.s2 * e, true));
    ops.push_back(MakeGemm("attn_context_dgrad_v", Pass::kBackward, d.s, d.head_dim, d.s, batch,
                           (z.s2 + z.q) * d.gemm_in + z.q * e, true));
    if (d.dropout && !fused_dropout) {
      ops.push_back(MakeKernel("attn_probs_dropout_bwd", OpKind::kElementwise, Pass::kBackward,
                               internal::kDropoutBwdFlops * z.s2, 2 * z.s2 * e + mask));
    }
    if (path == SoftmaxPath::kTorchFp32) {
      // Autograd of the fallback above, in reverse: the half() cast back to fp32, softmax
      // backward (reads dy and the fp32 output), masked_fill (zeroes the masked gradient),
      // the scale, and the float() cast back to 16 bits.
      const double f = internal::kFp32Bytes;
      const double causal_mask = static_cast<double>(d.s * d.s) * internal::kMaskBytes;
      const bool casts = e < f;
      if (casts) {
        ops.push_back(MakeKernel("attn_softmax_downcast_bwd", OpKind::kElementwise, Pass::kBackward,
                                 0, (e + f) * z.s2));
      }
      ops.push_back(MakeKernel("attn_softmax_bwd", OpKind::kElementwise, Pass::kBackward,
                               internal::kSoftmaxBwdFlops * z.s2, 3 * f * z.s2));
      ops.push_back(MakeKernel("attn_mask_bwd", OpKind::kElementwise, Pass::kBackward, z.s2,
                               2 * f * z.s2 + causal_mask));
      ops.push_back(
          MakeKernel("attn_scale_bwd", OpKind::kElementwise, Pass::kBackward, z.s2, 2 * f * z.s2));
      if (casts) {
        ops.push_back(MakeKernel("attn_softmax_upcast_bwd", OpKind::kElementwise, Pass::kBackward,
                                 0, (f + e) * z.s2));
      }
    } else if (fused_dropout) {
      ops.push_back(MakeKernel("attn_softmax_dropout_bwd", OpKind::kElementwise, Pass::kBackward,
                               (internal::kDropoutBwdFlops + internal::kSoftmaxBwdFlops + 1) * z.s2,
                               3 * z.s2 * e + mask));
    } else {
      ops.push_back(
          MakeKernel("attn_softmax_bwd", OpKind::kElementwise, Pass::kBackward,
                     (internal::kSoftmaxBwdFlops + (path == SoftmaxPath::kFused ? 1 : 0)) * z.s2,
                     3 * z.s2 * e));
    }
    if (path == SoftmaxPath::kUnfused) {
      ops.push_back(MakeKernel("attn_mask_bwd", OpKind::kElementwise, Pass::kBackward, z.s2,
                               2 * z.s2 * e + static_cast<double>(d.s * d.s)));
    }
    // attn_scores: S = Q K^T. dQ = dS K, dK = dS^T Q (both s x d x s).
    for (const char* name : {"attn_scores_dgrad_q", "attn_scores_dgrad_k"}) {
      ops.push_back(MakeGemm(name, Pass::kBackward, d.s, d.head_dim, d.s, batch,
                             (z.s2 + z.q) * d.gemm_in + z.q * e, true));
    }
    if (d.kv_heads != d.heads) {
      ops.push_back(MakeKernel("attn_expand_kv_bwd", OpKind::kElementwise, Pass::kBackward,
                               2 * (z.q - z.kv), 2 * z.q * e + 2 * z.kv * e));
    }
  }
  if (d.rope) {
    ops.push_back(MakeKernel("rope_k_bwd", OpKind::kElementwise, Pass::kBackward,
                             internal::kRopeFlops * z.kv, 2 * z.kv * e));
    ops.push_back(MakeKernel("rope_q_bwd", OpKind::kElementwise, Pass::kBackward,
                             internal::kRopeFlops * z.q, 2 * z.q * e));
  }
}

std::string ActivationName(const Dims& d, bool fused) {
  const bool fused_bias = d.bias && fused;
  if (d.swiglu) return fused_bias ? "mlp_bias_swiglu" : "mlp_swiglu";
  return fused_bias ? "mlp_bias_gelu" : "mlp_gelu";
}

void ActivationForward(std::vector<Op>& ops, const Dims& d, const FusionRules& f) {
  const double out = d.TokenElems(d.ffn);      // elements of the activation output
  const double in = d.swiglu ? 2 * out : out;  // elements of fc1's output
  const double bias = (d.swiglu ? 2.0 : 1.0) * static_cast<double>(d.ffn) * d.act;
  const double e = d.act;
  if (d.bias && !f.bias_gelu) {
    ops.push_back(MakeKernel("mlp_fc1_bias", OpKind::kElementwise, Pass::kForward,
                             internal::kAddFlops * in, 2 * in * e + bias));
  }
  if (d.swiglu && !f.bias_gelu) {
    ops.push_back(MakeKernel("mlp_silu", OpKind::kElementwise, Pass::kForward,
                             (internal::kSwigluFlops - 1) * out, 2 * out * e));
    ops.push_back(
        MakeKernel("mlp_swiglu_mul", OpKind::kElementwise, Pass::kForward, out, 3 * out * e));
    return;
  }
  const bool bias_here = d.bias && f.bias_gelu;
  const double act_flops = d.swiglu ? internal::kSwigluFlops : internal::kGeluFlops;
  ops.push_back(MakeKernel(ActivationName(d, f.bias_gelu), OpKind::kElementwise, Pass::kForward,
                           act_flops * out + (bias_here ? internal::kAddFlops * in : 0),
                           (in + out) * e + (bias_here ? bias : 0)));
}

void ActivationBackward(std::vector<Op>& ops, const Dims& d, const FusionRules& f) {
  const double out = d.TokenElems(d.ffn);
  const double in = d.swiglu ? 2 * out : out;
  const double e = d.act;
  const double bias_elems = (d.swiglu ? 2.0 : 1.0) * static_cast<double>(d.ffn);
  const double bias_grad = bias_elems * internal::kFp32Bytes;
  if (d.swiglu && !f.bias_gelu) {
    ops.push_back(MakeKernel("mlp_swiglu_mul_bwd", OpKind::kElementwise, Pass::kBackward, 2 * out,
                             5 * out * e));
    ops.push_back(MakeKernel("mlp_silu_bwd", OpKind::kElementwise, Pass::kBackward,
                             (internal::kSwigluBwdFlops - 2) * out, 3 * out * e));
    ops.push_back(
        MakeKernel("mlp_swiglu_cat_bwd", OpKind::kElementwise, Pass::kBackward, 0, 2 * in * e));
  } else {
    const bool bias_here = d.bias && f.bias_gelu;
    const double act_flops = d.swiglu ? internal::kSwigluBwdFlops : internal::kGeluBwdFlops;
    // Reads dy and the saved input (+ bias); writes dx (+ the fp32 bias gradient).
    const double bias_bytes = bias_here ? bias_grad + bias_elems * e : 0;
    ops.push_back(MakeKernel(ActivationName(d, f.bias_gelu) + "_bwd", OpKind::kElementwise,
                             Pass::kBackward,
                             act_flops * out + (bias_here ? internal::kAddFlops * in : 0),
                             (out + 2 * in) * e + bias_bytes));
  }
  if (d.bias && !f.bias_gelu) {
    ops.push_back(MakeKernel("mlp_fc1_bias_bwd", OpKind::kElementwise, Pass::kBackward,
                             internal::kAddFlops * in, in * e + bias_grad));
  }
}

// Bytes per s x s element kept for the backward: the softmax output (for the softmax
// backward), the dropout mask and output (for the context GEMM's backward). On the fp32
// fallback the softmax keeps its fp32 output and, without dropout, the context GEMM its 16-bit
// cast of it.
double ScoreSavedBytes(const Dims& d, const FusionRules& f) {
  const double dropout = d.dropout ? d.act + internal::kMaskBytes : 0.0;
  if (SoftmaxPathFor(d, f) != SoftmaxPath::kTorchFp32) return d.act + dropout;
  const double cast = d.act < internal::kFp32Bytes && !d.dropout ? d.act : 0.0;
  return internal::kFp32Bytes + dropout + cast;
}

// The part of SavedActivationBytes that lives inside the attention core: the s x s tensors
// (softmax output, dropout mask and output) or flash attention's log-sum-exp.
double AttentionCoreSavedBytes(const Dims& d, const BuildOptions& o) {
  if (o.flash_attention) return internal::kFp32Bytes * d.TokenElems(d.heads);
  const AttentionSizes z = Sizes(d);
  return z.s2 * ScoreSavedBytes(d, o.fusion);
}

// With sequence parallelism the tensors of the sequence-parallel region (norm inputs, the
// QKV/fc1 inputs, which Megatron keeps sharded and re-gathers in the backward, and the dropout
// masks) are 1/tp: a GPT layer then keeps s*b*h*(34/t + 5*a*s/(h*t)), Korthikanti et al. 2022,
// Sec. 4.2.2. The attention part and the MLP part are separate so that MoE layers replace the
// latter (moe.cc).
double SavedAttentionBytes(const Dims& d, const ModelConfig& model, const BuildOptions& o) {
  const AttentionSizes z = Sizes(d);
  const double e = d.act;
  const double th = internal::SequenceShard(d).TokenElems(d.h);
  const double g = d.gemm_in;      // a Transformer Engine GEMM input is kept as its fp8 transpose
  double saved = th * e + th * g;  // input norm input, QKV input
  if (model.mla.enabled()) {
    // The latent (down-projection output) and its normalized copy, the up-projections' input.
    const MlaConfig& mla = model.mla;
    saved += d.TokenElems(mla.q_rank + mla.kv_rank + mla.rope_dim) * (e + g);
  }
  if (o.flash_attention) {
    saved += (z.q + 2 * z.kv) * e + internal::kFp32Bytes * d.TokenElems(d.heads);
  } else {
    saved += 3 * z.q * e;  // Q and K, V expanded to a_t heads
    saved += z.s2 * ScoreSavedBytes(d, o.fusion);
  }
  // Out-proj input (the context): flash attention's backward also needs it (its output O), so
  // in fp8 the bf16 tensor stays and the fp8 transpose comes on top.
  saved += z.q * (o.flash_attention ? e + (g < e ? g : 0.0) : g);
  if (d.dropout) saved += th * internal::kMaskBytes;  // attention residual dropout mask
  saved += th * e;                                    // post-attn norm input
  if (!o.fusion.norm) saved += th * e;                // normalized x of the input norm
  return saved;
}

double SavedMlpBytes(const Dims& d, const BuildOptions& o) {
  const double e = d.act;
  const double th = internal::SequenceShard(d).TokenElems(d.h);
  const double g = d.gemm_in;  // a Transformer Engine GEMM input is kept as its fp8 transpose
  double saved = th * g;       // fc1 input
  saved += d.TokenElems(d.ffn) * (d.swiglu ? 2 : 1) * e;                  // activation input
  if (d.swiglu && !o.fusion.bias_gelu) saved += d.TokenElems(d.ffn) * e;  // silu output
  saved += d.TokenElems(d.ffn) * g;                                       // fc2 input
  if (d.dropout) saved += th * internal::kMaskBytes;  // MLP residual dropout mask
  if (!o.fusion.norm) saved += th * e;                // normalized x of the post-attn norm
  return saved;
}

// The dense MLP block between the post-attention norm and the MLP residual.
void DenseMlpForward(std::vector<Op>& fwd, const Dims& d, const FusionRules& f) {
  const std::int64_t fc1_n = d.swiglu ? 2 * d.ffn : d.ffn;
  const double tp_bytes = d.TokenElems(d.h) * d.act;
  if (d.sp) fwd.push_back(internal::TpGather(Pass::kForward, tp_bytes));
  fwd.push_back(internal::LinearForward("mlp_fc1", d.tokens, fc1_n, d.h, d, false));
  ActivationForward(fwd, d, f);
  fwd.push_back(internal::LinearForward("mlp_fc2", d.tokens, d.h, d.ffn, d, false));
  if (d.tp > 1) fwd.push_back(internal::TpReduce(d, Pass::kForward, tp_bytes));
}

void DenseMlpBackward(std::vector<Op>& bwd, const Dims& d, const FusionRules& f) {
  const std::int64_t fc1_n = d.swiglu ? 2 * d.ffn : d.ffn;
  const double tp_bytes = d.TokenElems(d.h) * d.act;
  if (d.sp) bwd.push_back(internal::TpGather(Pass::kBackward, tp_bytes));
  bwd.push_back(internal::LinearDgrad("mlp_fc2", d.tokens, d.h, d.ffn, d));
  bwd.push_back(internal::LinearWgrad("mlp_fc2", d.tokens, d.h, d.ffn, d, false));
  ActivationBackward(bwd, d, f);
  bwd.push_back(internal::LinearDgrad("mlp_fc1", d.tokens, fc1_n, d.h, d));
  if (d.tp > 1) bwd.push_back(internal::TpReduce(d, Pass::kBackward, tp_bytes));
  bwd.push_back(internal::LinearWgrad("mlp_fc1", d.tokens, fc1_n, d.h, d, false));
}

// QKV projection forward (one GEMM; with MLA the down projection, latent norm and the two
// up projections) and its backward with the TP reduction of the input gradient.
void QkvForward(std::vector<Op>& fwd, const Dims& d, const ModelConfig& model) {
  const double tp_bytes = d.TokenElems(d.h) * d.act;
  if (d.sp) fwd.push_back(internal::TpGather(Pass::kForward, tp_bytes));
  if (!model.mla.enabled()) {
    const std::int64_t qkv_n = (d.heads + 2 * d.kv_heads) * d.head_dim;
    fwd.push_back(internal::LinearForward("qkv_proj", d.tokens, qkv_n, d.h, d, d.bias));
    return;
  }
  const MlaConfig& mla = model.mla;
  const std::int64_t latent = mla.q_rank + mla.kv_rank;
  const std::int64_t q_in = mla.q_rank > 0 ? mla.q_rank : d.h;
  fwd.push_back(
      internal::LinearForward("mla_down_proj", d.tokens, latent + mla.rope_dim, d.h, d, false));
  fwd.push_back(MakeKernel("mla_latent_norm", OpKind::kNorm, Pass::kForward,
                           internal::NormFlops(d.norm) * d.TokenElems(latent),
                           2 * d.TokenElems(latent) * d.act));
  fwd.push_back(internal::LinearForward("mla_q_up_proj", d.tokens,
                                        d.heads * (d.head_dim + mla.rope_dim), q_in, d, false));
  fwd.push_back(internal::LinearForward("mla_kv_up_proj", d.tokens, d.heads * 2 * d.head_dim,
                                        mla.kv_rank, d, false));
}

void QkvBackward(std::vector<Op>& bwd, const Dims& d, const ModelConfig& model) {
  const double tp_bytes = d.TokenElems(d.h) * d.act;
  if (!model.mla.enabled()) {
    const std::int64_t qkv_n = (d.heads + 2 * d.kv_heads) * d.head_dim;
    bwd.push_back(internal::LinearDgrad("qkv_proj", d.tokens, qkv_n, d.h, d));
    if (d.tp > 1) bwd.push_back(internal::TpReduce(d, Pass::kBackward, tp_bytes));
    bwd.push_back(internal::LinearWgrad("qkv_proj", d.tokens, qkv_n, d.h, d, d.bias));
    return;
  }
  const MlaConfig& mla = model.mla;
  const std::int64_t latent = mla.q_rank + mla.kv_rank;
  const std::int64_t q_in = mla.q_rank > 0 ? mla.q_rank : d.h;
  const std::int64_t q_n = d.heads * (d.head_dim + mla.rope_dim);
  const std::int64_t kv_n = d.heads * 2 * d.head_dim;
  bwd.push_back(internal::LinearDgrad("mla_kv_up_proj", d.tokens, kv_n, mla.kv_rank, d));
  bwd.push_back(internal::LinearWgrad("mla_kv_up_proj", d.tokens, kv_n, mla.kv_rank, d, false));
  bwd.push_back(internal::LinearDgrad("mla_q_up_proj", d.tokens, q_n, q_in, d));
  bwd.push_back(internal::LinearWgrad("mla_q_up_proj", d.tokens, q_n, q_in, d, false));
  bwd.push_back(MakeKernel("mla_latent_norm_bwd", OpKind::kNorm, Pass::kBackward,
                           internal::NormBwdFlops(d.norm) * d.TokenElems(latent),
                           3 * d.TokenElems(latent) * d.act));
  bwd.push_back(internal::LinearDgrad("mla_down_proj", d.tokens, latent + mla.rope_dim, d.h, d));
  if (d.tp > 1) bwd.push_back(internal::TpReduce(d, Pass::kBackward, tp_bytes));
  bwd.push_back(
      internal::LinearWgrad("mla_down_proj", d.tokens, latent + mla.rope_dim, d.h, d, false));
}

}  // namespace

FusionRules FusionPreset(std::string_view name, bool* ok) {
  FusionRules rules;  // "default"
  bool known = true;
  if (name == "none") {
    rules.bias_gelu = false;
    rules.bias_dropout_add = false;
    rules.softmax_mask = false;
    rules.softmax_dropout = false;
    rules.norm = false;
    rules.norm_residual = false;
    rules.cross_entropy = false;
  } else if (name == "max") {
    rules.softmax_dropout = true;
    rules.norm_residual = true;
    rules.cross_entropy = true;
  } else if (name != "default") {
    known = false;
  }
  if (ok != nullptr) *ok = known;
  return rules;
}

LayerOps BuildTransformerLayer(const ModelConfig& model, const BuildOptions& options, bool moe) {
  const Dims d = internal::MakeDims(model, options);
  const Dims dn = internal::SequenceShard(d);  // the sequence-parallel region
  const FusionRules& f = options.fusion;
  const bool fuse_rn = internal::FuseResidualIntoNorm(f);
  const std::int64_t q_width = d.heads * d.head_dim;
  const double tp_bytes = d.TokenElems(d.h) * d.act;
  const bool moe_block = moe && model.moe.enabled();
  LayerOps layer;

  std::vector<Op>& fwd = layer.forward;
  if (!fuse_rn) internal::AppendNormForward(fwd, "input_norm", dn, f.norm);
  QkvForward(fwd, d, model);
  AttentionForward(fwd, d, options, &layer.attention_core_begin);
  layer.attention_core_end = static_cast<std::int32_t>(fwd.size());
  fwd.push_back(internal::LinearForward("attn_out_proj", d.tokens, d.h, q_width, d, false));
  if (d.tp > 1) fwd.push_back(internal::TpReduce(d, Pass::kForward, tp_bytes));
  internal::AppendResidualForward(fwd, "attn", dn, f, fuse_rn);
  if (!fuse_rn) internal::AppendNormForward(fwd, "post_attn_norm", dn, f.norm);
  if (moe_block) {
    internal::MoeForward(fwd, d, model, f);
  } else {
    DenseMlpForward(fwd, d, f);
  }
  internal::AppendResidualForward(fwd, "mlp", dn, f, fuse_rn);

  std::vector<Op>& bwd = layer.backward;
  internal::AppendResidualBackward(bwd, "mlp", dn, f, fuse_rn);
  if (moe_block) {
    internal::MoeBackward(bwd, d, model, f);
  } else {
    DenseMlpBackward(bwd, d, f);
  }
  if (!fuse_rn) {
    internal::AppendNormBackward(bwd, "post_attn_norm", dn, f.norm);
    bwd.push_back(internal::ResidualGradAdd(dn));
  }
  internal::AppendResidualBackward(bwd, "attn", dn, f, fuse_rn);
  if (d.sp) bwd.push_back(internal::TpGather(Pass::kBackward, tp_bytes));
  bwd.push_back(internal::LinearDgrad("attn_out_proj", d.tokens, d.h, q_width, d));
  bwd.push_back(internal::LinearWgrad("attn_out_proj", d.tokens, d.h, q_width, d, false));
  AttentionBackward(bwd, d, options);
  QkvBackward(bwd, d, model);
  if (!fuse_rn) {
    internal::AppendNormBackward(bwd, "input_norm", dn, f.norm);
    bwd.push_back(internal::ResidualGradAdd(dn));
  }

  layer.saved_activation_bytes =
      SavedAttentionBytes(d, model, options) +
      (moe_block ? internal::MoeSavedBytes(d, model, f) : SavedMlpBytes(d, options));
  layer.attention_core_saved_bytes = AttentionCoreSavedBytes(d, options);
  if (options.dtype == Dtype::kFp8) internal::AppendFp8Casts(layer, options.fp8_weight_cast_share);
  return layer;
}

}  // namespace foresight::ops
