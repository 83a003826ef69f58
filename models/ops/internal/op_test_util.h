// Helpers for the ops tests: find, count and sum ops in a sequence.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "models/ops/layer_builder.h"
#include "models/ops/op.h"

namespace foresight::ops::test_util {

// First op named `name`, or nullptr.
inline const Op* FindOp(const std::vector<Op>& ops, std::string_view name) {
  for (const Op& op : ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

inline int CountOps(const std::vector<Op>& ops, const std::function<bool(const Op&)>& pred) {
  int n = 0;
  for (const Op& op : ops) n += pred(op) ? 1 : 0;
  return n;
}

inline bool IsTpAllReduce(const Op& op) {
  return op.kind == OpKind::kCollective && op.group == CommGroup::kTensor &&
         op.collective == CollectiveKind::kAllReduce;
}

// Kernels (non-collective ops) and their HBM bytes over forward and backward.
inline int Kernels(const LayerOps& l) {
  auto kernel = [](const Op& op) { return op.kind != OpKind::kCollective; };
  return CountOps(l.forward, kernel) + CountOps(l.backward, kernel);
}
inline double Bytes(const LayerOps& l) {
  double b = 0;
  for (const Op& op : l.forward) b += op.bytes;
  for (const Op& op : l.backward) b += op.bytes;
  return b;
}
inline double ModelFlops(const std::vector<Op>& ops) {
  double f = 0;
  for (const Op& op : ops) f += op.model_flops ? op.flops : 0;
  return f;
}

}  // namespace foresight::ops::test_util
