// Compiles one training step (model x plan x hardware) into a flat sim::TaskGraph.
//
// One simulated rank per pipeline stage (TP peers and DP replicas are symmetric and are not
// simulated separately). Each rank has three streams, and up to three more when the plan
// offloads:
//   compute — forward, backward (with recompute forward replays), the TP all-reduces
//             (Megatron issues them on the compute stream and waits), and the optimizer step;
//   comm    — data-parallel gradient all-reduces (zero 0) or reduce-scatters (zero >= 1),
//             bucketed and overlapped with the backward when plan.overlap.grad_reduce; the
//             tied-embedding all-reduce; the ZeRO-1/2 parameter all-gather after the optimizer;
//             the ZeRO-3 per-layer parameter all-gathers, prefetched two layers ahead;
//   p2p     — pipeline sends of activations (forward) and activation gradients (backward), or
//             none with plan.overlap.p2p off (the sends then block the compute stream);
//   tp_comm — with plan.overlap.tp_comm and tp > 1: the part of each pass's TP collectives hidden
//             under the GEMM before each, one task per compute task, starting with it;
//   d2h, h2d — PCIe copies (offload): activations to the host after a forward and back before
//             its backward, gradients to and parameters from the host around a CPU optimizer,
//             parameter shards fetched per layer;
//   host    — the CPU Adam step (offload.optimizer).
// One task per (stage, micro-batch, pass) on the compute stream: the whole forward (or
// backward) of a stage is a single task (a "segment"), since its kernels and TP all-reduces run
// back to back on one stream. A pass is cut at its parameter-group boundaries (embedding, each
// layer, head: the "parts") where communication must wait for it or it for communication: the
// last micro-batch's backward (DP buckets), every backward with zero >= 2 (per-micro-batch
// reduce-scatter), every pass with zero 3 (each layer waits for its gather). The per-op detail
// is kept in the segment table so the timeline can show every kernel and the time breakdown can
// split a task into compute and communication. This keeps GPT-3 175B on 1,024 GPUs near 12 k
// tasks instead of ~270 k at one task per kernel run.
//
// Memory per rank is a sim pool with categories kWeights..kOther (plan/memory.h has the
// formulas): model states are resident from time zero; the activations a micro-batch keeps are
// allocated when its forward ends and freed when its backward ends (offloaded ones are freed
// when their copy to the host ends and allocated again when their fetch starts); recompute
// holds the recomputed activations while the backward runs; ZeRO-3 gathered layers live from
// their gather's start to their part's end; with zero >= 2 a bucket's unreduced gradients live
// from its first part's start to its reduce-scatter's end. A second pool per stage tracks the
// host memory of one rank (offloaded states and activations).
#pragma once

#include <cstdint>
#include <memory>
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
  sim::SimTime hidden_comm_time;  // overlap.tp_comm: TP communication hidden under its GEMMs
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
  sim::StreamId tp_comm_stream = -1;  // -1: no overlap.tp_comm (or tp = 1)
  sim::PoolId pool = 0;
  sim::PoolId host_pool = 0;
  sim::StreamId d2h_stream = -1;  // -1: the plan does not offload
  sim::StreamId h2d_stream = -1;
  sim::StreamId host_stream = -1;
  std::int64_t recomputed_layers = 0;  // fully recomputed layers (recompute: full)
  double model_state_bytes = 0;        // device weights + gradients + optimizer, resident
  double host_model_state_bytes = 0;   // host share of one rank (offload)
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
  // The scenario's `network:` pricing (models/hw/comm_pricer.h); null = hw::CollectiveSeconds.
  std::shared_ptr<const hw::CommPricer> comm_pricer = nullptr;
};

CompiledStep CompileStep(const StepInput& input);

}  // namespace foresight::plan
