#include "models/ops/op.h"

namespace foresight::ops {

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kGemm:
      return "gemm";
    case OpKind::kFlashAttention:
      return "flash_attention";
    case OpKind::kElementwise:
      return "elementwise";
    case OpKind::kNorm:
      return "norm";
    case OpKind::kEmbedding:
      return "embedding";
    case OpKind::kCrossEntropy:
      return "cross_entropy";
    case OpKind::kOptimizer:
      return "optimizer";
    case OpKind::kCollective:
      return "collective";
  }
  return "unknown";
}

std::string_view PassName(Pass pass) {
  switch (pass) {
    case Pass::kForward:
      return "forward";
    case Pass::kBackward:
      return "backward";
    case Pass::kWeightGrad:
      return "weight_grad";
    case Pass::kOptimizer:
      return "optimizer";
  }
  return "unknown";
}

std::string_view CommGroupName(CommGroup group) {
  switch (group) {
    case CommGroup::kNone:
      return "none";
    case CommGroup::kTensor:
      return "tp";
    case CommGroup::kData:
      return "dp";
    case CommGroup::kPipeline:
      return "pp";
    case CommGroup::kContext:
      return "cp";
    case CommGroup::kExpert:
      return "ep";
  }
  return "unknown";
}

std::string_view CollectiveKindName(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::kNone:
      return "none";
    case CollectiveKind::kAllReduce:
      return "all_reduce";
    case CollectiveKind::kAllGather:
      return "all_gather";
    case CollectiveKind::kReduceScatter:
      return "reduce_scatter";
    case CollectiveKind::kSendRecv:
      return "send_recv";
    case CollectiveKind::kAllToAll:
      return "all_to_all";
  }
  return "unknown";
}

}  // namespace foresight::ops
