// Engine: the discrete-event simulator that runs a TaskGraph.
//
// Semantics: a task starts at the earliest time when (a) every predecessor has ended and (b) it
// is the head of its stream and the stream is idle. It ends `duration` later. Events are the
// task completions, processed in total order (time, priority, sequence number), so the same
// graph always yields the same schedule. No allocation per event: the queue and all state are
// flat arrays sized once from the graph.
//
// Tie-breaking, exactly:
//  - Tasks ready at time zero start in task-id order.
//  - Every event is a task completion with priority kTaskEndPriority; its sequence number is the
//    order in which the task started. So completions at one instant are processed in the order
//    their tasks started.
//  - Processing a completion at time t: record end = t; apply the task's at_end memory events;
//    release its explicit successors (in the order their edges were added), then the next task
//    of its stream. Each released task whose last wait this was starts at t at once: its at_start
//    memory events are applied and its completion is queued. A zero-duration task therefore
//    completes at t, after every completion already queued for t.
//
// Memory: SetInitialBytes values are the current bytes before time zero and are the first peak
// candidate (peak_time zero). Memory events are applied one at a time, in the order above and,
// within one task, in the order they were added; the pool's total is compared with its peak after
// each one, and only a strictly larger total moves the peak, so peak_time and peak_breakdown
// describe the first moment the peak was reached. Consequence of pure event order: when two
// tasks end at the same instant, the frees of the later-processed one are applied after the
// allocations of tasks released by the earlier one, so the peak at coincident instants is an
// upper bound (what a caching allocator that has not yet seen the free would report). A task's
// own at_end frees always precede the at_start allocations of the tasks it releases.
//
// Complexity: O((tasks + edges) log streams + memory events) time: at most one task per stream
// runs at a time, so the queue never holds more than min(tasks, streams) events. O(tasks +
// streams + pools) memory, allocated once per Run. Target throughput >= 10 M task events/s on
// one core (bench: BM_EngineChain / BM_EngineLayered).
//
// Interference (EngineOptions; off when both slowdowns are 0, the default, which runs the path
// above unchanged): while at least one task of a kCompute stream and one of a kComm stream run on
// the same rank, every running kCompute task progresses at 1 / (1 + compute_slowdown) of its
// normal rate and every running kComm task at 1 / (1 + comm_slowdown); `duration` is the work
// at the normal rate. Rates change only when a task of either kind starts or ends on that rank;
// then each affected task's remaining work is settled and its completion rescheduled (rounded
// to the nearest picosecond), its new event taking the next sequence number (the superseded
// event is discarded when it surfaces). Everything else (edges, stream order, memory events,
// tie-breaking among events) is as above. O((tasks + edges + rate changes x tasks running on
// the rank) log events).
//
// A graph whose tasks cannot all run (a dependency cycle, or an edge that contradicts stream
// order) yields an Error naming the lowest-id stuck task, its stream and rank, and an unfinished
// predecessor it waits on, never a hang. Running an unbuilt graph is a programming error
// (FS_CHECK).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "sim/task_graph.h"
#include "sim/time.h"

namespace foresight::sim {

struct PoolUsage {
  std::int64_t peak_bytes = 0;
  SimTime peak_time;
  // Bytes per category at the moment of the peak (first time the peak was reached).
  std::array<std::int64_t, kMaxMemoryCategories> peak_breakdown{};
  std::int64_t final_bytes = 0;
};

struct RunResult {
  SimTime makespan;                   // end of the last task
  std::vector<SimTime> start;         // per task
  std::vector<SimTime> end;           // per task
  std::vector<PoolUsage> pools;       // per pool
  std::int64_t events_processed = 0;  // task completions processed (= tasks on success)
};

// Compute-communication interference on one GPU (above). Both >= 0.
struct EngineOptions {
  double compute_slowdown = 0;  // extra fraction of a compute kernel's time while NCCL runs
  double comm_slowdown = 0;     // extra fraction of a communication kernel's time under compute
};

class Engine {
 public:
  static constexpr std::int32_t kTaskEndPriority = 0;

  // The graph must be built. Stateless between calls: two engines (or two calls) never share
  // state, so simulations in one process do not interfere.
  Result<RunResult> Run(const TaskGraph& graph) const;
  Result<RunResult> Run(const TaskGraph& graph, const EngineOptions& options) const;
};

}  // namespace foresight::sim
