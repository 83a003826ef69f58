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
// attention core backward is 2x its forward.
#pragma once

#include <cstdint>
#include <vector>

#include "base/dtype.h"
#include "models/ops/model_config.h"
#include "models/ops/op.h"

namespace foresight::ops {

// Fusion rules (each changes kernel count and HBM bytes; see docs/model.md).
struct FusionRules {
  bool bias_gelu = true;            // bias + activation in one kernel
  bool bias_dropout_add = true;     // bias + dropout + residual add in one kernel
  bool softmax_mask = true;         // scale + mask + softmax (+ dropout) in one kernel (unfused attn)
  bool norm = true;                 // norm as one fused kernel (vs separate mean/var/scale kernels)
  bool norm_residual = false;       // residual add fused into the following norm ("max")
  bool cross_entropy = true;        // fused vocab-parallel cross entropy
};
// "none": nothing fused; "default": Megatron-LM's default fused kernels; "max": everything above.
FusionRules FusionPreset(std::string_view name, bool* ok);

struct BuildOptions {
  std::int64_t micro_batch = 1;
  std::int64_t tp = 1;
  Dtype dtype = Dtype::kBf16;
  bool flash_attention = true;
  bool dropout = true;  // dropout layers present (attention, hidden); GPT training default
  FusionRules fusion;
};

struct LayerOps {
  std::vector<Op> forward;   // in issue order
  std::vector<Op> backward;  // in issue order (includes weight-gradient GEMMs)
  // Bytes of activations one micro-batch keeps from this forward for the backward, per rank.
  double saved_activation_bytes = 0;
};

// One transformer layer.
LayerOps BuildTransformerLayer(const ModelConfig& model, const BuildOptions& options);
// Token embedding (+ positions), on the first pipeline stage.
LayerOps BuildEmbedding(const ModelConfig& model, const BuildOptions& options);
// Final norm, logits (output projection) and cross-entropy loss, on the last stage.
LayerOps BuildHead(const ModelConfig& model, const BuildOptions& options);
// Mixed-precision Adam over `params` parameters held by this rank: reads fp32 master weights,
// two fp32 moments and the gradient; writes them and the low-precision weights.
Op BuildAdamStep(double params, Dtype dtype);

// Model FLOPs (matmuls only, forward + backward, no recompute) of one step of `global_batch`
// sequences, summed from the builders above at tp = 1. Equals Narayanan et al. 2021's
// 72*B*s*l*h^2*(1 + s/(6h) + V/(12*l*h)) for GPT shapes.
double ModelFlopsPerStep(const ModelConfig& model, std::int64_t global_batch);

}  // namespace foresight::ops
