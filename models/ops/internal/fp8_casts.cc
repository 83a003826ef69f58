#include "models/ops/internal/fp8_casts.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/ops/internal/op_factory.h"

namespace foresight::ops::internal {
namespace {

bool IsTeLinearGemm(const Op& op) {
  return op.kind == OpKind::kGemm && !op.bf16_in_fp8 && op.name != "attn_scores" &&
         op.name != "attn_context";
}

Op Fp8Cast(const std::string& name, Pass pass, double elems) {
  return MakeKernel(name, OpKind::kElementwise, pass, 2 * elems, 4 * elems);
}

}  // namespace

void AppendFp8Casts(LayerOps& layer, double weight_cast_share) {
  std::vector<Op> fwd;
  fwd.reserve(layer.forward.size() * 2);
  std::int32_t begin = layer.attention_core_begin, end = layer.attention_core_end;
  for (std::size_t i = 0; i < layer.forward.size(); ++i) {
    const Op& op = layer.forward[i];
    if (IsTeLinearGemm(op) && op.pass == Pass::kForward) {
      const auto m = static_cast<double>(op.m), n = static_cast<double>(op.n);
      const double k = static_cast<double>(op.k), batch = static_cast<double>(op.batch);
      fwd.push_back(Fp8Cast(op.name + "_fp8_cast_input", Pass::kForward, batch * m * k));
      fwd.push_back(
          Fp8Cast(op.name + "_fp8_cast_weight", Pass::kForward, weight_cast_share * batch * k * n));
      const auto index = static_cast<std::int32_t>(i);
      if (index < layer.attention_core_begin) begin += 2;
      if (index < layer.attention_core_end) end += 2;
    }
    fwd.push_back(op);
  }
  layer.forward = std::move(fwd);
  layer.attention_core_begin = begin;
  layer.attention_core_end = end;

  static constexpr std::string_view kDgrad = "_dgrad";
  std::vector<Op> bwd;
  bwd.reserve(layer.backward.size() * 2);
  for (const Op& op : layer.backward) {
    const std::string_view name = op.name;
    if (IsTeLinearGemm(op) && op.pass == Pass::kBackward && name.size() > kDgrad.size() &&
        name.substr(name.size() - kDgrad.size()) == kDgrad) {
      const std::string gemm(name.substr(0, name.size() - kDgrad.size()));
      bwd.push_back(Fp8Cast(
          gemm + "_fp8_cast_grad", Pass::kBackward,
          static_cast<double>(op.batch) * static_cast<double>(op.m) * static_cast<double>(op.k)));
    }
    bwd.push_back(op);
  }
  layer.backward = std::move(bwd);
}

}  // namespace foresight::ops::internal
