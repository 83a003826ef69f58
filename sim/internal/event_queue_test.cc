#include "sim/internal/event_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <tuple>
#include <vector>

namespace foresight::sim::internal {
namespace {

TEST(EventQueueTest, PopsByTimeThenPriorityThenInsertionOrder) {
  EventQueue q;
  q.Push(SimTime::Picoseconds(5), 0, 0);
  q.Push(SimTime::Picoseconds(3), 1, 1);
  q.Push(SimTime::Picoseconds(3), 0, 2);
  q.Push(SimTime::Picoseconds(5), 0, 3);
  q.Push(SimTime::Picoseconds(3), 1, 4);
  q.Push(SimTime::Picoseconds(1), 9, 5);
  q.Push(SimTime::Picoseconds(3), -2, 6);
  EXPECT_EQ(q.size(), 7u);
  EXPECT_EQ(q.Top().payload, 5);
  EXPECT_EQ(q.Top().priority(), 9);
  EXPECT_EQ(q.Top().sequence(), 5u);
  // By hand: t=1 (5); t=3 by priority -2 (6), 0 (2), then 1 in push order (1, 4); t=5 (0, 3).
  std::vector<std::int32_t> order;
  while (!q.empty()) order.push_back(q.Pop().payload);
  EXPECT_EQ(order, (std::vector<std::int32_t>{5, 6, 2, 1, 4, 0, 3}));
  EXPECT_EQ(q.pushed(), 7u);
}

TEST(EventQueueTest, ReplaceTopEqualsPopThenPush) {
  EventQueue q;
  q.Push(SimTime::Picoseconds(2), 0, 0);
  q.Push(SimTime::Picoseconds(4), 0, 1);
  // Removes payload 0 (t=2) and adds payload 2 at t=4 with a later sequence than payload 1.
  EXPECT_EQ(q.ReplaceTop(SimTime::Picoseconds(4), 0, 2).payload, 0);
  EXPECT_EQ(q.Pop().payload, 1);
  EXPECT_EQ(q.Pop().payload, 2);
  EXPECT_TRUE(q.empty());
}

TEST(EventQueueTest, InterleavedOperationsMatchLinearScanReference) {
  // Reference: an unsorted vector of (time, priority, sequence, payload) tuples; the next event
  // is its lexicographic minimum, found by a linear scan.
  using Ref = std::tuple<std::int64_t, std::int32_t, std::uint64_t, std::int32_t>;
  EventQueue q;
  q.Reserve(64);
  std::vector<Ref> reference;
  std::uint64_t state = 1;
  auto next = [&state](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  auto pop_reference = [&reference] {
    std::size_t best = 0;
    for (std::size_t i = 1; i < reference.size(); ++i) {
      if (reference[i] < reference[best]) best = i;
    }
    const Ref r = reference[best];
    reference.erase(reference.begin() + static_cast<std::ptrdiff_t>(best));
    return r;
  };
  std::uint64_t sequence = 0;
  for (int step = 0; step < 30000; ++step) {
    // Few distinct times and priorities, so ties are common.
    const auto time = static_cast<std::int64_t>(next(8));
    const auto priority = static_cast<std::int32_t>(next(3)) - 1;
    const std::uint64_t op = next(4);
    if (reference.empty() || (op <= 1 && reference.size() < 64)) {
      q.Push(SimTime::Picoseconds(time), priority, step);
      reference.emplace_back(time, priority, sequence++, step);
    } else if (op == 2) {
      const Event got = q.ReplaceTop(SimTime::Picoseconds(time), priority, step);
      EXPECT_EQ(got.payload, std::get<3>(pop_reference()));
      reference.emplace_back(time, priority, sequence++, step);
    } else {
      const Event got = q.Pop();
      const Ref want = pop_reference();
      EXPECT_EQ(got.time.ps(), std::get<0>(want));
      EXPECT_EQ(got.priority(), std::get<1>(want));
      EXPECT_EQ(got.sequence(), std::get<2>(want));
      EXPECT_EQ(got.payload, std::get<3>(want));
    }
    ASSERT_EQ(q.size(), reference.size());
  }
}

TEST(EventQueueTest, ReservedQueueDoesNotReallocate) {
  EventQueue q;
  q.Reserve(16);
  q.Push(SimTime::Zero(), 0, 0);
  const Event* first = &q.Top();
  for (int i = 1; i < 16; ++i) q.Push(SimTime::Picoseconds(16 - i), 0, i);
  EXPECT_EQ(&q.Top(), first);  // same buffer: no reallocation
  EXPECT_EQ(q.Top().payload, 0);
}

}  // namespace
}  // namespace foresight::sim::internal
