#include "plan/cost.h"

#include "base/check.h"
#include "models/hw/roofline.h"

namespace foresight::plan {
namespace {

hw::CollectiveOp ToHw(ops::CollectiveKind kind) {
  switch (kind) {
    case ops::CollectiveKind::kAllReduce:
      return hw::CollectiveOp::kAllReduce;
    case ops::CollectiveKind::kAllGather:
      return hw::CollectiveOp::kAllGather;
    case ops::CollectiveKind::kReduceScatter:
      return hw::CollectiveOp::kReduceScatter;
    case ops::CollectiveKind::kSendRecv:
      return hw::CollectiveOp::kSendRecv;
    case ops::CollectiveKind::kNone:
      break;
  }
  FS_CHECK(false, "collective op without a collective kind");
  return hw::CollectiveOp::kAllReduce;
}

}  // namespace

std::string_view WorkClassName(WorkClass work) {
  switch (work) {
    case WorkClass::kCompute:
      return "compute";
    case WorkClass::kComm:
      return "comm";
    case WorkClass::kOptimizer:
      return "optimizer";
  }
  return "compute";
}

double CommSeconds(const hw::HardwareProfile& hw, const GroupSpans& spans, hw::CollectiveOp op,
                   double bytes, hw::GroupKind kind, const hw::GroupSpan& span) {
  if (spans.pricer != nullptr) return spans.pricer->Seconds(op, bytes, kind, span);
  return hw::CollectiveSeconds(hw, op, bytes, span);
}

CostedOp CostOp(const ops::Op& op, const hw::HardwareProfile& hw, Dtype dtype,
                const GroupSpans& spans) {
  CostedOp out;
  out.name = op.name;
  out.kind = op.kind;
  out.pass = op.pass;
  out.flops = op.flops;
  out.bytes = op.bytes;
  out.model_flops = op.model_flops;
  double seconds = 0;
  switch (op.kind) {
    case ops::OpKind::kGemm:
      seconds = hw::GemmSeconds(hw.gpu, dtype, op.m, op.n, op.k, op.batch, op.bytes);
      break;
    case ops::OpKind::kFlashAttention:
      seconds = hw::AttentionSeconds(hw.gpu, dtype, ops::ExecutedFlops(op), op.bytes);
      break;
    case ops::OpKind::kCollective: {
      out.work = WorkClass::kComm;
      out.bytes = op.comm_bytes;
      const hw::GroupSpan& span = op.group == ops::CommGroup::kData ? spans.dp : spans.tp;
      FS_CHECK(op.group == ops::CommGroup::kTensor || op.group == ops::CommGroup::kData,
               "collective " + op.name + " has no priced group");
      seconds = CommSeconds(
          hw, spans, ToHw(op.collective), op.comm_bytes,
          op.group == ops::CommGroup::kData ? hw::GroupKind::kDp : hw::GroupKind::kTp, span);
      break;
    }
    case ops::OpKind::kOptimizer:
      out.work = WorkClass::kOptimizer;
      seconds = hw::MemoryBoundSeconds(hw.gpu, ops::ExecutedFlops(op), op.bytes);
      break;
    case ops::OpKind::kElementwise:
    case ops::OpKind::kNorm:
    case ops::OpKind::kEmbedding:
    case ops::OpKind::kCrossEntropy:
      seconds = hw::MemoryBoundSeconds(hw.gpu, ops::ExecutedFlops(op), op.bytes);
      break;
  }
  out.duration = sim::SimTime::FromSeconds(seconds);
  return out;
}

}  // namespace foresight::plan
