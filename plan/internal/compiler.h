// The step compiler behind plan::CompileStep (plan/compile.h), split over three files:
//   compile.cc  stage op lists, segments, the pipeline schedule and pipeline sends;
//   zero.cc     data-parallel gradient reduction (all-reduce or ZeRO reduce-scatter), ZeRO-3
//               per-layer parameter gathers, the optimizer step and the ZeRO-1/2 parameter
//               all-gather (after the optimizer, or overlapped with the first forward);
//   offload.cc  host copies: activation offload and fetch, parameter fetch, optimizer offload.
// Not part of plan's interface.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "plan/compile.h"
#include "plan/memory.h"

namespace foresight::plan::internal {

using sim::SimTime;
using sim::TaskId;

struct StageShape {
  bool first = false;
  bool last = false;
  std::int64_t layers = 0;
};

// Per-virtual-stage state shared by the passes of the compiler. A virtual stage is one model
// chunk of one rank: v = chunk * pp + rank (v = rank without interleaving).
struct StageBuild {
  StageShape shape;
  std::int64_t rank = 0;
  double params = 0;         // per rank, this chunk's parameters (expert ones included)
  double expert_params = 0;  // per rank, this chunk's routed-expert parameters (MoE)
  std::vector<std::int32_t> fwd_segs, fwd_parts, bwd_segs, bwd_parts;  // segment ids
  std::vector<double> fwd_part_params, bwd_part_params;  // params (per rank) of each part
  // The routed-expert share of each part's params (reduced over the expert-data-parallel
  // group in their own buckets), and the stage's total.
  std::vector<double> fwd_part_expert, bwd_part_expert;
  double saved = 0;      // activation bytes one micro-batch keeps, forward end -> backward end
  double transient = 0;  // recomputed activations held while a backward runs
  std::vector<TaskId> fwd_first, fwd_last, bwd_first, bwd_last;  // per micro-batch
  // zb-h1: the weight-gradient (W) ops of the backward, whole and cut at the parts; the backward
  // segments above then hold the input-gradient (B) work only.
  std::vector<std::int32_t> wgt_segs, wgt_parts;
  std::vector<std::size_t> wgt_part_of;   // per backward part: index into wgt_parts of its W
  std::vector<TaskId> sends[2];           // p2p: false: per micro-batch ([0] fwd, [1] bwd)
  std::vector<TaskId> bwd_parts_last_mb;  // last micro-batch's backward, one task per part
  std::vector<TaskId> optimizer_waits;    // tasks the optimizer step waits for
  // Segments of the per-part communication, the same for every micro-batch, built once
  // ([0] forward, [1] backward; -1 = not built yet): ZeRO-3 gathers, parameter fetches, and
  // the reduce-scatter of the bucket ending at each backward part.
  std::vector<std::int32_t> gather_seg[2], fetch_seg[2], reduce_seg;
  std::vector<std::int32_t> expert_reduce_seg;  // the same for the expert buckets
};

// Inside the compiler in_.plan.dp is the gradient-reduction group, dp*cp ranks
// (plan::GradReduceRanks; CompileStep folds cp into it): ZeRO shards, the gradient
// all-reduce and the rank placement all use it. Micro-batches use the user's dp.
class Compiler {
 public:
  explicit Compiler(const StepInput& in) : in_(in) {}
  CompiledStep Run();

 private:
  // --- compile.cc ---
  std::int32_t AddList(std::vector<CostedOp> ops);
  std::vector<CostedOp> Cost(const std::vector<ops::Op>& ops, bool recompute) const;
  // Cuts list `list` into segments at `cuts` (indices where a new part begins); returns ids.
  std::vector<std::int32_t> Segment(std::int32_t list, const std::vector<std::int32_t>& cuts,
                                    const std::string& name);
  std::vector<TaskId> EmitSegments(const std::vector<std::int32_t>& segs, sim::StreamId stream);
  SimTime SegmentDuration(std::int32_t seg) const {
    return out_.segments[static_cast<std::size_t>(seg)].duration;
  }
  std::int32_t SingleOpSegment(CostedOp op);
  // A single-op segment (a copy, a collective, the host Adam) and a task of it on `stream`.
  std::int32_t OpSegment(const std::string& name, WorkClass work, double bytes, double seconds,
                         ops::Pass pass);
  TaskId AddOpTask(sim::StreamId stream, const std::string& name, WorkClass work, double bytes,
                   double seconds, ops::Pass pass) {
    return SegmentTask(stream, OpSegment(name, work, bytes, seconds, pass));
  }
  TaskId SegmentTask(sim::StreamId stream, std::int32_t seg) {
    return out_.graph.AddTask(stream, SegmentDuration(seg), seg);
  }
  void BuildStage(std::int64_t s);
  // The op lists, segments, parameters (per rank) and activation bytes of virtual stage v.
  void BuildChunk(std::int64_t v);
  void EmitSchedule(std::int64_t s);
  // The segment of a pipeline send from virtual stage v (forward: to v + 1, else to v - 1).
  std::int32_t SendSegment(std::int64_t v, bool forward);
  void EmitPipelineSends();
  // overlap.tp_comm: gives each tp_comm task the predecessors of its compute task.
  void AlignTpCompanions();

  // --- zero.cc ---
  // The communication of one pass of one micro-batch whose compute tasks are `tasks` (one per
  // part): ZeRO-3 gathers (and, with offload.params, the host fetches before them) ahead of
  // each part, and with zero >= 2 the gradient reduce-scatter buckets after backward parts.
  void EmitPassComm(std::int64_t s, const std::vector<TaskId>& tasks, bool backward);
  // zero 0/1: the last micro-batch's gradient all-reduce (reduce-scatter) buckets.
  void EmitLastMicroBatchGradReduce(std::int64_t s);
  void EmitEmbeddingGradReduce(std::int64_t s);
  // overlap.param_gather: the ZeRO-1/2 all-gather of the parameters of each forward part of
  // virtual stage v, issued at the step start on the comm stream, gating the part's first
  // forward task (`tasks`, one per part).
  void EmitParamGather(std::int64_t v, const std::vector<TaskId>& tasks);
  void EmitOptimizer(std::int64_t s);

  // --- offload.cc ---
  // Copies the saved activations of a forward (ending with `fwd_last`) to the host; returns the
  // copy task.
  TaskId EmitActivationOffload(std::int64_t s, TaskId fwd_last);
  // Fetches them back before the backward; starts after `offload` and `gate` (a compute task
  // that ends before the previous slot starts, or -1). Returns the fetch task.
  TaskId EmitActivationFetch(std::int64_t s, TaskId offload, TaskId gate);
  // Optimizer offload: gradients device->host after `waits`, Adam on the host, updated
  // parameters host->device. Returns the task after which the parameters are on the device.
  TaskId EmitHostOptimizer(std::int64_t s, double params, const std::vector<TaskId>& waits);

  StageInfo& Info(std::int64_t s) { return out_.stages[static_cast<std::size_t>(s)]; }
  // The rank of virtual stage v.
  StageInfo& VInfo(std::int64_t v) { return Info(v % in_.plan.pp); }
  StageBuild& Build(std::int64_t v) { return builds_[static_cast<std::size_t>(v)]; }
  std::int64_t VirtualStages() const { return in_.plan.pp * vpp_; }

  const StepInput& in_;
  GroupSpans spans_;
  // Expert-data-parallel group (plan::ExpertDataParallelSpan), dp*cp/ep ranks: the gradient
  // reduction and ZeRO sharding of routed-expert parameters.
  hw::GroupSpan edp_span_;
  double expert_dp_ = 1;
  CompiledStep out_;
  std::vector<StageBuild> builds_;
  ops::LayerOps layer_, embedding_, head_;
  ops::LayerOps moe_layer_;  // MoE models: the layers with the MoE block (layer_: dense ones)
  std::int64_t micro_batches_ = 0;
  std::int64_t vpp_ = 1;                    // model chunks per rank
  std::vector<std::int64_t> stage_layers_;  // per rank
  std::vector<std::int32_t> send_segs_[2];  // per virtual stage, [0] forward [1] backward
  std::vector<std::int32_t> tp_segs_;       // per compute segment: its tp_comm segment, or -1
  std::vector<std::pair<TaskId, TaskId>> tp_companions_;  // (compute task, tp_comm task)
  double dtype_bytes_ = 2;
  double layer_input_bytes_ = 0;  // one layer's input (= a pipeline send), per micro-batch
};

}  // namespace foresight::plan::internal
