#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "reports/reports.h"

namespace foresight::reports {
namespace {

// Picoseconds as microseconds with 6 decimals, exactly (no floating point).
std::string Micros(std::int64_t ps) {
  char buf[48];
  const char* sign = ps < 0 ? "-" : "";
  const std::int64_t a = ps < 0 ? -ps : ps;
  std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%06" PRId64, sign, a / 1000000, a % 1000000);
  return buf;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void WriteChromeTrace(const scenarios::Scenario& s, const plan::StepResult& r,
                      const TraceOptions& options, std::ostream& out) {
  const plan::CompiledStep& c = r.compiled;
  const sim::TaskGraph& g = c.graph;
  out << "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":\"" << Escape(s.name)
      << "\",\"step_time_s\":" << Num(r.step_time_s) << "},\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&]() {
    if (!first) out << ",\n";
    first = false;
  };
  for (const plan::StageInfo& st : c.stages) {
    sep();
    out << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << st.stage
        << ",\"args\":{\"name\":\"stage " << st.stage << " (rank "
        << st.stage * s.plan.tp * s.plan.dp << ")\"}}";
    sep();
    out << "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" << st.stage
        << ",\"args\":{\"sort_index\":" << st.stage << "}}";
  }
  for (sim::StreamId sid = 0; sid < g.num_streams(); ++sid) {
    const sim::StreamInfo& info = g.stream_info(sid);
    sep();
    out << "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" << info.rank << ",\"tid\":" << sid
        << ",\"args\":{\"name\":\"" << Escape(info.name) << "\"}}";
  }
  for (sim::TaskId t = 0; t < g.num_tasks(); ++t) {
    const sim::StreamId sid = g.stream(t);
    const int pid = g.stream_info(sid).rank;
    const plan::Segment& seg = c.segments[static_cast<std::size_t>(g.tag(t))];
    const auto& list = c.op_lists[static_cast<std::size_t>(seg.list)];
    if (!options.per_op || seg.end - seg.begin == 1) {
      const plan::CostedOp& op = list[static_cast<std::size_t>(seg.begin)];
      const std::string& name = seg.end - seg.begin == 1 ? op.name : seg.name;
      double flops = 0, bytes = 0;
      for (std::int32_t i = seg.begin; i < seg.end; ++i) {
        flops += list[static_cast<std::size_t>(i)].flops;
        bytes += list[static_cast<std::size_t>(i)].bytes;
      }
      sep();
      out << "{\"ph\":\"X\",\"pid\":" << pid << ",\"tid\":" << sid << ",\"name\":\"" << Escape(name)
          << "\",\"cat\":\"" << plan::WorkClassName(seg.work)
          << "\",\"ts\":" << Micros(r.run.start[t].ps())
          << ",\"dur\":" << Micros((r.run.end[t] - r.run.start[t]).ps())
          << ",\"args\":{\"flops\":" << Num(flops) << ",\"bytes\":" << Num(bytes) << "}}";
      continue;
    }
    std::int64_t at = r.run.start[t].ps();
    for (std::int32_t i = seg.begin; i < seg.end; ++i) {
      const plan::CostedOp& op = list[static_cast<std::size_t>(i)];
      sep();
      out << "{\"ph\":\"X\",\"pid\":" << pid << ",\"tid\":" << sid << ",\"name\":\""
          << Escape(op.name) << "\",\"cat\":\"" << plan::WorkClassName(op.work)
          << (op.recompute ? ",recompute" : "") << "\",\"ts\":" << Micros(at)
          << ",\"dur\":" << Micros(op.duration.ps()) << ",\"args\":{\"flops\":" << Num(op.flops)
          << ",\"bytes\":" << Num(op.bytes) << ",\"pass\":\"" << ops::PassName(op.pass) << "\"}}";
      at += op.duration.ps();
    }
  }
  // Memory counters per stage: bytes in use over time (model states + activations), and the
  // host memory of one rank of the stage when the plan offloads to it.
  const auto& offsets = g.mem_offset();
  const auto& events = g.mem_events();
  // One pass over the memory events, bucketed by pool: (time ps, delta bytes) in task order.
  std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> pool_deltas(
      static_cast<std::size_t>(g.num_pools()));
  for (sim::TaskId t = 0; t < g.num_tasks(); ++t) {
    for (std::int64_t e = offsets[t]; e < offsets[t + 1]; ++e) {
      const sim::MemoryEvent& ev = events[static_cast<std::size_t>(e)];
      pool_deltas[static_cast<std::size_t>(ev.pool)].emplace_back(
          ev.at_end ? r.run.end[t].ps() : r.run.start[t].ps(), ev.delta_bytes);
    }
  }
  auto counter = [&](const plan::StageInfo& st, sim::PoolId pool, const char* name) {
    auto& deltas = pool_deltas[static_cast<std::size_t>(pool)];
    std::int64_t base = 0;
    for (int cat = 0; cat < sim::kMaxMemoryCategories; ++cat) {
      base += g.initial_bytes()[static_cast<std::size_t>(pool * sim::kMaxMemoryCategories + cat)];
    }
    if (base == 0 && deltas.empty()) return false;
    std::stable_sort(deltas.begin(), deltas.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::int64_t cur = base;
    sep();
    out << "{\"ph\":\"C\",\"pid\":" << st.stage << ",\"name\":\"" << name << "\",\"ts\":0"
        << ",\"args\":{\"bytes\":" << cur << "}}";
    for (std::size_t i = 0; i < deltas.size(); ++i) {
      cur += deltas[i].second;
      if (i + 1 < deltas.size() && deltas[i + 1].first == deltas[i].first) continue;
      sep();
      out << "{\"ph\":\"C\",\"pid\":" << st.stage << ",\"name\":\"" << name
          << "\",\"ts\":" << Micros(deltas[i].first) << ",\"args\":{\"bytes\":" << cur << "}}";
    }
    return true;
  };
  for (const plan::StageInfo& st : c.stages) {
    if (!counter(st, st.pool, "memory_bytes")) {
      // An empty device pool still gets its zero line.
      sep();
      out << "{\"ph\":\"C\",\"pid\":" << st.stage << ",\"name\":\"memory_bytes\",\"ts\":0"
          << ",\"args\":{\"bytes\":0}}";
    }
    counter(st, st.host_pool, "host_memory_bytes");
  }
  out << "\n]}\n";
}

}  // namespace foresight::reports
