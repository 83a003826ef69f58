// Transformer Engine's fp8 cast kernels of a transformer layer (models/ops/internal/
// fp8_casts.cc). Not part of the ops interface.
#pragma once

#include "models/ops/layer_builder.h"

namespace foresight::ops::internal {

// Transformer Engine's fp8 GEMMs (te.Linear and the grouped expert GEMMs, delayed scaling) take
// fp8 operands, so every 16-bit GEMM input is cast first by tex.fp8_cast_transpose_fused, one
// memory-bound kernel that reads the bf16 tensor (2 B per element) and writes its fp8 copy and
// the fp8 transpose the backward GEMMs need (1 + 1 B): 4 B per element, 2 FLOPs (scale, amax).
// Per linear layer Y[m x n] = X[m x k] W[k x n] (op.m, op.n, op.k of the forward GEMM):
//   forward   <gemm>_fp8_cast_input   X            4*m*k B
//             <gemm>_fp8_cast_weight  W            4*k*n B x fp8_weight_cast_share
//   backward  <gemm>_fp8_cast_grad    dY           4*m*n B, before <gemm>_dgrad (op.m x op.k of
//                                                  the data-gradient GEMM dX[m x k] = dY W^T)
// each times the GEMM's batch (grouped expert GEMMs). The weight-gradient GEMM reads the two
// transposes and needs no cast. Not cast: GEMMs outside Transformer Engine (Op::bf16_in_fp8:
// the output layer, the MoE router) and the attention core (bf16 in TE's recipe; its batched
// GEMMs are attn_scores / attn_context and their *_dgrad_* gradients). TE's fused
// LayerNormLinear / LayerNormMLP write the norm output in fp8 directly, saving the read of the
// input cast (2 of its 4 B per element); the unfused te.Linear path is modelled.
//
// Inserts the casts into layer.forward and layer.backward (each right before its GEMM) and
// moves attention_core_begin / attention_core_end past the casts inserted before them.
void AppendFp8Casts(LayerOps& layer, double weight_cast_share);

}  // namespace foresight::ops::internal
