// Engine: the discrete-event simulator that runs a TaskGraph.
//
// Semantics: a task starts at the earliest time when (a) every predecessor has ended and (b) it
// is the head of its stream and the stream is idle. It ends `duration` later. Events are the
// task completions, processed in total order (time, priority, sequence number), so the same
// graph always yields the same schedule. No allocation per event: the queue and all state are
// flat arrays sized once from the graph.
//
// Complexity: O((tasks + edges) log tasks). Target throughput >= 10 M task events/s on one core
// (bench: BM_EngineChain / BM_EngineLayered).
//
// A graph whose tasks cannot all run (a dependency cycle, or an edge that contradicts stream
// order) yields an Error naming a stuck task, never a hang.
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
  SimTime makespan;                // end of the last task
  std::vector<SimTime> start;      // per task
  std::vector<SimTime> end;        // per task
  std::vector<PoolUsage> pools;    // per pool
  std::int64_t events_processed = 0;
};

class Engine {
 public:
  // The graph must be built. Stateless between calls: two engines (or two calls) never share
  // state, so simulations in one process do not interfere.
  Result<RunResult> Run(const TaskGraph& graph) const;
};

}  // namespace foresight::sim
