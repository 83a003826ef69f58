// Cost annotation: prices each op of the step graph on a hardware profile.
//
//   GEMM             -> hw::GemmSeconds (roofline with shape-dependent efficiency)
//   flash attention  -> hw::AttentionSeconds
//   other kernels    -> hw::MemoryBoundSeconds
//   collectives      -> hw::CollectiveSeconds over the group's span on the cluster; the
//                       context-parallel ring (send_recv in the cp group) step by step,
//                       plan::ContextRingSeconds
// FP8 runs price GEMMs at the fp8 peak and attention at bf16 (Transformer Engine's default:
// fp8 linear layers, bf16 fused attention).
// Durations are rounded once to picoseconds here; everything downstream is integer time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "models/hw/collective.h"
#include "models/hw/comm_pricer.h"
#include "models/hw/hardware.h"
#include "models/ops/op.h"
#include "plan/plan.h"
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
  // plan.overlap.tp_comm: the part of this TP collective hidden under the GEMM before it (on the
  // tp_comm stream); `duration` is then only the exposed rest.
  sim::SimTime hidden;
};

// The spans of the communication groups of one rank.
struct GroupSpans {
  hw::GroupSpan tp;
  hw::GroupSpan dp;  // the gradient-reduction group (dp*cp ranks, plan/parallel.h)
  hw::GroupSpan cp;  // context parallel: stride tp
  hw::GroupSpan ep;  // expert parallel: stride tp*cp
  // The scenario's network model (models/hw/comm_pricer.h); null = hw::CollectiveSeconds.
  // It prices every group: tp, dp (dp*cp), cp (all-gather, all-to-all, and each ring-attention
  // step as a send_recv of the CP ring), ep (all-to-all), expert data parallel (dp*cp/ep, via
  // hw::GroupKind::kEdp in plan/zero.cc) and pp. Only the tied-embedding all-reduce between the
  // first and last stage stays on hw::CollectiveSeconds.
  const hw::CommPricer* pricer = nullptr;
};

// Host dispatch (hw::HostSpec::kernel_dispatch_seconds = d): the host issues the kernels of
// one pass list in order, one every d seconds, while the GPU runs them from its queue:
//   issued_i = (i + 1) * d,  start_i = max(issued_i, end_{i-1}),  end_i = start_i + g_i
// (g_i = the op's priced duration, end_{-1} = 0). Each op's duration becomes end_i - end_{i-1}:
// its own time plus any wait for the host, so the list's total is end_{n-1}
// = max over i of (issued_i + g_i + ... + g_{n-1}): max(n * d, sum g) when one side dominates
// throughout. The queue starts empty at each list (a pass of one micro-batch on one stage) and,
// when `restart_at` is given, again at each of those op indices (ascending): there the host
// waits for the GPU to finish the ops before (a synchronisation, issued = end_{i-1} before adding
// d), so it cannot run ahead across them (plan/compile.cc passes the layer boundaries,
// docs/validation.md change 3). d = 0 leaves every duration unchanged. O(ops).
void ApplyHostDispatch(std::vector<CostedOp>& ops, double dispatch_seconds,
                       const std::vector<std::int32_t>& restart_at = {});

// One collective of a `kind` group: spans.pricer when set, else hw::CollectiveSeconds.
double CommSeconds(const hw::HardwareProfile& hw, const GroupSpans& spans, hw::CollectiveOp op,
                   double bytes, hw::GroupKind kind, const hw::GroupSpan& span);

// The fraction of peak the plan's fused attention runs at: gpu.attention_kernels[name] when
// plan.attention_kernel names one (it must exist: ValidateForHardware), otherwise
// gpu.attention_efficiency.
double AttentionEfficiencyFor(const Plan& plan, const hw::GpuSpec& gpu);

CostedOp CostOp(const ops::Op& op, const hw::HardwareProfile& hw, Dtype dtype,
                const GroupSpans& spans);

}  // namespace foresight::plan
