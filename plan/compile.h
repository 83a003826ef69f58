// Compiles one training step (model x plan x hardware) into a flat sim::TaskGraph.
//
// One simulated rank per pipeline stage (TP peers and DP replicas are symmetric and are not
// simulated separately). Each rank has three streams:
//   compute — forward, backward (with full-recompute forward replays), the TP all-reduces
//             (Megatron issues them on the compute stream and waits), and the optimizer step;
//   comm    — data-parallel gradient all-reduces (bucketed; overlapped with the backward of the
//             last micro-batch when plan.overlap.grad_reduce) and the tied-embedding all-reduce;
//   p2p     — pipeline sends of activations (forward) and activation gradients (backward).
// One task per (stage, micro-batch, pass) on the compute stream: the whole forward (or
// backward) of a stage is a single task (a "segment"), since its kernels and TP all-reduces run
// back to back on one stream. Only the last micro-batch's backward is cut at the boundaries of
// the parameter groups whose gradients the DP all-reduce buckets wait for. The per-op detail is
// kept in the segment table so the timeline can show every kernel and the time breakdown can
// split a task into compute and communication. This keeps GPT-3 175B on 1,024 GPUs near 12 k
// tasks instead of ~270 k at one task per kernel run.
//
// Memory per rank is a sim pool with categories kWeights..kOther: model states are resident
// from time zero; the activations a micro-batch keeps are allocated when its forward ends and
// freed when its backward ends; with full recompute, the backward also holds one layer's
// recomputed activations while it runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/hw/hardware.h"
#include "models/ops/model_config.h"
#include "plan/cost.h"
#include "plan/plan.h"
#include "sim/task_graph.h"

namespace foresight::plan {

enum MemoryCategory : int {
  kWeights = 0,
  kGradients = 1,
  kOptimizerStates = 2,
  kActivations = 3,
  kOther = 4,
};

// A run of consecutive ops executed as one task: op_lists[list][begin, end). The per-class
// durations split the task's time for the time breakdown (a forward pass task contains its TP
// all-reduces, which Megatron runs on the compute stream).
struct Segment {
  std::int32_t list = 0;
  std::int32_t begin = 0;
  std::int32_t end = 0;
  WorkClass work = WorkClass::kCompute;  // the class of most of its time
  std::string name;                      // e.g. "forward mb", "backward mb"
  sim::SimTime duration;
  sim::SimTime compute_time;
  sim::SimTime comm_time;
  sim::SimTime optimizer_time;
};

struct StageInfo {
  std::int32_t stage = 0;
  std::int64_t layers = 0;
  double params_per_rank = 0;  // parameters held by one rank of this stage
  std::int64_t max_in_flight = 0;
  double saved_activation_bytes_per_micro_batch = 0;
  sim::StreamId compute_stream = 0;
  sim::StreamId comm_stream = 0;
  sim::StreamId p2p_stream = 0;
  sim::PoolId pool = 0;
};

struct CompiledStep {
  sim::TaskGraph graph;  // built
  std::vector<std::vector<CostedOp>> op_lists;
  std::vector<Segment> segments;  // task tag = segment index
  std::vector<StageInfo> stages;
  std::int64_t micro_batches = 0;
  double model_flops_per_step = 0;     // whole cluster
  double hardware_flops_per_step = 0;  // whole cluster, including recompute
};

struct StepInput {
  ops::ModelConfig model;
  hw::HardwareProfile hardware;
  ClusterConfig cluster;  // gpus_per_node resolved
  TrainingConfig training;
  Plan plan;  // validated (ValidateAndResolve), dp resolved
};

CompiledStep CompileStep(const StepInput& input);

}  // namespace foresight::plan
