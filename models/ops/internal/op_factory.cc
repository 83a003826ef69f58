#include "models/ops/internal/op_factory.h"

#include <utility>

#include "base/check.h"
#include "base/dtype.h"

namespace foresight::ops::internal {
namespace {

std::string ValidTpList(std::int64_t heads) {
  std::string list;
  for (std::int64_t t = 1; t <= heads; ++t) {
    if (heads % t != 0) continue;
    if (!list.empty()) list += ", ";
    list += std::to_string(t);
  }
  return list;
}

}  // namespace

Dims MakeDims(const ModelConfig& model, const BuildOptions& options) {
  const std::int64_t tp = options.tp;
  const std::int64_t kv = model.kv_heads > 0 ? model.kv_heads : model.heads;
  FS_CHECK(options.micro_batch >= 1, "micro_batch must be >= 1");
  FS_CHECK(tp >= 1, "tp must be >= 1");
  FS_CHECK(model.hidden > 0 && model.heads > 0 &&
               (model.hidden % model.heads == 0 || model.head_dim_override > 0),
           "heads=" + std::to_string(model.heads) +
               " must divide hidden=" + std::to_string(model.hidden));
  FS_CHECK(model.heads % tp == 0, "tp=" + std::to_string(tp) +
                                      " does not divide heads=" + std::to_string(model.heads) +
                                      "; valid tp: " + ValidTpList(model.heads));
  FS_CHECK(model.heads % kv == 0, "kv_heads must divide heads");
  FS_CHECK(kv % tp == 0 || tp % kv == 0, "tp and kv_heads must divide one another");
  FS_CHECK(model.ffn_hidden > 0 && model.ffn_hidden % tp == 0, "tp must divide ffn_hidden");
  FS_CHECK(model.vocab > 0 && model.seq_len > 0, "vocab and seq_len must be positive");

  Dims d;
  d.b = options.micro_batch;
  FS_CHECK(options.cp >= 1 && model.seq_len % options.cp == 0, "cp must divide seq_len");
  FS_CHECK(options.ep >= 1, "ep must be >= 1");
  FS_CHECK(options.fp8_weight_cast_share > 0 && options.fp8_weight_cast_share <= 1,
           "fp8_weight_cast_share must be in (0, 1]");
  d.s = model.seq_len;
  d.cp = options.cp;
  d.ep = options.ep;
  d.s_q = model.seq_len / options.cp;
  d.sp = options.sequence_parallel && tp > 1;
  d.cp_comm = options.cp_comm;
  d.tokens = d.b * d.s_q;
  d.h = model.hidden;
  d.heads = model.heads / tp;
  d.kv_heads = kv >= tp ? kv / tp : 1;
  d.head_dim = model.head_dim();
  d.ffn = model.ffn_hidden / tp;
  d.vocab = (model.vocab + tp - 1) / tp;
  d.tp = tp;
  d.gemm_in = BytesOf(options.dtype);
  d.act = options.dtype == Dtype::kFp8 ? 2.0 : static_cast<double>(BytesOf(options.dtype));
  d.norm = model.norm;
  d.bias = model.bias;
  d.dropout = options.dropout;
  d.rope = !model.learned_positions;
  d.swiglu = model.activation == Activation::kSwiglu;
  return d;
}

Op MakeKernel(std::string name, OpKind kind, Pass pass, double flops, double bytes) {
  Op op;
  op.name = std::move(name);
  op.kind = kind;
  op.pass = pass;
  op.flops = flops;
  op.bytes = bytes;
  return op;
}

Op MakeTpAllReduce(std::string name, Pass pass, double comm_bytes) {
  Op op = MakeKernel(std::move(name), OpKind::kCollective, pass, 0, 0);
  op.group = CommGroup::kTensor;
  op.collective = CollectiveKind::kAllReduce;
  op.comm_bytes = comm_bytes;
  return op;
}

Op MakeCollective(std::string name, Pass pass, CommGroup group, CollectiveKind kind,
                  double comm_bytes) {
  Op op = MakeKernel(std::move(name), OpKind::kCollective, pass, 0, 0);
  op.group = group;
  op.collective = kind;
  op.comm_bytes = comm_bytes;
  return op;
}

Dims SequenceShard(const Dims& d) {
  if (!d.sp) return d;
  FS_CHECK(d.tokens % d.tp == 0, "sequence parallelism needs tp to divide the tokens");
  Dims out = d;
  out.tokens = d.tokens / d.tp;
  return out;
}

Op TpReduce(const Dims& d, Pass pass, double comm_bytes) {
  if (!d.sp) return MakeTpAllReduce("tp_allreduce", pass, comm_bytes);
  return MakeCollective("tp_reducescatter", pass, CommGroup::kTensor,
                        CollectiveKind::kReduceScatter, comm_bytes);
}

Op TpGather(Pass pass, double comm_bytes) {
  return MakeCollective("tp_allgather", pass, CommGroup::kTensor, CollectiveKind::kAllGather,
                        comm_bytes);
}

Op MakeGemm(std::string name, Pass pass, std::int64_t m, std::int64_t n, std::int64_t k,
            std::int64_t batch, double bytes, bool model_flops) {
  Op op = MakeKernel(std::move(name), OpKind::kGemm, pass,
                     2.0 * static_cast<double>(m) * static_cast<double>(n) *
                         static_cast<double>(k) * static_cast<double>(batch),
                     bytes);
  op.m = m;
  op.n = n;
  op.k = k;
  op.batch = batch;
  op.model_flops = model_flops;
  return op;
}

Op LinearForward(std::string name, std::int64_t m, std::int64_t n, std::int64_t k, const Dims& d,
                 bool bias_in_gemm, bool model_flops) {
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  const double dk = static_cast<double>(k);
  double bytes = (dm * dk + dk * dn) * d.gemm_in + dm * dn * d.act;
  if (bias_in_gemm) bytes += dn * d.act;
  return MakeGemm(std::move(name), Pass::kForward, m, n, k, 1, bytes, model_flops);
}

Op LinearDgrad(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k,
               const Dims& d) {
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  const double dk = static_cast<double>(k);
  const double bytes = (dm * dn + dk * dn) * d.gemm_in + dm * dk * d.act;
  return MakeGemm(name + "_dgrad", Pass::kBackward, m, k, n, 1, bytes, true);
}

Op LinearWgrad(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k,
               const Dims& d, bool bias_in_gemm) {
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  const double dk = static_cast<double>(k);
  double bytes = (dm * dk + dm * dn) * d.gemm_in + dk * dn * 2 * kFp32Bytes;
  if (bias_in_gemm) bytes += dm * dn * d.act + dn * kFp32Bytes;
  return MakeGemm(name + "_wgrad", Pass::kWeightGrad, k, n, m, 1, bytes, true);
}

double NormFlops(Norm norm) { return norm == Norm::kLayerNorm ? kLayerNormFlops : kRmsNormFlops; }
double NormBwdFlops(Norm norm) {
  return norm == Norm::kLayerNorm ? kLayerNormBwdFlops : kRmsNormBwdFlops;
}
double NormParamBytes(const Dims& d) {
  return (d.norm == Norm::kLayerNorm ? 2.0 : 1.0) * static_cast<double>(d.h) * d.act;
}
double NormStatsBytes(const Dims& d) {
  return (d.norm == Norm::kLayerNorm ? 2.0 : 1.0) * static_cast<double>(d.tokens) * kFp32Bytes;
}
namespace {
double NormParamGradBytes(const Dims& d) { return NormParamBytes(d) / d.act * kFp32Bytes; }
}  // namespace

void AppendNormForward(std::vector<Op>& ops, const std::string& name, const Dims& d, bool fused) {
  const double x = d.TokenElems(d.h) * d.act;
  const double elems = d.TokenElems(d.h);
  const bool ln = d.norm == Norm::kLayerNorm;
  if (fused) {
    ops.push_back(MakeKernel(name, OpKind::kNorm, Pass::kForward, NormFlops(d.norm) * elems,
                             2 * x + NormParamBytes(d) + NormStatsBytes(d)));
    return;
  }
  const double gain = static_cast<double>(d.h) * d.act;
  ops.push_back(MakeKernel(name + "_stats", OpKind::kNorm, Pass::kForward, (ln ? 4 : 2) * elems,
                           x + NormStatsBytes(d)));
  ops.push_back(MakeKernel(name + "_normalize", OpKind::kNorm, Pass::kForward, (ln ? 2 : 1) * elems,
                           2 * x + NormStatsBytes(d)));
  ops.push_back(MakeKernel(name + "_scale", OpKind::kNorm, Pass::kForward, elems, 2 * x + gain));
  if (ln) {
    ops.push_back(MakeKernel(name + "_shift", OpKind::kNorm, Pass::kForward, elems, 2 * x + gain));
  }
}

void AppendNormBackward(std::vector<Op>& ops, const std::string& name, const Dims& d, bool fused) {
  const double x = d.TokenElems(d.h) * d.act;
  const double elems = d.TokenElems(d.h);
  const bool ln = d.norm == Norm::kLayerNorm;
  if (fused) {
    ops.push_back(
        MakeKernel(name + "_bwd", OpKind::kNorm, Pass::kBackward, NormBwdFlops(d.norm) * elems,
                   3 * x + NormParamBytes(d) + NormStatsBytes(d) + NormParamGradBytes(d)));
    return;
  }
  const double gain = static_cast<double>(d.h) * d.act;
  ops.push_back(MakeKernel(name + "_bwd_affine_grad", OpKind::kNorm, Pass::kBackward,
                           (ln ? 3 : 2) * elems, 2 * x + NormParamGradBytes(d)));
  ops.push_back(
      MakeKernel(name + "_bwd_dxhat", OpKind::kNorm, Pass::kBackward, elems, 2 * x + gain));
  ops.push_back(MakeKernel(name + "_bwd_row_sums", OpKind::kNorm, Pass::kBackward,
                           (ln ? 4 : 2) * elems, 2 * x + NormStatsBytes(d)));
  ops.push_back(MakeKernel(name + "_bwd_dx", OpKind::kNorm, Pass::kBackward, (ln ? 4 : 3) * elems,
                           3 * x + 2 * NormStatsBytes(d)));
}

Op ResidualGradAdd(const Dims& d) {
  return MakeKernel("residual_grad_add", OpKind::kElementwise, Pass::kBackward,
                    kAddFlops * d.TokenElems(d.h), 3 * d.TokenElems(d.h) * d.act);
}

namespace {
std::string FusedResidualName(const std::string& prefix, const Dims& d, bool with_norm) {
  std::string name = prefix;
  if (d.bias) name += "_bias";
  if (d.dropout) name += "_dropout";
  name += "_add";
  if (with_norm) name += "_norm";
  return name;
}
}  // namespace

void AppendResidualForward(std::vector<Op>& ops, const std::string& prefix, const Dims& d,
                           const FusionRules& fusion, bool with_norm) {
  const double elems = d.TokenElems(d.h);
  const double x = elems * d.act;
  const double bias = static_cast<double>(d.h) * d.act;
  const double mask = d.dropout ? elems * kMaskBytes : 0;
  const double norm_bytes = with_norm ? x + NormParamBytes(d) + NormStatsBytes(d) : 0;
  const double norm_flops = with_norm ? NormFlops(d.norm) * elems : 0;
  const OpKind add_kind = with_norm ? OpKind::kNorm : OpKind::kElementwise;
  if (fusion.bias_dropout_add) {
    // Reads x and the residual (and bias); writes the sum, the mask (and the normed output).
    const double flops =
        ((d.bias ? kAddFlops : 0) + (d.dropout ? kDropoutFlops : 0) + kAddFlops) * elems +
        norm_flops;
    ops.push_back(MakeKernel(FusedResidualName(prefix, d, with_norm), add_kind, Pass::kForward,
                             flops, 3 * x + (d.bias ? bias : 0) + mask + norm_bytes));
    return;
  }
  if (d.bias) {
    ops.push_back(MakeKernel(prefix + "_bias", OpKind::kElementwise, Pass::kForward,
                             kAddFlops * elems, 2 * x + bias));
  }
  if (d.dropout) {
    ops.push_back(MakeKernel(prefix + "_dropout", OpKind::kElementwise, Pass::kForward,
                             kDropoutFlops * elems, 2 * x + mask));
  }
  ops.push_back(MakeKernel(prefix + (with_norm ? "_residual_add_norm" : "_residual_add"), add_kind,
                           Pass::kForward, kAddFlops * elems + norm_flops, 3 * x + norm_bytes));
}

void AppendResidualBackward(std::vector<Op>& ops, const std::string& prefix, const Dims& d,
                            const FusionRules& fusion, bool with_norm) {
  const double elems = d.TokenElems(d.h);
  const double x = elems * d.act;
  const double mask = d.dropout ? elems * kMaskBytes : 0;
  const double bias_grad = static_cast<double>(d.h) * kFp32Bytes;
  // With the norm: reads dz, the incoming residual gradient and the saved sum (+ stats, gain),
  // writes the accumulated residual gradient and the gain gradients.
  const double norm_bytes =
      4 * x + NormParamBytes(d) + NormStatsBytes(d) + NormParamBytes(d) / d.act * kFp32Bytes;
  const double norm_flops = (NormBwdFlops(d.norm) + kAddFlops) * elems;
  if (fusion.bias_dropout_add) {
    if (!with_norm && !d.dropout && !d.bias) return;  // the gradient passes through
    double flops = ((d.dropout ? kDropoutBwdFlops : 0) + (d.bias ? kAddFlops : 0)) * elems;
    double bytes = (d.dropout ? x + mask + x : 0) + (d.bias ? bias_grad : 0);
    if (!d.dropout && d.bias && !with_norm) bytes += x;  // bias gradient reads dy
    if (with_norm) {
      flops += norm_flops;
      bytes += norm_bytes;
      if (d.dropout) bytes -= x;  // dy is the accumulated gradient, already in registers
    }
    ops.push_back(MakeKernel(FusedResidualName(prefix, d, with_norm) + "_bwd",
                             with_norm ? OpKind::kNorm : OpKind::kElementwise, Pass::kBackward,
                             flops, bytes));
    return;
  }
  if (with_norm) {
    ops.push_back(MakeKernel(prefix + "_residual_add_norm_bwd", OpKind::kNorm, Pass::kBackward,
                             norm_flops, norm_bytes));
  }
  if (d.dropout) {
    ops.push_back(MakeKernel(prefix + "_dropout_bwd", OpKind::kElementwise, Pass::kBackward,
                             kDropoutBwdFlops * elems, 2 * x + mask));
  }
  if (d.bias) {
    ops.push_back(MakeKernel(prefix + "_bias_bwd", OpKind::kElementwise, Pass::kBackward,
                             kAddFlops * elems, x + bias_grad));
  }
}

}  // namespace foresight::ops::internal
