// Cost annotation: prices each op of the step graph on a hardware profile.
//
//   GEMM             -> hw::GemmSeconds (roofline with shape-dependent efficiency)
//   flash attention  -> hw::AttentionSeconds
//   other kernels    -> hw::MemoryBoundSeconds
//   collectives      -> hw::CollectiveSeconds over the group's span on the cluster
// Durations are rounded once to picoseconds here; everything downstream is integer time.
#pragma once

#include <cstdint>
#include <string>

#include "base/dtype.h"
#include "models/hw/collective.h"
#include "models/hw/comm_pricer.h"
#include "models/hw/hardware.h"
#include "models/ops/op.h"
#include "sim/time.h"

namespace foresight::plan {

// How a span of simulated time is classified in the time breakdown.
enum class WorkClass : std::uint8_t { kCompute, kComm, kOptimizer };
std::string_view WorkClassName(WorkClass work);

struct CostedOp {
  std::string name;
  ops::OpKind kind = ops::OpKind::kElementwise;
  ops::Pass pass = ops::Pass::kForward;
  WorkClass work = WorkClass::kCompute;
  sim::SimTime duration;
  double flops = 0;  // per rank
  double bytes = 0;  // per rank (HBM bytes, or comm bytes for collectives)
  bool model_flops = false;
  bool recompute = false;  // re-executed forward work (full recompute)
};

// The spans of the communication groups of one rank.
struct GroupSpans {
  hw::GroupSpan tp;
  hw::GroupSpan dp;
  // The scenario's network model (models/hw/comm_pricer.h); null = hw::CollectiveSeconds.
  const hw::CommPricer* pricer = nullptr;
};

// One collective of a `kind` group: spans.pricer when set, else hw::CollectiveSeconds.
double CommSeconds(const hw::HardwareProfile& hw, const GroupSpans& spans, hw::CollectiveOp op,
                   double bytes, hw::GroupKind kind, const hw::GroupSpan& span);

CostedOp CostOp(const ops::Op& op, const hw::HardwareProfile& hw, Dtype dtype,
                const GroupSpans& spans);

}  // namespace foresight::plan
