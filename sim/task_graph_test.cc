#include "sim/task_graph.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace foresight::sim {
namespace {

SimTime Ns(std::int64_t ns) { return SimTime::Nanoseconds(ns); }

TEST(TaskGraphTest, AssignsDenseIdsInCallOrder) {
  TaskGraph g;
  EXPECT_EQ(g.AddStream("compute", 0), 0);
  EXPECT_EQ(g.AddStream("comm", 1), 1);
  EXPECT_EQ(g.AddPool("hbm0"), 0);
  EXPECT_EQ(g.AddTask(1, Ns(5), 42), 0);
  EXPECT_EQ(g.AddTask(0, Ns(7), 43), 1);
  EXPECT_EQ(g.num_tasks(), 2);
  EXPECT_EQ(g.num_streams(), 2);
  EXPECT_EQ(g.num_pools(), 1);
  EXPECT_EQ(g.stream(0), 1);
  EXPECT_EQ(g.duration(1), Ns(7));
  EXPECT_EQ(g.tag(0), 42);
  EXPECT_EQ(g.stream_info(1).name, "comm");
  EXPECT_EQ(g.stream_info(1).rank, 1);
  EXPECT_EQ(g.pool_name(0), "hbm0");
  EXPECT_FALSE(g.built());
}

TEST(TaskGraphTest, BuildMakesStableCsrAndIndegrees) {
  TaskGraph g;
  g.AddStream("s", 0);
  for (int i = 0; i < 4; ++i) g.AddTask(0, Ns(1), i);
  // Edges added out of source order: 2->3, 0->2, 0->1, 1->3, 0->3.
  g.AddEdge(2, 3);
  g.AddEdge(0, 2);
  g.AddEdge(0, 1);
  g.AddEdge(1, 3);
  g.AddEdge(0, 3);
  EXPECT_EQ(g.num_edges(), 5);
  g.Build();
  ASSERT_TRUE(g.built());
  EXPECT_EQ(g.num_edges(), 5);
  // Out-degrees 3, 1, 1, 0 -> offsets 0, 3, 4, 5, 5; successors of 0 in insertion order 2, 1, 3.
  EXPECT_EQ(g.succ_offset(), (std::vector<std::int64_t>{0, 3, 4, 5, 5}));
  EXPECT_EQ(g.succ(), (std::vector<TaskId>{2, 1, 3, 3, 3}));
  EXPECT_EQ(g.indegree(), (std::vector<std::int32_t>{0, 1, 1, 3}));
}

TEST(TaskGraphTest, BuildLinksTasksToTheNextTaskOfTheirStream) {
  TaskGraph g;
  g.AddStream("a", 0);
  g.AddStream("b", 0);
  g.AddStream("empty", 0);
  g.AddTask(0, Ns(1), 0);  // 0 on a
  g.AddTask(1, Ns(1), 0);  // 1 on b
  g.AddTask(0, Ns(1), 0);  // 2 on a
  g.AddTask(0, Ns(1), 0);  // 3 on a
  g.AddTask(1, Ns(1), 0);  // 4 on b
  g.Build();
  // a: 0 -> 2 -> 3; b: 1 -> 4.
  EXPECT_EQ(g.stream_next(), (std::vector<TaskId>{2, 4, 3, -1, -1}));
}

TEST(TaskGraphTest, BuildSortsMemoryEventsByTaskThenStartBeforeEndStably) {
  TaskGraph g;
  g.AddStream("s", 0);
  g.AddPool("p0");
  g.AddPool("p1");
  for (int i = 0; i < 3; ++i) g.AddTask(0, Ns(1), i);
  g.AddMemoryEvent(2, 0, 1, false, 10);
  g.AddMemoryEvent(0, 1, 3, true, -20);
  g.AddMemoryEvent(2, 1, 0, true, 30);
  g.AddMemoryEvent(0, 0, 7, false, 40);
  g.AddMemoryEvent(0, 0, 2, true, -25);
  g.AddMemoryEvent(0, 0, 1, false, 50);
  g.Build();
  // Task 0: at_start 40, 50 (added in that order), then at_end -20, -25; task 1: none;
  // task 2: at_start 10, at_end 30.
  EXPECT_EQ(g.mem_offset(), (std::vector<std::int64_t>{0, 4, 4, 6}));
  EXPECT_EQ(g.mem_end_offset(), (std::vector<std::int64_t>{2, 4, 5}));
  std::vector<std::int64_t> deltas;
  for (const MemoryEvent& e : g.mem_events()) deltas.push_back(e.delta_bytes);
  EXPECT_EQ(deltas, (std::vector<std::int64_t>{40, 50, -20, -25, 10, 30}));
  const MemoryEvent& first_end = g.mem_events()[2];
  EXPECT_EQ(first_end.task, 0);
  EXPECT_EQ(first_end.pool, 1);
  EXPECT_EQ(first_end.category, 3);
  EXPECT_TRUE(first_end.at_end);
  EXPECT_EQ(g.mem_events()[5].task, 2);
}

TEST(TaskGraphTest, InitialBytesAreIndexedPoolTimesCategoriesPlusCategory) {
  TaskGraph g;
  g.AddPool("p0");
  g.AddPool("p1");
  g.SetInitialBytes(1, 2, 500);
  g.SetInitialBytes(0, 0, 7);
  g.SetInitialBytes(0, 0, 9);  // replaces 7
  g.Build();
  ASSERT_EQ(g.initial_bytes().size(), 2u * kMaxMemoryCategories);
  EXPECT_EQ(g.initial_bytes()[0], 9);
  EXPECT_EQ(g.initial_bytes()[1 * kMaxMemoryCategories + 2], 500);
  EXPECT_EQ(g.initial_bytes()[1], 0);
}

TEST(TaskGraphTest, EmptyGraphBuilds) {
  TaskGraph g;
  g.Build();
  EXPECT_TRUE(g.built());
  EXPECT_EQ(g.succ_offset(), (std::vector<std::int64_t>{0}));
  EXPECT_TRUE(g.succ().empty());
}

TEST(TaskGraphDeathTest, InvalidIdsAndMutationAfterBuildAreCheckFailures) {
  TaskGraph g;
  g.AddStream("s", 0);
  g.AddPool("p");
  g.AddTask(0, Ns(1), 0);
  EXPECT_DEATH(g.AddTask(1, Ns(1), 0), "invalid stream id 1");
  EXPECT_DEATH(g.AddTask(0, SimTime::Picoseconds(-1), 0), "negative duration");
  EXPECT_DEATH(g.AddEdge(0, 1), "invalid task id in edge 0 -> 1");
  EXPECT_DEATH(g.AddEdge(-1, 0), "invalid task id");
  EXPECT_DEATH(g.AddMemoryEvent(0, 1, 0, false, 1), "invalid pool id 1");
  EXPECT_DEATH(g.AddMemoryEvent(0, 0, kMaxMemoryCategories, false, 1), "invalid category");
  EXPECT_DEATH(g.SetInitialBytes(0, -1, 1), "invalid category");
  EXPECT_DEATH(g.SetInitialBytes(0, 0, -1), "negative bytes");
  g.Build();
  EXPECT_DEATH(g.AddTask(0, Ns(1), 0), "AddTask after Build");
  EXPECT_DEATH(g.AddEdge(0, 0), "AddEdge after Build");
  EXPECT_DEATH(g.Build(), "Build called twice");
}

}  // namespace
}  // namespace foresight::sim
