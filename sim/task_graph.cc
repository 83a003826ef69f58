#include "sim/task_graph.h"

#include <string>
#include <utility>
#include <vector>

#include "base/check.h"

namespace foresight::sim {

StreamId TaskGraph::AddStream(std::string name, std::int32_t rank, StreamKind kind) {
  FS_CHECK(!built_, "TaskGraph::AddStream after Build()");
  streams_.push_back(StreamInfo{std::move(name), rank, kind});
  return static_cast<StreamId>(streams_.size() - 1);
}

PoolId TaskGraph::AddPool(std::string name) {
  FS_CHECK(!built_, "TaskGraph::AddPool after Build()");
  pool_names_.push_back(std::move(name));
  initial_bytes_.resize(initial_bytes_.size() + kMaxMemoryCategories, 0);
  return static_cast<PoolId>(pool_names_.size() - 1);
}

TaskId TaskGraph::AddTask(StreamId stream, SimTime duration, std::int32_t tag) {
  FS_CHECK(!built_, "TaskGraph::AddTask after Build()");
  FS_CHECK(stream >= 0 && stream < num_streams(),
           "TaskGraph::AddTask: invalid stream id " + std::to_string(stream));
  FS_CHECK(duration >= SimTime::Zero(),
           "TaskGraph::AddTask: negative duration " + std::to_string(duration.ps()) + " ps");
  stream_.push_back(stream);
  duration_.push_back(duration);
  tag_.push_back(tag);
  return static_cast<TaskId>(stream_.size() - 1);
}

void TaskGraph::AddEdge(TaskId before, TaskId after) {
  FS_CHECK(!built_, "TaskGraph::AddEdge after Build()");
  FS_CHECK(before >= 0 && before < num_tasks() && after >= 0 && after < num_tasks(),
           "TaskGraph::AddEdge: invalid task id in edge " + std::to_string(before) + " -> " +
               std::to_string(after));
  edges_.emplace_back(before, after);
  ++num_edges_;
}

void TaskGraph::AddMemoryEvent(TaskId task, PoolId pool, int category, bool at_end,
                               std::int64_t delta_bytes) {
  FS_CHECK(!built_, "TaskGraph::AddMemoryEvent after Build()");
  FS_CHECK(task >= 0 && task < num_tasks(),
           "TaskGraph::AddMemoryEvent: invalid task id " + std::to_string(task));
  FS_CHECK(pool >= 0 && pool < num_pools(),
           "TaskGraph::AddMemoryEvent: invalid pool id " + std::to_string(pool));
  FS_CHECK(category >= 0 && category < kMaxMemoryCategories,
           "TaskGraph::AddMemoryEvent: invalid category " + std::to_string(category));
  mem_events_.push_back(
      MemoryEvent{task, pool, static_cast<std::int8_t>(category), at_end, delta_bytes});
}

void TaskGraph::SetInitialBytes(PoolId pool, int category, std::int64_t bytes) {
  FS_CHECK(!built_, "TaskGraph::SetInitialBytes after Build()");
  FS_CHECK(pool >= 0 && pool < num_pools(),
           "TaskGraph::SetInitialBytes: invalid pool id " + std::to_string(pool));
  FS_CHECK(category >= 0 && category < kMaxMemoryCategories,
           "TaskGraph::SetInitialBytes: invalid category " + std::to_string(category));
  FS_CHECK(bytes >= 0, "TaskGraph::SetInitialBytes: negative bytes " + std::to_string(bytes));
  initial_bytes_[static_cast<std::size_t>(pool) * kMaxMemoryCategories + category] = bytes;
}

std::int64_t TaskGraph::num_edges() const { return num_edges_; }

void TaskGraph::Build() {
  FS_CHECK(!built_, "TaskGraph::Build called twice");
  const std::size_t num_tasks = stream_.size();

  // CSR by counting sort on the source task. After the counting pass succ_offset_[t + 1] holds
  // the out-degree of t; the prefix sum turns succ_offset_[t] into the first slot of t. The fill
  // pass advances succ_offset_[t] to the end of t's range (= start of t + 1), so one shift right
  // restores the starts. Edges are visited in insertion order, so the sort is stable.
  succ_offset_.assign(num_tasks + 1, 0);
  indegree_.assign(num_tasks, 0);
  for (const auto& [before, after] : edges_) {
    ++succ_offset_[static_cast<std::size_t>(before) + 1];
    ++indegree_[after];
  }
  for (std::size_t t = 0; t < num_tasks; ++t) succ_offset_[t + 1] += succ_offset_[t];
  succ_.resize(edges_.size());
  for (const auto& [before, after] : edges_) succ_[succ_offset_[before]++] = after;
  for (std::size_t t = num_tasks; t > 0; --t) succ_offset_[t] = succ_offset_[t - 1];
  succ_offset_[0] = 0;
  std::vector<std::pair<TaskId, TaskId>>().swap(edges_);  // free the edge list

  // Memory events: a stable counting sort keyed by (task, at_end). mem_offset_[t] is where t's
  // events begin, mem_end_offset_[t] where its at_end events begin; two cursors per task place the
  // events, and after placement the at_start cursor has reached mem_end_offset_[t].
  mem_offset_.assign(num_tasks + 1, 0);
  std::vector<std::int64_t> start_cursor(num_tasks, 0);  // first: the number of at_start events
  for (const MemoryEvent& e : mem_events_) {
    ++mem_offset_[static_cast<std::size_t>(e.task) + 1];
    if (!e.at_end) ++start_cursor[e.task];
  }
  for (std::size_t t = 0; t < num_tasks; ++t) mem_offset_[t + 1] += mem_offset_[t];
  std::vector<std::int64_t> end_cursor(num_tasks);
  for (std::size_t t = 0; t < num_tasks; ++t) {
    end_cursor[t] = mem_offset_[t] + start_cursor[t];
    start_cursor[t] = mem_offset_[t];
  }
  std::vector<MemoryEvent> sorted(mem_events_.size());
  for (const MemoryEvent& e : mem_events_) {
    sorted[e.at_end ? end_cursor[e.task]++ : start_cursor[e.task]++] = e;
  }
  mem_events_ = std::move(sorted);
  mem_end_offset_ = std::move(start_cursor);

  // Stream order: link each task to the next task added to the same stream.
  stream_next_.assign(num_tasks, -1);
  std::vector<TaskId> last_on_stream(streams_.size(), -1);
  for (std::size_t t = 0; t < num_tasks; ++t) {
    TaskId& last = last_on_stream[stream_[t]];
    if (last >= 0) stream_next_[last] = static_cast<TaskId>(t);
    last = static_cast<TaskId>(t);
  }
  built_ = true;
}

}  // namespace foresight::sim
