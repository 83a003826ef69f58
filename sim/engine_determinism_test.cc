// Determinism and reference-schedule tests for Engine on pseudo-random DAGs.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sim/engine.h"

namespace foresight::sim {
namespace {

// A pseudo-random DAG: tasks on `num_streams` streams, durations 0..4 ns (zeros included), up to
// two edges into each task from lower ids. Since every edge and every stream order goes from a
// lower id to a higher one, task-id order is a topological order and the graph cannot deadlock.
struct RandomDag {
  TaskGraph graph;
  std::vector<std::pair<TaskId, TaskId>> edges;
};

RandomDag MakeRandomDag(int num_streams, int num_tasks, std::uint64_t seed) {
  std::uint64_t state = seed;
  auto next = [&state](std::uint64_t bound) {  // 64-bit LCG (Knuth MMIX constants)
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  RandomDag dag;
  for (int s = 0; s < num_streams; ++s) dag.graph.AddStream("s" + std::to_string(s), s / 2);
  for (int t = 0; t < num_tasks; ++t) {
    const auto stream = static_cast<StreamId>(next(num_streams));
    dag.graph.AddTask(stream, SimTime::Nanoseconds(static_cast<std::int64_t>(next(5))), t);
    if (t == 0) continue;
    const std::uint64_t fan_in = next(3);
    for (std::uint64_t k = 0; k < fan_in; ++k) {
      const auto before = static_cast<TaskId>(next(t));
      dag.graph.AddEdge(before, t);
      dag.edges.emplace_back(before, t);
    }
  }
  dag.graph.Build();
  return dag;
}

TEST(EngineDeterminismTest, RandomDagMatchesAsapReferenceSchedule) {
  // Reference, computed without the engine: visit tasks in id order (a topological order);
  // start[t] = max(end of the previous task on t's stream, end of every predecessor), or 0.
  RandomDag dag = MakeRandomDag(/*num_streams=*/8, /*num_tasks=*/3000, /*seed=*/12345);
  const TaskGraph& g = dag.graph;
  std::vector<std::vector<TaskId>> preds(g.num_tasks());
  for (const auto& [before, after] : dag.edges) preds[after].push_back(before);
  std::vector<SimTime> start(g.num_tasks()), end(g.num_tasks());
  std::vector<SimTime> stream_free(g.num_streams());
  SimTime makespan;
  for (TaskId t = 0; t < g.num_tasks(); ++t) {
    SimTime s = stream_free[g.stream(t)];
    for (TaskId p : preds[t]) s = Max(s, end[p]);
    start[t] = s;
    end[t] = s + g.duration(t);
    stream_free[g.stream(t)] = end[t];
    makespan = Max(makespan, end[t]);
  }
  Result<RunResult> r = Engine().Run(g);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->start, start);
  EXPECT_EQ(r->end, end);
  EXPECT_EQ(r->makespan, makespan);
  EXPECT_EQ(r->events_processed, g.num_tasks());
}

TEST(EngineDeterminismTest, SameGraphTwiceGivesIdenticalSchedules) {
  RandomDag dag = MakeRandomDag(16, 5000, 7);
  const Engine engine;
  Result<RunResult> first = engine.Run(dag.graph);
  Result<RunResult> second = engine.Run(dag.graph);
  Result<RunResult> fresh = Engine().Run(dag.graph);
  ASSERT_TRUE(first.ok() && second.ok() && fresh.ok());
  EXPECT_EQ(first->start, second->start);
  EXPECT_EQ(first->end, second->end);
  EXPECT_EQ(first->start, fresh->start);
  EXPECT_EQ(first->end, fresh->end);
  // An identically built second graph gives the same schedule too.
  RandomDag again = MakeRandomDag(16, 5000, 7);
  Result<RunResult> rebuilt = engine.Run(again.graph);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(first->start, rebuilt->start);
  EXPECT_EQ(first->end, rebuilt->end);
}

TEST(EngineDeterminismTest, EnginesInParallelThreadsDoNotInterfere) {
  RandomDag shared = MakeRandomDag(8, 20000, 99);
  RandomDag other = MakeRandomDag(4, 20000, 100);
  Result<RunResult> expected_shared = Engine().Run(shared.graph);
  Result<RunResult> expected_other = Engine().Run(other.graph);
  ASSERT_TRUE(expected_shared.ok() && expected_other.ok());

  // Two threads run the same const graph, a third a different one, all at once.
  std::vector<Result<RunResult>> results(3, Error{"not run", "", 0, 0});
  std::vector<std::thread> threads;
  threads.emplace_back([&] { results[0] = Engine().Run(shared.graph); });
  threads.emplace_back([&] { results[1] = Engine().Run(shared.graph); });
  threads.emplace_back([&] { results[2] = Engine().Run(other.graph); });
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(results[i].ok()) << i;
  EXPECT_EQ(results[0]->start, expected_shared->start);
  EXPECT_EQ(results[0]->end, expected_shared->end);
  EXPECT_EQ(results[1]->end, expected_shared->end);
  EXPECT_EQ(results[2]->start, expected_other->start);
  EXPECT_EQ(results[2]->end, expected_other->end);
}

}  // namespace
}  // namespace foresight::sim
