// Builds the op sequences of one training step of a decoder-only transformer, for one rank of a
// tensor-parallel group of size tp (Megatron-LM sharding: QKV and MLP-in are column-parallel,
// attention heads split across ranks, output and MLP-out projections row-parallel; the vocab
// is split across ranks for the embedding, logits and loss).
//
// Every op carries exact FLOPs and bytes (see op.h). The TP all-reduces appear as collective
// ops in the sequence, where Megatron issues them: forward after the attention output
// projection and after MLP-out (the "g" operator); backward after the QKV and MLP-in input
// gradients (the "f" operator); the vocab-parallel embedding all-reduces its output.
//
// Per-layer forward GEMM FLOPs per rank (b = micro-batch, s = seq, h = hidden, f = ffn,
// kv = kv_heads * head_dim):
//   qkv 2bsh(h + 2kv)/tp, scores 2bs^2h/tp, context 2bs^2h/tp, proj 2bsh^2/tp,
//   mlp 4bshf/tp (gelu) or 6bshf/tp (swiglu).
// Backward: each GEMM has a data-gradient and a weight-gradient GEMM of the same FLOPs;
// attention core backward is 2x its forward. GEMM bytes: operands read once, result written
// once; weight-gradient GEMMs read and write the fp32 main gradient (Megatron's
// gradient_accumulation_fusion), 8 bytes per weight.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/dtype.h"
#include "models/ops/model_config.h"
#include "models/ops/op.h"

namespace foresight::ops {

// Fusion rules (each changes kernel count and HBM bytes; see docs/model.md).
struct FusionRules {
  bool bias_gelu = true;         // bias + activation (gelu or swiglu) in one kernel
  bool bias_dropout_add = true;  // bias + dropout + residual add in one kernel
  bool softmax_mask = true;      // scale + mask + softmax in one kernel (unfused attention)
  bool softmax_dropout = false;  // attention dropout fused into that softmax kernel ("max")
  bool norm = true;              // norm as one fused kernel (vs separate stats/scale kernels)
  bool norm_residual = false;    // bias-dropout-add fused into the following norm ("max");
                                 // needs `norm`
  bool cross_entropy = false;    // fused vocab-parallel cross entropy (two passes over the
                                 // logits); Megatron-LM's --cross-entropy-loss-fusion, off by
                                 // default, so "default" runs the eager PyTorch version
};
// "none": nothing fused; "default": Megatron-LM's default fused kernels (= FusionRules{});
// "max": default + softmax_dropout, norm_residual, cross_entropy. Unknown names set *ok =
// false (ok may be null) and return the default rules.
FusionRules FusionPreset(std::string_view name, bool* ok);

// Preconditions (FS_CHECK; plan validation reports them to users): micro_batch, tp >= 1; tp
// divides heads and ffn_hidden; heads divides hidden; tp divides kv_heads or kv_heads divides tp
// (then each rank keeps one replicated KV head). The vocabulary is split ceil(vocab/tp) per rank.
// Element sizes: activations, GEMM outputs and weights at BytesOf(dtype), except fp8 where only
// GEMM operands are 1 byte and everything stored is bf16 (Transformer Engine's fp8 recipe), and
// each Transformer Engine GEMM gets its cast kernels (internal/fp8_casts.h): forward
// "<gemm>_fp8_cast_input" and "<gemm>_fp8_cast_weight" before the GEMM, backward
// "<gemm>_fp8_cast_grad" before "<gemm>_dgrad". Masks are 1 byte (torch.bool), statistics and
// losses fp32.
// Context-parallel K/V exchange (plan.cp_comm).
enum class CpComm : std::uint8_t { kRing, kAllGather };

// sequence_parallel: norms, dropout and residual adds run on s/tp tokens; each TP all-reduce
// becomes a reduce-scatter (forward after the row-parallel GEMM, backward after the
// column-parallel data gradient) and an all-gather (forward before the column-parallel GEMM,
// backward before the row-parallel data gradient), of the same buffer (Korthikanti et al.
// 2022, Sec. 4.2.2). Needs tp to divide s/cp.
// cp > 1: every rank holds s/cp tokens of each sequence (Megatron's causal load balancing: 2cp
// chunks, rank i keeps chunks i and 2cp-1-i, so each does 1/cp of the causal work); attention
// needs all keys: ring (cp-1 point-to-point steps of the local K/V chunk, overlapped with the
// attention blocks; backward sends K/V and dK/dV) or all-gather (K/V all-gathered forward,
// dK/dV reduce-scattered backward). Needs flash attention and 2cp dividing s.
// ep: expert-parallel group size; each rank keeps experts/ep routed experts (sharded by tp, as
// Megatron-Core's default expert tensor parallelism = tp).
struct BuildOptions {
  std::int64_t micro_batch = 1;
  std::int64_t tp = 1;
  bool sequence_parallel = false;
  std::int64_t cp = 1;
  CpComm cp_comm = CpComm::kRing;
  std::int64_t ep = 1;
  Dtype dtype = Dtype::kBf16;
  bool flash_attention = true;
  bool dropout = true;  // dropout layers present (attention, hidden); GPT training default
  FusionRules fusion;
  // fp8 only: the share of the weight casts each micro-batch pays. Transformer Engine casts a
  // weight once per step when the framework passes is_first_microbatch (Megatron-Core: 1/m of
  // the cast per micro-batch, m micro-batches, so the step total is exact and only its place in
  // the schedule is spread), and on every call when the weights are re-gathered for each
  // micro-batch (FSDP / ZeRO-3: 1).
  double fp8_weight_cast_share = 1.0;
};

// Op sequences and names (per rank; GEMMs are "<name>" forward, "<name>_dgrad" and
// "<name>_wgrad" backward; elementwise backward kernels are "<name>_bwd"):
//   layer forward: input_norm, qkv_proj, [rope_q, rope_k], attention core, attn_out_proj,
//     [tp_allreduce], attn residual block, post_attn_norm, mlp_fc1, activation, mlp_fc2,
//     [tp_allreduce], mlp residual block.
//   attention core: attn_flash, or [attn_expand_kv] attn_scores, attn_softmax (or attn_mask +
//     attn_softmax, attn_softmax_dropout, or the fp32 fallback: SoftmaxPathFor, layer_builder.cc)
//     [attn_probs_dropout], attn_context; the batched GEMMs have two data-gradient GEMMs each
//     (attn_context_dgrad_probs/_v, attn_scores_dgrad_q/_k) and no weight gradient.
//   residual block: "<attn|mlp>_bias_dropout_add" fused (parts absent from the model are dropped
//     from the name: "mlp_add" for a model without bias and dropout) or separate _bias,
//     _dropout, _residual_add kernels. With norm_residual the block is one kernel with the
//     following norm ("attn_bias_dropout_add_norm"): the layer then has no input_norm and its
//     MLP block computes the next layer's input norm (the embedding computes layer 0's, and
//     the head has no final_norm), so a stack of layers has exactly the kernels of the model.
//   layer backward: the reverse; the TP all-reduces follow qkv_proj_dgrad and mlp_fc1_dgrad;
//     each norm backward is followed by residual_grad_add (the gradient of the residual stream
//     summed with the norm branch), which the norm_residual kernels do themselves.
//   embedding: embedding_gather, [tp_allreduce], [pos_embedding_gather, embedding_add],
//     [embedding_dropout]; backward embedding_dropout_bwd, [pos_embedding_wgrad],
//     embedding_wgrad, embedding_grad_accum.
//   head: final_norm, logits, cross-entropy kernels with tp_allreduce_ce_max and
//     tp_allreduce_ce_sum; backward ce_bwd kernels, logits_dgrad, [tp_allreduce],
//     logits_wgrad, final_norm_bwd.
// Dropout appears only when options.dropout; rope only without learned positions; the
// tp_allreduce ops only when tp > 1. With sequence_parallel each tp_allreduce is a
// tp_reducescatter and a tp_allgather precedes qkv_proj and mlp_fc1 (forward) and
// attn_out_proj_dgrad and mlp_fc2_dgrad (backward). With cp > 1 the attention core starts with
// cp_ring_kv or cp_allgather_kv (backward: cp_ring_kv_bwd, or cp_allgather_kv_bwd before and
// cp_reducescatter_dkv after attn_flash_bwd). MoE layers: models/ops/moe.cc; MLA (DeepSeek):
// mla_down_proj, mla_latent_norm, mla_q_up_proj, mla_kv_up_proj instead of qkv_proj.
struct LayerOps {
  std::vector<Op> forward;   // in issue order
  std::vector<Op> backward;  // in issue order (includes weight-gradient GEMMs)
  // Bytes of activations one micro-batch keeps from this forward for the backward, per rank
  // (without sequence parallelism the norm/residual tensors are replicated across TP ranks;
  // with it they are 1/tp: s*b*h*(34/t + 5*a*s/(h*t)), Korthikanti et al. Sec. 4.2.2).
  // For a GPT layer with unfused attention, dropout and 16-bit activations this is exactly
  // Korthikanti et al. 2022 (Sec. 4.2.1, tensor parallel): s*b*h*(10 + 24/t + 5*a*s/(h*t)).
  // FlashAttention drops the 5as/h term and keeps its fp32 log-sum-exp (4*b*(a/t)*s bytes).
  // FP8 keeps the Transformer Engine GEMM inputs as 1-byte transposes (layer_builder.cc).
  // Small per-token norm statistics are not counted, as in Korthikanti et al. The tensor
  // list (general shapes) is in layer_builder.cc.
  double saved_activation_bytes = 0;
  // Transformer layers only (0 elsewhere): the attention core is forward[attention_core_begin,
  // attention_core_end) — attn_flash, or attn_scores .. attn_context (after RoPE and the KV
  // expansion). Selective recompute (Korthikanti et al. 2022, Sec. 5) replays exactly these
  // ops in the backward and does not keep attention_core_saved_bytes, the part of
  // saved_activation_bytes they alone need: the s x s softmax output, dropout mask and dropout
  // output, e*S2 + S2 + e*S2 with dropout (e*S2 without), i.e. the 5as/h term; with flash
  // attention the fp32 log-sum-exp, 4*b*(a/t)*s. Q, K, V (the core's inputs) and the context
  // (the out-projection's input) stay saved.
  std::int32_t attention_core_begin = 0;
  std::int32_t attention_core_end = 0;
  double attention_core_saved_bytes = 0;
};

// One transformer layer. The builders are O(number of ops) (a few dozen) and allocation-light.
// With model.moe enabled, `moe` selects the MoE block (router, dispatch, experts, combine; see
// models/ops/moe.cc) instead of the dense MLP.
LayerOps BuildTransformerLayer(const ModelConfig& model, const BuildOptions& options,
                               bool moe = false);
// Token embedding (+ positions), on the first pipeline stage. Saves the dropout mask (b*s*h
// bytes). Its backward produces the dense (V/tp) x h weight gradient and adds it into the fp32
// main gradient (Pass::kWeightGrad).
LayerOps BuildEmbedding(const ModelConfig& model, const BuildOptions& options);
// Final norm, logits (output projection) and cross-entropy loss, on the last stage. Saves the
// final-norm input and the logits input (e*b*s*h each) and the fp32 softmax (4*b*s*V/tp).
LayerOps BuildHead(const ModelConfig& model, const BuildOptions& options);
// Mixed-precision Adam over `params` parameters held by this rank: reads fp32 master weights,
// two fp32 moments and the gradient; writes them and the low-precision weights. Per parameter:
// 4 (fp32 main grad, as Megatron keeps) + 12 read + 12 written + 2 (bf16/fp16 weight; fp8 runs
// keep bf16 weights) = 30 B; fp32/tf32 has no master copy: 28 B. 12 FLOPs per parameter.
Op BuildAdamStep(double params, Dtype dtype);

// Model FLOPs (matmuls only, forward + backward, no recompute) of one step of `global_batch`
// sequences, summed from the builders above at tp = 1. Equals Narayanan et al. 2021's
// 72*B*s*l*h^2*(1 + s/(6h) + V/(12*l*h)) for GPT shapes.
double ModelFlopsPerStep(const ModelConfig& model, std::int64_t global_batch);

}  // namespace foresight::ops
