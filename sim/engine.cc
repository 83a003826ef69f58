#include "sim/engine.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "base/check.h"
#include "sim/internal/event_queue.h"

namespace foresight::sim {
namespace {

// Current bytes of every pool, and its peak so far.
class MemoryTracker {
 public:
  explicit MemoryTracker(const TaskGraph& graph)
      : events_(graph.mem_events().data()),
        offset_(graph.mem_offset().data()),
        end_offset_(graph.mem_end_offset().data()),
        pools_(static_cast<std::size_t>(graph.num_pools())),
        usage_(static_cast<std::size_t>(graph.num_pools())) {
    const std::vector<std::int64_t>& initial = graph.initial_bytes();
    for (std::size_t p = 0; p < pools_.size(); ++p) {
      for (int c = 0; c < kMaxMemoryCategories; ++c) {
        const std::int64_t bytes = initial[p * kMaxMemoryCategories + c];
        pools_[p].bytes[c] = bytes;
        pools_[p].total += bytes;
      }
      pools_[p].peak = pools_[p].total;
      usage_[p].peak_bytes = pools_[p].total;
      usage_[p].peak_time = SimTime::Zero();
      usage_[p].peak_breakdown = pools_[p].bytes;
    }
  }

  // Applies the at_start (at_end = false) or at_end events of `task`, in the order they were added.
  void Apply(TaskId task, bool at_end, SimTime now) {
    const std::int64_t begin = at_end ? end_offset_[task] : offset_[task];
    const std::int64_t end = at_end ? offset_[task + 1] : end_offset_[task];
    for (std::int64_t i = begin; i < end; ++i) {
      const MemoryEvent& event = events_[i];
      PoolState& pool = pools_[static_cast<std::size_t>(event.pool)];
      pool.bytes[event.category] += event.delta_bytes;
      pool.total += event.delta_bytes;
      if (pool.total > pool.peak) [[unlikely]] {
        pool.peak = pool.total;
        PoolUsage& usage = usage_[static_cast<std::size_t>(event.pool)];
        usage.peak_bytes = pool.total;
        usage.peak_time = now;
        usage.peak_breakdown = pool.bytes;
      }
    }
  }

  void Prefetch(TaskId task) const {
    __builtin_prefetch(&offset_[task]);
    __builtin_prefetch(&end_offset_[task]);
  }

  std::vector<PoolUsage> Finish() {
    for (std::size_t p = 0; p < usage_.size(); ++p) usage_[p].final_bytes = pools_[p].total;
    return std::move(usage_);
  }

 private:
  // The hot part of a pool's state: what every memory event reads and writes.
  struct PoolState {
    std::int64_t total = 0;
    std::int64_t peak = 0;
    std::array<std::int64_t, kMaxMemoryCategories> bytes{};
  };

  const MemoryEvent* events_;
  const std::int64_t* offset_;
  const std::int64_t* end_offset_;
  std::vector<PoolState> pools_;
  std::vector<PoolUsage> usage_;  // written only when a peak moves
};

std::string DescribeTask(const TaskGraph& graph, TaskId task) {
  const StreamInfo& info = graph.stream_info(graph.stream(task));
  return "task " + std::to_string(task) + " (tag " + std::to_string(graph.tag(task)) +
         ") on stream '" + info.name + "' of rank " + std::to_string(info.rank);
}

// Called when the queue ran dry with tasks left. `waits[t]` > 0 marks a task that never started;
// every task that started has ended. The lowest-id such task is a stream head whose stream
// predecessor (a lower id) has ended, so it waits on an explicit edge from another stuck task.
Error DeadlockError(const TaskGraph& graph, const std::vector<std::int32_t>& waits,
                    std::int64_t num_ended) {
  const TaskId n = graph.num_tasks();
  TaskId stuck = 0;
  while (waits[stuck] == 0) ++stuck;
  TaskId blocker = -1;
  const auto& offset = graph.succ_offset();
  const auto& succ = graph.succ();
  for (TaskId u = 0; u < n && blocker < 0; ++u) {
    if (waits[u] == 0) continue;
    for (std::int64_t i = offset[u]; i < offset[u + 1]; ++i) {
      if (succ[i] == stuck) {
        blocker = u;
        break;
      }
    }
  }
  FS_CHECK(blocker >= 0, "deadlocked task " + std::to_string(stuck) + " has no stuck predecessor");
  return Error{"simulation deadlock: " + std::to_string(n - num_ended) + " of " +
                   std::to_string(n) + " tasks never ran; " + DescribeTask(graph, stuck) +
                   " waits on " + DescribeTask(graph, blocker) +
                   ", which never ran (a dependency cycle, or an edge against stream order)",
               "", 0, 0};
}

// waits[t]: predecessors of t not yet ended, counting the previous task of its stream.
std::vector<std::int32_t> InitialWaits(const TaskGraph& graph) {
  std::vector<std::int32_t> waits(graph.indegree());
  for (const TaskId next : graph.stream_next()) {
    if (next >= 0) ++waits[static_cast<std::size_t>(next)];
  }
  return waits;
}

}  // namespace

Result<RunResult> Engine::Run(const TaskGraph& graph) const {
  FS_CHECK(graph.built(), "Engine::Run on a TaskGraph that was not built");
  const TaskId num_tasks = graph.num_tasks();
  const auto n = static_cast<std::size_t>(num_tasks);

  const std::int64_t* succ_offset = graph.succ_offset().data();
  const TaskId* succ = graph.succ().data();
  const TaskId* stream_next = graph.stream_next().data();
  const SimTime* duration = graph.durations().data();
  const bool has_memory_events = !graph.mem_events().empty();

  std::vector<std::int32_t> waits = InitialWaits(graph);
  RunResult result;
  result.start.resize(n);
  result.end.resize(n);
  SimTime* start = result.start.data();
  SimTime* end = result.end.data();
  MemoryTracker memory(graph);
  internal::EventQueue queue;
  queue.Reserve(std::min<std::size_t>(n, static_cast<std::size_t>(graph.num_streams())));

  // t usually completes many events from now (the queue holds one event per busy stream), which
  // leaves time to bring in what that completion touches: the next task of t's stream and t's
  // first successor (their wait counts, durations, result slots, and what their own starts will
  // read). When a stream's tasks lie far from those of the streams it feeds (e.g. tasks added
  // stream by stream) these are otherwise cache misses on the critical path; on the layered
  // benchmark added stream by stream this took 6 M to 11 M events/s.
  // always_inline (GCC and Clang): GCC 12 otherwise outlines these lambdas, which have several
  // call sites, and the layered benchmark drops from about 13 M to 9 M events/s.
  auto prefetch_completion = [&](TaskId t) __attribute__((always_inline)) {
    auto prefetch_task = [&](TaskId u) __attribute__((always_inline)) {
      __builtin_prefetch(&waits[u], 1);
      __builtin_prefetch(&duration[u]);
      __builtin_prefetch(&stream_next[u]);
      __builtin_prefetch(&succ_offset[u]);
      __builtin_prefetch(&start[u], 1);
      __builtin_prefetch(&end[u], 1);
      if (has_memory_events) memory.Prefetch(u);
    };
    const TaskId next = stream_next[t];
    if (next >= 0) prefetch_task(next);
    const std::int64_t first = succ_offset[t];
    if (first < succ_offset[t + 1]) prefetch_task(succ[first]);
  };

  // Starts t at `now`. While a completion is being processed its event is still the queue's top
  // (`top_pending`); the first task it releases replaces it in one heap pass instead of a Pop and
  // a Push. The order of events is the same either way.
  bool top_pending = false;
  auto start_task = [&](TaskId t, SimTime now) __attribute__((always_inline)) {
    start[t] = now;
    if (has_memory_events) memory.Apply(t, /*at_end=*/false, now);
    prefetch_completion(t);
    if (top_pending) {
      queue.ReplaceTop(now + duration[t], kTaskEndPriority, t);
      top_pending = false;
    } else {
      queue.Push(now + duration[t], kTaskEndPriority, t);
    }
  };

  for (TaskId t = 0; t < num_tasks; ++t) {
    if (waits[t] == 0) start_task(t, SimTime::Zero());
  }
  SimTime now = SimTime::Zero();
  std::int64_t num_ended = 0;
  while (!queue.empty()) {
    const internal::Event event = queue.Top();
    top_pending = true;
    now = event.time;
    const TaskId t = event.payload;
    end[t] = now;
    ++num_ended;
    if (has_memory_events) memory.Apply(t, /*at_end=*/true, now);
    for (std::int64_t i = succ_offset[t], e = succ_offset[t + 1]; i < e; ++i) {
      const TaskId s = succ[i];
      if (--waits[s] == 0) start_task(s, now);
    }
    const TaskId next = stream_next[t];
    if (next >= 0 && --waits[next] == 0) start_task(next, now);
    if (top_pending) (void)queue.Pop();
  }

  if (num_ended != num_tasks) return DeadlockError(graph, waits, num_ended);
  result.makespan = now;
  result.events_processed = num_ended;
  result.pools = memory.Finish();
  return result;
}

Result<RunResult> Engine::Run(const TaskGraph& graph, const EngineOptions& options) const {
  FS_CHECK(options.compute_slowdown >= 0 && options.comm_slowdown >= 0,
           "interference slowdowns must be >= 0");
  if (options.compute_slowdown == 0 && options.comm_slowdown == 0) return Run(graph);
  FS_CHECK(graph.built(), "Engine::Run on a TaskGraph that was not built");
  const TaskId num_tasks = graph.num_tasks();
  const auto n = static_cast<std::size_t>(num_tasks);
  const std::int64_t* succ_offset = graph.succ_offset().data();
  const TaskId* succ = graph.succ().data();
  const TaskId* stream_next = graph.stream_next().data();
  const SimTime* duration = graph.durations().data();

  std::vector<std::int32_t> waits = InitialWaits(graph);
  // Dense rank index of every stream (ranks are arbitrary integers).
  std::vector<std::int32_t> ranks;
  for (StreamId s = 0; s < graph.num_streams(); ++s) ranks.push_back(graph.stream_info(s).rank);
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::vector<std::size_t> rank_of_stream(static_cast<std::size_t>(graph.num_streams()));
  for (StreamId s = 0; s < graph.num_streams(); ++s) {
    rank_of_stream[static_cast<std::size_t>(s)] = static_cast<std::size_t>(
        std::lower_bound(ranks.begin(), ranks.end(), graph.stream_info(s).rank) - ranks.begin());
  }
  struct RankState {
    std::int32_t compute = 0, comm = 0;  // running tasks of each kind
    std::vector<TaskId> running;         // running compute and comm tasks
    bool Contended() const { return compute > 0 && comm > 0; }
  };
  std::vector<RankState> rank_state(ranks.size());
  const double compute_rate = 1.0 / (1.0 + options.compute_slowdown);
  const double comm_rate = 1.0 / (1.0 + options.comm_slowdown);
  auto kind_of = [&](TaskId t) { return graph.stream_info(graph.stream(t)).kind; };
  auto rate_for = [&](StreamKind kind, bool contended) {
    if (!contended) return 1.0;
    return kind == StreamKind::kCompute ? compute_rate
                                        : (kind == StreamKind::kComm ? comm_rate : 1.0);
  };

  RunResult result;
  result.start.resize(n);
  result.end.resize(n);
  MemoryTracker memory(graph);
  internal::EventQueue queue;
  std::vector<double> remaining(n, 0.0);  // picoseconds of work at the normal rate
  std::vector<double> rate(n, 1.0);
  std::vector<SimTime> since(n);  // when `remaining` was last settled
  std::vector<SimTime> due(n);    // the completion time of the task's live event
  std::vector<char> ended(n, 0);

  auto schedule = [&](TaskId t, SimTime now) {
    due[t] = now + SimTime::Picoseconds(std::llround(remaining[t] / rate[t]));
    queue.Push(due[t], kTaskEndPriority, t);
  };
  // A rank's contention changed at `now`: settle its running tasks and reschedule them.
  auto reprice = [&](RankState& state, SimTime now) {
    const bool contended = state.Contended();
    for (TaskId u : state.running) {
      remaining[u] =
          std::max(0.0, remaining[u] - static_cast<double>((now - since[u]).ps()) * rate[u]);
      since[u] = now;
      rate[u] = rate_for(kind_of(u), contended);
      schedule(u, now);
    }
  };
  auto start_task = [&](TaskId t, SimTime now) {
    result.start[t] = now;
    memory.Apply(t, /*at_end=*/false, now);
    remaining[t] = static_cast<double>(duration[t].ps());
    since[t] = now;
    rate[t] = 1.0;
    const StreamKind kind = kind_of(t);
    if (kind != StreamKind::kOther) {
      RankState& state = rank_state[rank_of_stream[static_cast<std::size_t>(graph.stream(t))]];
      const bool was = state.Contended();
      ++(kind == StreamKind::kCompute ? state.compute : state.comm);
      if (state.Contended() != was) reprice(state, now);
      state.running.push_back(t);
      rate[t] = rate_for(kind, state.Contended());
    }
    schedule(t, now);
  };

  for (TaskId t = 0; t < num_tasks; ++t) {
    if (waits[t] == 0) start_task(t, SimTime::Zero());
  }
  SimTime now = SimTime::Zero();
  std::int64_t num_ended = 0;
  while (!queue.empty()) {
    const internal::Event event = queue.Pop();
    const TaskId t = event.payload;
    if (ended[t] != 0 || event.time != due[t]) continue;  // superseded by a reschedule
    ended[t] = 1;
    now = event.time;
    result.end[t] = now;
    ++num_ended;
    memory.Apply(t, /*at_end=*/true, now);
    const StreamKind kind = kind_of(t);
    if (kind != StreamKind::kOther) {
      RankState& state = rank_state[rank_of_stream[static_cast<std::size_t>(graph.stream(t))]];
      const bool was = state.Contended();
      --(kind == StreamKind::kCompute ? state.compute : state.comm);
      state.running.erase(std::find(state.running.begin(), state.running.end(), t));
      if (state.Contended() != was) reprice(state, now);
    }
    for (std::int64_t i = succ_offset[t], e = succ_offset[t + 1]; i < e; ++i) {
      const TaskId s = succ[i];
      if (--waits[s] == 0) start_task(s, now);
    }
    const TaskId next = stream_next[t];
    if (next >= 0 && --waits[next] == 0) start_task(next, now);
  }

  if (num_ended != num_tasks) return DeadlockError(graph, waits, num_ended);
  result.makespan = now;
  result.events_processed = num_ended;
  result.pools = memory.Finish();
  return result;
}

}  // namespace foresight::sim
