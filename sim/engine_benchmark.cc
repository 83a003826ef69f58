// Engine throughput: task completion events per second (items_per_second in the output).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "sim/engine.h"
#include "sim/internal/event_queue.h"

namespace foresight::sim {
namespace {

void RunAndCount(benchmark::State& state, const TaskGraph& graph,
                 const EngineOptions& options = {}) {
  const Engine engine;
  std::int64_t events = 0;
  for (auto _ : state) {
    Result<RunResult> result = engine.Run(graph, options);
    if (!result.ok()) {
      state.SkipWithError(result.error().message.c_str());
      return;
    }
    events += result->events_processed;
    benchmark::DoNotOptimize(result->makespan);
  }
  state.SetItemsProcessed(events);
  state.counters["tasks"] = static_cast<double>(graph.num_tasks());
}

// One stream, N tasks, each also linked to the next by an explicit edge: the queue holds one
// event at a time, so this measures the per-event fixed cost.
void BM_EngineChain(benchmark::State& state) {
  const auto n = static_cast<std::int32_t>(state.range(0));
  TaskGraph graph;
  const StreamId s = graph.AddStream("compute", 0);
  for (std::int32_t i = 0; i < n; ++i) {
    graph.AddTask(s, SimTime::Nanoseconds(1 + i % 7), i);
    if (i > 0) graph.AddEdge(i - 1, i);
  }
  graph.Build();
  RunAndCount(state, graph);
}
BENCHMARK(BM_EngineChain)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// `streams` x `per_stream` tasks; task (s, i) has an edge to (s + 1, i); up to `streams` events
// are pending at once. Arg 2 picks the order in which tasks are added (and so their ids):
// 0 = wavefront (all streams' task i, then i + 1: a stream's tasks are `streams` ids apart),
// 1 = stream by stream (a stream's tasks have consecutive ids).
TaskGraph MakeLayeredGraph(std::int32_t streams, std::int32_t per_stream, bool stream_major,
                           bool with_memory) {
  TaskGraph graph;
  for (std::int32_t s = 0; s < streams; ++s) {
    graph.AddStream("s" + std::to_string(s), s);
    if (with_memory) graph.AddPool("hbm" + std::to_string(s));
  }
  auto id = [&](std::int32_t s, std::int32_t i) {
    return stream_major ? s * per_stream + i : i * streams + s;
  };
  const std::int64_t n = static_cast<std::int64_t>(streams) * per_stream;
  for (std::int64_t k = 0; k < n; ++k) {
    const auto s = static_cast<std::int32_t>(stream_major ? k / per_stream : k % streams);
    const auto i = static_cast<std::int32_t>(stream_major ? k % per_stream : k / streams);
    const TaskId t = graph.AddTask(s, SimTime::Nanoseconds(1 + (s * 7 + i * 3) % 11), i);
    if (with_memory) {
      graph.AddMemoryEvent(t, s, i % kMaxMemoryCategories, false, 1 << 20);
      graph.AddMemoryEvent(t, s, i % kMaxMemoryCategories, true, -(1 << 20));
    }
  }
  for (std::int32_t s = 0; s + 1 < streams; ++s) {
    for (std::int32_t i = 0; i < per_stream; ++i) graph.AddEdge(id(s, i), id(s + 1, i));
  }
  graph.Build();
  return graph;
}

void BM_EngineLayered(benchmark::State& state) {
  const TaskGraph graph =
      MakeLayeredGraph(static_cast<std::int32_t>(state.range(0)),
                       static_cast<std::int32_t>(state.range(1)), state.range(2) != 0, false);
  RunAndCount(state, graph);
}
BENCHMARK(BM_EngineLayered)
    ->ArgNames({"streams", "per_stream", "stream_major"})
    ->Args({64, 16384, 0})
    ->Args({64, 16384, 1})
    ->Args({8, 1 << 17, 0})
    ->Unit(benchmark::kMillisecond);

// The same layered graph with one allocation at start and one free at end per task, on one
// pool per stream: the cost of memory tracking.
void BM_EngineLayeredWithMemory(benchmark::State& state) {
  const TaskGraph graph =
      MakeLayeredGraph(static_cast<std::int32_t>(state.range(0)),
                       static_cast<std::int32_t>(state.range(1)), state.range(2) != 0, true);
  RunAndCount(state, graph);
}
BENCHMARK(BM_EngineLayeredWithMemory)
    ->ArgNames({"streams", "per_stream", "stream_major"})
    ->Args({64, 16384, 0})
    ->Unit(benchmark::kMillisecond);

// Steady-state queue: hold `size` events; each iteration removes the earliest and adds one later,
// either as Pop + Push (arg 1 = 0) or as one ReplaceTop (arg 1 = 1), as the engine does.
void BM_EngineEventQueueHold(benchmark::State& state) {
  const auto size = static_cast<std::int32_t>(state.range(0));
  const bool replace_top = state.range(1) != 0;
  internal::EventQueue queue;
  queue.Reserve(static_cast<std::size_t>(size));
  for (std::int32_t i = 0; i < size; ++i) queue.Push(SimTime::Picoseconds(i % 13), 0, i);
  std::int64_t k = 0;
  for (auto _ : state) {
    const internal::Event& top = queue.Top();
    const SimTime later = top.time + SimTime::Picoseconds(1 + (k++ * 7919) % 97);
    if (replace_top) {
      queue.ReplaceTop(later, 0, top.payload);
    } else {
      const internal::Event e = queue.Pop();
      queue.Push(later, 0, e.payload);
    }
  }
  benchmark::DoNotOptimize(queue.Top());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineEventQueueHold)
    ->ArgNames({"size", "replace_top"})
    ->ArgsProduct({{8, 64, 4096}, {0, 1}});

// Interference path (EngineOptions with slowdowns): `ranks` GPUs, each with a compute stream
// of `per_stream` tasks and a comm stream whose task i waits for compute task i (a gradient
// reduce per layer): contention starts and stops around every comm task, so every event on a
// rank reschedules the other kind's running task.
void BM_EngineInterference(benchmark::State& state) {
  const auto ranks = static_cast<std::int32_t>(state.range(0));
  const auto per_stream = static_cast<std::int32_t>(state.range(1));
  TaskGraph graph;
  for (std::int32_t r = 0; r < ranks; ++r) {
    const StreamId compute = graph.AddStream("compute", r, StreamKind::kCompute);
    const StreamId comm = graph.AddStream("comm", r, StreamKind::kComm);
    for (std::int32_t i = 0; i < per_stream; ++i) {
      const TaskId c = graph.AddTask(compute, SimTime::Nanoseconds(5 + (r * 7 + i * 3) % 11), i);
      const TaskId m = graph.AddTask(comm, SimTime::Nanoseconds(3 + (r * 5 + i) % 7), i);
      graph.AddEdge(c, m);
    }
  }
  graph.Build();
  RunAndCount(state, graph, {.compute_slowdown = 0.2, .comm_slowdown = 0.1});
}
BENCHMARK(BM_EngineInterference)
    ->ArgNames({"ranks", "per_stream"})
    ->Args({64, 8192})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace foresight::sim
