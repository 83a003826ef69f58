// Pipeline schedules: the order in which one pipeline stage runs the forward and backward
// passes of its micro-batches.
//
//   gpipe: all m forwards, then all m backwards (Huang et al. 2019).
//   1f1b:  min(p-s-1, m) warm-up forwards, then alternate one forward / one backward, then the
//          remaining backwards (PipeDream-Flush, Narayanan et al. 2021). Stage s keeps at most
//          p-s micro-batches of activations in flight instead of m.
// With uniform stage costs and free communication both have the bubble fraction
// (p-1)/(m+p-1) of the step.
#pragma once

#include <cstdint>
#include <vector>

#include "plan/plan.h"

namespace foresight::plan {

struct PipelineSlot {
  bool forward;  // false: backward
  std::int64_t micro_batch;
};

// Order of work on `stage` (0-based) of a `stages`-deep pipeline with `micro_batches`.
// O(micro_batches).
std::vector<PipelineSlot> PipelineOrder(Schedule schedule, std::int64_t stages, std::int64_t stage,
                                        std::int64_t micro_batches);

// Largest number of micro-batches whose activations `stage` holds at once under the order.
std::int64_t MaxInFlight(const std::vector<PipelineSlot>& order);

}  // namespace foresight::plan
