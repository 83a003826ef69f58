#include "plan/cost.h"

#include "base/check.h"
#include "models/hw/roofline.h"
#include "plan/parallel.h"

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
    case ops::CollectiveKind::kAllToAll:
      return hw::CollectiveOp::kAllToAll;
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

double AttentionEfficiencyFor(const Plan& plan, const hw::GpuSpec& gpu) {
  if (plan.attention_kernel.empty()) return gpu.attention_efficiency;
  const auto it = gpu.attention_kernels.find(plan.attention_kernel);
  FS_CHECK(it != gpu.attention_kernels.end(), "attention kernel '" + plan.attention_kernel +
                                                  "' is not in the hardware profile of " +
                                                  gpu.name + " (plan not validated)");
  return it->second;
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
      seconds =
          hw::GemmSeconds(hw.gpu, op.bf16_in_fp8 && dtype == Dtype::kFp8 ? Dtype::kBf16 : dtype,
                          op.m, op.n, op.k, op.batch, op.bytes);
      break;
    case ops::OpKind::kFlashAttention:
      seconds = hw::AttentionSeconds(hw.gpu, dtype == Dtype::kFp8 ? Dtype::kBf16 : dtype,
                                     ops::ExecutedFlops(op), op.bytes);
      break;
    case ops::OpKind::kCollective: {
      out.work = WorkClass::kComm;
      out.bytes = op.comm_bytes;
      const hw::GroupSpan* span = nullptr;
      switch (op.group) {
        case ops::CommGroup::kTensor:
          span = &spans.tp;
          break;
        case ops::CommGroup::kData:
          span = &spans.dp;
          break;
        case ops::CommGroup::kContext:
          span = &spans.cp;
          break;
        case ops::CommGroup::kExpert:
          span = &spans.ep;
          break;
        case ops::CommGroup::kNone:
        case ops::CommGroup::kPipeline:
          break;
      }
      FS_CHECK(span != nullptr, "collective " + op.name + " has no priced group");
      const hw::GroupKind kind = op.group == ops::CommGroup::kTensor    ? hw::GroupKind::kTp
                                 : op.group == ops::CommGroup::kData    ? hw::GroupKind::kDp
                                 : op.group == ops::CommGroup::kContext ? hw::GroupKind::kCp
                                                                        : hw::GroupKind::kEp;
      if (op.group == ops::CommGroup::kContext && op.collective == ops::CollectiveKind::kSendRecv) {
        // Ring attention: cp - 1 steps, each a shift of comm_bytes / (cp - 1) to the next rank
        // of the CP ring. With a pricer, one step is a send_recv of the CP group (every member
        // sends to its ring neighbour at once, all CP groups concurrently under the flow model).
        if (spans.pricer != nullptr && span->size > 1 && op.comm_bytes > 0) {
          const auto steps = static_cast<double>(span->size - 1);
          seconds = steps * spans.pricer->Seconds(hw::CollectiveOp::kSendRecv,
                                                  op.comm_bytes / steps, kind, *span);
        } else {
          seconds = ContextRingSeconds(hw, op.comm_bytes, *span);
        }
      } else {
        seconds = CommSeconds(hw, spans, ToHw(op.collective), op.comm_bytes, kind, *span);
      }
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

void ApplyHostDispatch(std::vector<CostedOp>& ops, double dispatch_seconds,
                       const std::vector<std::int32_t>& restart_at) {
  if (dispatch_seconds <= 0) return;
  const sim::SimTime d = sim::SimTime::FromSeconds(dispatch_seconds);
  sim::SimTime issued, end;
  std::size_t next_restart = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    CostedOp& op = ops[i];
    while (next_restart < restart_at.size() &&
           static_cast<std::size_t>(restart_at[next_restart]) <= i) {
      // The queue is empty here: the host issues the next kernel d after the GPU went idle.
      if (static_cast<std::size_t>(restart_at[next_restart]) == i) issued = end;
      ++next_restart;
    }
    issued += d;
    const sim::SimTime finish = sim::Max(issued, end) + op.duration;
    op.duration = finish - end;
    end = finish;
  }
}

}  // namespace foresight::plan
