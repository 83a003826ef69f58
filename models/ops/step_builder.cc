// Embedding, head (final norm, logits, loss), optimizer step and model FLOPs per step.
#include <algorithm>
#include <string>

#include "base/check.h"
#include "models/ops/internal/op_factory.h"
#include "models/ops/layer_builder.h"

namespace foresight::ops {
namespace {

using internal::Dims;
using internal::kFp32Bytes;
using internal::kIndexBytes;
using internal::MakeKernel;

// Vocab-parallel cross entropy over N = T * V/tp logits per rank.
// Fused (two passes over the logits, fp32 exp(logits - max) kept for the backward):
//   ce_max reads the logits; [tp_allreduce_ce_max, T fp32]; ce_exp_sum reads them again and
//   writes the fp32 exponentials and per-token sums; [tp_allreduce_ce_sum, 2T fp32: the target
//   logit and the sum of exponentials, concatenated as in Megatron-core]; backward ce_bwd reads
//   the exponentials and writes the logits gradient.
// Unfused (Megatron's eager vocab_parallel_cross_entropy): cast to fp32, max, subtract max,
//   exp, sum, normalize in place (each a PyTorch kernel over N fp32 elements); backward
//   multiplies the saved softmax by the loss gradient in place and casts back.
void CrossEntropyForward(std::vector<Op>& ops, const Dims& d, bool fused) {
  const double n = d.TokenElems(d.vocab);
  const double t = static_cast<double>(d.tokens);
  const double e = d.act;
  auto add = [&](const char* name, double flops, double bytes) {
    ops.push_back(MakeKernel(name, OpKind::kCrossEntropy, Pass::kForward, flops, bytes));
  };
  auto reduce = [&](const char* name, double values) {
    if (d.tp > 1) {
      ops.push_back(internal::MakeTpAllReduce(name, Pass::kForward, values * t * kFp32Bytes));
    }
  };
  if (fused) {
    add("ce_max", n, n * e + t * kFp32Bytes);
    reduce("tp_allreduce_ce_max", 1);
    add("ce_exp_sum", 3 * n,
        n * e + n * kFp32Bytes + t * (kFp32Bytes + kIndexBytes) + 2 * t * kFp32Bytes);
    reduce("tp_allreduce_ce_sum", 2);
    return;
  }
  add("ce_cast_fp32", 0, n * e + n * kFp32Bytes);
  add("ce_max", n, n * kFp32Bytes + t * kFp32Bytes);
  reduce("tp_allreduce_ce_max", 1);
  add("ce_sub_max", n, 2 * n * kFp32Bytes + t * kFp32Bytes);
  add("ce_exp", n, 2 * n * kFp32Bytes);
  add("ce_sum", n, n * kFp32Bytes + t * kFp32Bytes);
  reduce("tp_allreduce_ce_sum", 2);
  add("ce_normalize", n, 2 * n * kFp32Bytes + t * kFp32Bytes);
}

void CrossEntropyBackward(std::vector<Op>& ops, const Dims& d, bool fused) {
  const double n = d.TokenElems(d.vocab);
  const double t = static_cast<double>(d.tokens);
  const double e = d.act;
  if (fused) {
    // softmax = exp / sum, minus the one-hot target, times the loss gradient.
    ops.push_back(MakeKernel("ce_bwd", OpKind::kCrossEntropy, Pass::kBackward, 3 * n,
                             n * kFp32Bytes + n * e + t * (2 * kFp32Bytes + kIndexBytes)));
    return;
  }
  ops.push_back(MakeKernel("ce_bwd_scale", OpKind::kCrossEntropy, Pass::kBackward, 2 * n,
                           2 * n * kFp32Bytes + t * (kFp32Bytes + kIndexBytes)));
  ops.push_back(
      MakeKernel("ce_bwd_cast", OpKind::kCrossEntropy, Pass::kBackward, 0, n * kFp32Bytes + n * e));
}

}  // namespace

// Embedding forward: the vocab-parallel gather reads the token ids and (on average) the 1/tp of
// the rows that live on this rank, writes T x h, and with tp > 1 zeroes the rows of tokens
// outside the shard (one more write); Megatron all-reduces the output over TP. Learned
// positions: gather s x h rows into T x h, then a separate add. Dropout, or with norm_residual
// dropout + layer 0's input norm in one kernel. Backward: dropout, then the weight gradients:
// PyTorch's dense embedding backward zero-fills the (V/tp) x h gradient and scatter-adds T rows;
// Megatron then adds it into the fp32 main gradient (embedding_grad_accum).
// With sequence parallelism the output is reduce-scattered instead and what follows (positions,
// dropout, the fused norm) runs on the rank's T/tp tokens.
LayerOps BuildEmbedding(const ModelConfig& model, const BuildOptions& options) {
  const Dims full = internal::MakeDims(model, options);
  const Dims d = internal::SequenceShard(full);
  const bool fuse_rn = internal::FuseResidualIntoNorm(options.fusion);
  const double th = d.TokenElems(d.h);
  const double x = th * d.act;
  const double x_full = full.TokenElems(d.h) * d.act;
  const double t = static_cast<double>(d.tokens);
  const double t_full = static_cast<double>(full.tokens);
  const double mask = d.dropout ? th * internal::kMaskBytes : 0;
  const double hd = static_cast<double>(d.h);
  LayerOps out;

  std::vector<Op>& fwd = out.forward;
  fwd.push_back(MakeKernel("embedding_gather", OpKind::kEmbedding, Pass::kForward, 0,
                           t_full * kIndexBytes + x_full / static_cast<double>(d.tp) + x_full +
                               (d.tp > 1 ? x_full : 0)));
  if (d.tp > 1) fwd.push_back(internal::TpReduce(full, Pass::kForward, x_full));
  if (model.learned_positions) {
    const double table = static_cast<double>(d.s) * hd * d.act;
    fwd.push_back(MakeKernel("pos_embedding_gather", OpKind::kEmbedding, Pass::kForward, 0,
                             t * kIndexBytes + table + x));
    fwd.push_back(MakeKernel("embedding_add", OpKind::kElementwise, Pass::kForward,
                             internal::kAddFlops * th, 3 * x));
  }
  const std::string norm_name = d.dropout ? "embedding_dropout_norm" : "embedding_norm";
  if (fuse_rn) {
    // Reads the embedding; writes the residual stream (when dropout changes it), the normed
    // output, the mask and the statistics.
    fwd.push_back(
        MakeKernel(norm_name, OpKind::kNorm, Pass::kForward,
                   ((d.dropout ? internal::kDropoutFlops : 0) + internal::NormFlops(d.norm)) * th,
                   x + (d.dropout ? x : 0) + x + mask + internal::NormParamBytes(d) +
                       internal::NormStatsBytes(d)));
  } else if (d.dropout) {
    fwd.push_back(MakeKernel("embedding_dropout", OpKind::kElementwise, Pass::kForward,
                             internal::kDropoutFlops * th, 2 * x + mask));
  }

  std::vector<Op>& bwd = out.backward;
  if (fuse_rn) {
    // Norm backward of layer 0's input norm, residual gradient accumulation, dropout backward.
    bwd.push_back(MakeKernel(norm_name + "_bwd", OpKind::kNorm, Pass::kBackward,
                             (internal::NormBwdFlops(d.norm) + internal::kAddFlops +
                              (d.dropout ? internal::kDropoutBwdFlops : 0)) *
                                 th,
                             4 * x + mask + internal::NormParamBytes(d) * (1 + kFp32Bytes / d.act) +
                                 internal::NormStatsBytes(d)));
  } else if (d.dropout) {
    bwd.push_back(MakeKernel("embedding_dropout_bwd", OpKind::kElementwise, Pass::kBackward,
                             internal::kDropoutBwdFlops * th, 2 * x + mask));
  }
  if (model.learned_positions) {
    const double rows = static_cast<double>(d.s) * hd;
    bwd.push_back(MakeKernel("pos_embedding_wgrad", OpKind::kEmbedding, Pass::kWeightGrad,
                             th + rows, x + t * kIndexBytes + rows * (2 * d.act + 2 * kFp32Bytes)));
  }
  const double table = static_cast<double>(d.vocab) * hd;
  // With sequence parallelism the gradient is all-gathered back to every TP rank first.
  if (d.sp) bwd.push_back(internal::TpGather(Pass::kBackward, x_full));
  bwd.push_back(MakeKernel("embedding_wgrad", OpKind::kEmbedding, Pass::kWeightGrad,
                           full.TokenElems(d.h), x_full + t_full * kIndexBytes + table * d.act));
  bwd.push_back(MakeKernel("embedding_grad_accum", OpKind::kElementwise, Pass::kWeightGrad, table,
                           table * (d.act + 2 * kFp32Bytes)));

  out.saved_activation_bytes = mask;
  return out;
}

// Head: final norm (absent with norm_residual: the last layer computes it), logits GEMM
// (column-parallel over the vocabulary, m = T, k = h, n = V/tp), cross entropy. Backward: loss
// gradient, logits data gradient, TP all-reduce of that gradient (the copy-to-TP-region of the
// column-parallel output layer), logits weight gradient, final norm backward. Saved: the final
// norm input, the logits input and the fp32 softmax (T * V/tp * 4 bytes).
// With sequence parallelism the final norm runs on T/tp tokens, its output is all-gathered
// before the logits (tp_allgather) and the data gradient is reduce-scattered; the final norm
// input and the logits input are kept sharded (the latter re-gathered in the backward).
LayerOps BuildHead(const ModelConfig& model, const BuildOptions& options) {
  const Dims d = internal::MakeDims(model, options);
  const Dims dn = internal::SequenceShard(d);
  const FusionRules& f = options.fusion;
  const bool fuse_rn = internal::FuseResidualIntoNorm(f);
  const double x = d.TokenElems(d.h) * d.act;
  const double xn = dn.TokenElems(d.h) * d.act;
  LayerOps out;

  if (!fuse_rn) internal::AppendNormForward(out.forward, "final_norm", dn, f.norm);
  if (d.sp) out.forward.push_back(internal::TpGather(Pass::kForward, x));
  // The output layer is not a Transformer Engine module: bf16 operands in an fp8 run (Op).
  Dims dl = d;
  dl.gemm_in = std::max(d.gemm_in, static_cast<double>(BytesOf(Dtype::kBf16)));
  auto outside_te = [](Op op) {
    op.bf16_in_fp8 = true;
    return op;
  };
  out.forward.push_back(
      outside_te(internal::LinearForward("logits", d.tokens, d.vocab, d.h, dl, false)));
  CrossEntropyForward(out.forward, d, f.cross_entropy);

  CrossEntropyBackward(out.backward, d, f.cross_entropy);
  out.backward.push_back(outside_te(internal::LinearDgrad("logits", d.tokens, d.vocab, d.h, dl)));
  if (d.tp > 1) out.backward.push_back(internal::TpReduce(d, Pass::kBackward, x));
  out.backward.push_back(
      outside_te(internal::LinearWgrad("logits", d.tokens, d.vocab, d.h, dl, false)));
  if (!fuse_rn) internal::AppendNormBackward(out.backward, "final_norm", dn, f.norm);

  out.saved_activation_bytes = 2 * xn + d.TokenElems(d.vocab) * kFp32Bytes + (f.norm ? 0 : xn);
  return out;
}

// Mixed-precision Adam, per parameter: reads the fp32 master weight, m and v (12 B) and the fp32
// main gradient (4 B: Megatron accumulates gradients in fp32 "main_grad" whatever the training
// dtype); writes master, m, v (12 B) and the 16-bit model weight (2 B) = 30 B for bf16/fp16/fp8
// (fp8 training keeps bf16 model weights). In fp32/tf32 there is no master copy: 28 B. This is
// one fused pass (e.g. Transformer Engine's FusedAdam with master weights); Megatron with apex
// FusedAdam copies master -> model weights in a second kernel, re-reading the master (+4 B).
Op BuildAdamStep(double params, Dtype dtype) {
  FS_CHECK(params >= 0, "parameter count must be non-negative");
  const bool mixed = BytesOf(dtype) < 4;
  const double per_param = 4 + 12 + 12 + (mixed ? 2 : 0);
  return MakeKernel("adam", OpKind::kOptimizer, Pass::kOptimizer, internal::kAdamFlops * params,
                    per_param * params);
}

double ModelFlopsPerStep(const ModelConfig& model, std::int64_t global_batch) {
  BuildOptions options;  // tp = 1, micro_batch = 1: one sequence
  auto sum = [](const LayerOps& ops) {
    double flops = 0;
    for (const std::vector<Op>* list : {&ops.forward, &ops.backward}) {
      for (const Op& op : *list) {
        if (op.model_flops) flops += op.flops;
      }
    }
    return flops;
  };
  // MoE layers at balanced routing (load_imbalance does not change model FLOPs).
  ModelConfig balanced = model;
  balanced.moe.load_imbalance = 1;
  balanced.moe.capacity_factor = 0;
  double layers = 0;
  if (model.moe.enabled()) {
    const double moe_layers =
        static_cast<double>(std::max<std::int64_t>(0, model.layers - model.moe.first_dense_layers));
    layers = moe_layers * sum(BuildTransformerLayer(balanced, options, true)) +
             (static_cast<double>(model.layers) - moe_layers) *
                 sum(BuildTransformerLayer(balanced, options, false));
  } else {
    layers = static_cast<double>(model.layers) * sum(BuildTransformerLayer(model, options));
  }
  const double per_sequence =
      layers + sum(BuildEmbedding(model, options)) + sum(BuildHead(model, options));
  return per_sequence * static_cast<double>(global_batch);
}

}  // namespace foresight::ops
