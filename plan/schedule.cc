#include "plan/schedule.h"

#include <algorithm>

#include "base/check.h"

namespace foresight::plan {

std::vector<PipelineSlot> PipelineOrder(Schedule schedule, std::int64_t stages, std::int64_t stage,
                                        std::int64_t micro_batches, std::int64_t vpp) {
  FS_CHECK(stages >= 1 && stage >= 0 && stage < stages && micro_batches >= 1 && vpp >= 1,
           "invalid pipeline shape");
  FS_CHECK(vpp == 1 || schedule == Schedule::kInterleaved1F1B,
           "vpp > 1 needs the interleaved-1f1b schedule");
  if (schedule == Schedule::kInterleaved1F1B) {
    return internal::InterleavedOrder(stages, stage, micro_batches, vpp);
  }
  if (schedule == Schedule::kZbH1) return internal::ZeroBubbleH1Order(stages, stage, micro_batches);
  std::vector<PipelineSlot> order;
  order.reserve(static_cast<std::size_t>(2 * micro_batches));
  if (schedule == Schedule::kGpipe) {
    for (std::int64_t i = 0; i < micro_batches; ++i) order.push_back({true, i});
    for (std::int64_t i = 0; i < micro_batches; ++i) order.push_back({false, i});
    return order;
  }
  const std::int64_t warmup = std::min(stages - stage - 1, micro_batches);
  std::int64_t next_forward = 0;
  std::int64_t next_backward = 0;
  for (; next_forward < warmup; ++next_forward) order.push_back({true, next_forward});
  while (next_forward < micro_batches) {
    order.push_back({true, next_forward++});
    order.push_back({false, next_backward++});
  }
  while (next_backward < micro_batches) order.push_back({false, next_backward++});
  return order;
}

std::int64_t MaxInFlight(const std::vector<PipelineSlot>& order) {
  const bool split =
      std::any_of(order.begin(), order.end(), [](const PipelineSlot& slot) { return slot.weight; });
  std::int64_t live = 0;
  std::int64_t peak = 0;
  for (const PipelineSlot& slot : order) {
    if (slot.forward) {
      ++live;
    } else if (slot.weight || !split) {
      --live;
    }
    peak = std::max(peak, live);
  }
  return peak;
}

}  // namespace foresight::plan
