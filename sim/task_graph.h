// TaskGraph: the flat, compiled form of one simulated step.
//
// A task runs on exactly one stream for a fixed duration. Streams follow CUDA stream semantics:
// tasks of a stream run one at a time in the order they were added; a task also waits for
// every task it depends on (explicit edges, possibly across streams and ranks). Each stream
// belongs to a rank (one GPU) and has a kind; the engine interprets both only when it models
// interference between compute and communication kernels (EngineOptions, engine.h).
//
// Tasks may carry memory events: a signed byte delta on a memory pool, in a category, applied
// when the task starts or when it ends. The engine tracks current and peak bytes per pool.
//
// Storage is flat: tasks, edges (CSR, built once) and memory events live in vectors indexed by
// integer ids. Adding a task is O(1) amortized; Build() is O(tasks + edges).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/time.h"

namespace foresight::sim {

using TaskId = std::int32_t;
using StreamId = std::int32_t;
using PoolId = std::int32_t;

inline constexpr int kMaxMemoryCategories = 8;

// What a stream's kernels do, for the interference model (engine.h): compute kernels and
// communication (NCCL) kernels on one GPU slow each other down; other streams (copy engines,
// the host) are not affected.
enum class StreamKind : std::uint8_t { kOther, kCompute, kComm };

struct StreamInfo {
  std::string name;   // e.g. "compute", "comm", "p2p"
  std::int32_t rank;  // the simulated rank that owns the stream
  StreamKind kind = StreamKind::kOther;
};

struct MemoryEvent {
  TaskId task;
  PoolId pool;
  std::int8_t category;  // 0 .. kMaxMemoryCategories-1, meaning chosen by the caller
  bool at_end;           // false: applied when the task starts; true: when it ends
  std::int64_t delta_bytes;
};

class TaskGraph {
 public:
  // Mutators. Ids are dense and assigned in call order (0, 1, 2, ...). Invalid ids, a negative
  // duration, a category outside [0, kMaxMemoryCategories) or a call after Build() are
  // programming errors (FS_CHECK). All are O(1) amortized.
  StreamId AddStream(std::string name, std::int32_t rank, StreamKind kind = StreamKind::kOther);
  PoolId AddPool(std::string name);
  // `tag` is opaque caller data (e.g. an index into a table of op descriptions).
  TaskId AddTask(StreamId stream, SimTime duration, std::int32_t tag);
  // `after` starts only when `before` has ended. Edges must be added before Build(). An edge
  // that closes a cycle (including before == after) is accepted here; Engine::Run reports it.
  void AddEdge(TaskId before, TaskId after);
  // Several events of one task are applied in the order they were added.
  void AddMemoryEvent(TaskId task, PoolId pool, int category, bool at_end,
                      std::int64_t delta_bytes);
  // Pre-sets a pool's current bytes (e.g. resident weights) in a category before time zero.
  // Replaces any earlier value for that (pool, category); bytes must be >= 0.
  void SetInitialBytes(PoolId pool, int category, std::int64_t bytes);
  // Freezes the graph: builds CSR adjacency (counting sort, stable: successors keep the order in
  // which their edges were added), sorts memory events by task and then at_start before at_end
  // (stable counting sort), links each task to the next task of its stream, and frees the
  // temporary edge list. O(tasks + edges + streams + memory events). Must be called exactly once,
  // before Engine::Run; the Add*/Set* mutators are FS_CHECK failures afterwards.
  void Build();

  std::int32_t num_tasks() const { return static_cast<std::int32_t>(stream_.size()); }
  std::int32_t num_streams() const { return static_cast<std::int32_t>(streams_.size()); }
  std::int32_t num_pools() const { return static_cast<std::int32_t>(pool_names_.size()); }
  std::int64_t num_edges() const;
  // The edges added so far, in call order (before Build(); empty after it).
  const std::vector<std::pair<TaskId, TaskId>>& pending_edges() const { return edges_; }
  bool built() const { return built_; }

  StreamId stream(TaskId t) const { return stream_[t]; }
  SimTime duration(TaskId t) const { return duration_[t]; }
  std::int32_t tag(TaskId t) const { return tag_[t]; }
  const StreamInfo& stream_info(StreamId s) const { return streams_[s]; }
  const std::string& pool_name(PoolId p) const { return pool_names_[p]; }

  // Internals used by the engine (valid after Build()).
  // Successors of t: succ_[succ_offset_[t] .. succ_offset_[t+1]).
  const std::vector<std::int64_t>& succ_offset() const { return succ_offset_; }
  const std::vector<TaskId>& succ() const { return succ_; }
  const std::vector<std::int32_t>& indegree() const { return indegree_; }
  // Memory events of t: mem_events_[mem_offset_[t] .. mem_offset_[t+1]) (sorted by task). Within
  // a task, its at_start events come first, at_end events from mem_end_offset_[t] on; each group
  // keeps the order in which its events were added.
  const std::vector<std::int64_t>& mem_offset() const { return mem_offset_; }
  const std::vector<std::int64_t>& mem_end_offset() const { return mem_end_offset_; }
  const std::vector<MemoryEvent>& mem_events() const { return mem_events_; }
  const std::vector<std::int64_t>& initial_bytes() const { return initial_bytes_; }  // pool*K+cat
  const std::vector<SimTime>& durations() const { return duration_; }                // per task
  // The task added to the same stream right after t, or -1 if t is its stream's last task.
  const std::vector<TaskId>& stream_next() const { return stream_next_; }

 private:
  std::vector<StreamInfo> streams_;
  std::vector<std::string> pool_names_;
  std::vector<StreamId> stream_;
  std::vector<SimTime> duration_;
  std::vector<std::int32_t> tag_;
  std::vector<std::pair<TaskId, TaskId>> edges_;  // cleared by Build()
  std::vector<std::int64_t> succ_offset_;
  std::vector<TaskId> succ_;
  std::vector<std::int32_t> indegree_;
  std::vector<MemoryEvent> mem_events_;
  std::vector<std::int64_t> mem_offset_;
  std::vector<std::int64_t> mem_end_offset_;
  std::vector<std::int64_t> initial_bytes_;
  std::vector<TaskId> stream_next_;
  std::int64_t num_edges_ = 0;
  bool built_ = false;
};

}  // namespace foresight::sim
