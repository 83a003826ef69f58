#include "chakra/replay_report.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace foresight::chakra {
namespace {

using Json = nlohmann::ordered_json;

std::string Ms(double seconds) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
  return buf;
}

// Picoseconds as microseconds with 6 decimals, exactly.
std::string Micros(std::int64_t ps) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%06" PRId64, ps / 1000000, ps % 1000000);
  return buf;
}

std::string_view ComputeName(ComputeTiming t) {
  return t == ComputeTiming::kRoofline ? "roofline" : "recorded";
}
std::string_view CommName(CommTiming t) { return t == CommTiming::kModel ? "model" : "recorded"; }

}  // namespace

std::string RenderReplaySummary(const ReplayLabels& labels, const ReplayOptions& options,
                                const ReplayResult& r) {
  std::string s;
  s += "foresight replay: " + labels.name + "\n";
  s += "  trace          " + labels.prefix + ".{0.." + std::to_string(r.ranks.size() - 1) +
       "}.et (" + std::to_string(r.ranks.size()) + " ranks, " + std::to_string(r.num_nodes) +
       " nodes)\n";
  s += "  hardware       " + labels.hardware + "\n";
  s += "  timing         compute " + std::string(ComputeName(options.compute)) + ", comm " +
       std::string(CommName(options.comm)) + "\n";
  s += "  step time      " + Ms(r.step_time_s) + "\n";
  s += "  collectives    " + std::to_string(r.collective_instances) + " matched, " +
       std::to_string(r.point_to_point) + " send/recv pairs\n";
  if (options.compute == ComputeTiming::kRoofline) {
    s += "  roofline       " + std::to_string(r.roofline_fallbacks) +
         " compute nodes without num_ops/tensor_size kept their recorded duration\n";
  }
  s += "\n  rank  end          compute      cpu          comm         exposed comm  memory\n";
  for (const RankSummary& k : r.ranks) {
    char line[256];
    std::snprintf(line, sizeof line, "  %4d  %-11s  %-11s  %-11s  %-11s  %-12s  %s\n", k.rank,
                  Ms(k.end_s).c_str(), Ms(k.compute_s).c_str(), Ms(k.cpu_s).c_str(),
                  Ms(k.comm_s).c_str(), Ms(k.exposed_comm_s).c_str(), Ms(k.memory_s).c_str());
    s += line;
  }
  return s;
}

std::string RenderReplayJson(const ReplayLabels& labels, const ReplayOptions& options,
                             const ReplayResult& r) {
  Json j;
  j["name"] = labels.name;
  j["workload"] = {{"chakra", labels.prefix},
                   {"ranks", r.ranks.size()},
                   {"compute", ComputeName(options.compute)},
                   {"comm", CommName(options.comm)}};
  j["hardware"] = labels.hardware;
  j["step_time_s"] = r.step_time_s;
  j["nodes"] = r.num_nodes;
  j["tasks"] = r.graph.num_tasks();
  j["collective_instances"] = r.collective_instances;
  j["point_to_point"] = r.point_to_point;
  j["roofline_fallbacks"] = r.roofline_fallbacks;
  Json ranks = Json::array();
  for (const RankSummary& k : r.ranks) {
    ranks.push_back({{"rank", k.rank},
                     {"file", k.file},
                     {"nodes", k.nodes},
                     {"end_s", k.end_s},
                     {"compute_s", k.compute_s},
                     {"cpu_s", k.cpu_s},
                     {"comm_s", k.comm_s},
                     {"exposed_comm_s", k.exposed_comm_s},
                     {"memory_s", k.memory_s}});
  }
  j["ranks"] = std::move(ranks);
  return j.dump(2);
}

void WriteReplayTrace(const ReplayLabels& labels, const std::vector<RankGraph>& graphs,
                      const ReplayResult& r, std::ostream& out) {
  const sim::TaskGraph& g = r.graph;
  // nlohmann escapes every string correctly (trace names hold quotes and control characters).
  out << "{\"displayTimeUnit\":\"ms\",\"otherData\":"
      << Json{{"scenario", labels.name}, {"chakra", labels.prefix}, {"step_time_s", r.step_time_s}}
             .dump()
      << ",\"traceEvents\":[\n";
  bool first = true;
  auto emit = [&](const Json& event) {
    if (!first) out << ",\n";
    first = false;
    out << event.dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  for (const RankGraph& rank : graphs) {
    emit({{"ph", "M"},
          {"name", "process_name"},
          {"pid", rank.trace.rank},
          {"args", {{"name", "rank " + std::to_string(rank.trace.rank)}}}});
  }
  for (sim::StreamId sid = 0; sid < g.num_streams(); ++sid) {
    emit({{"ph", "M"},
          {"name", "thread_name"},
          {"pid", g.stream_info(sid).rank},
          {"tid", sid},
          {"args", {{"name", g.stream_info(sid).name}}}});
  }
  for (sim::TaskId t = 0; t < g.num_tasks(); ++t) {
    const ReplayTask& task = r.tasks[static_cast<std::size_t>(g.tag(t))];
    if (task.role != TaskRole::kNode) continue;
    const TraceNode& n = graphs[static_cast<std::size_t>(task.rank)]
                             .trace.nodes[static_cast<std::size_t>(task.node)];
    Json args = {{"id", n.id}, {"type", NodeTypeName(n.type)}};
    if (n.num_ops) args["num_ops"] = *n.num_ops;
    if (n.tensor_size) args["tensor_size"] = *n.tensor_size;
    if (n.comm_type) args["comm_type"] = CommTypeName(*n.comm_type);
    if (n.comm_size) args["comm_size"] = *n.comm_size;
    if (n.pg_name) args["pg_name"] = *n.pg_name;
    args["recorded_us"] = n.duration_micros;
    // ts and dur are exact microseconds with 6 decimals, written as raw numbers.
    Json event = {{"ph", "X"},
                  {"pid", task.rank},
                  {"tid", g.stream(t)},
                  {"name", n.name},
                  {"cat", NodeTypeName(n.type)}};
    event["ts"] = Json::parse(Micros(r.run.start[static_cast<std::size_t>(t)].ps()));
    event["dur"] = Json::parse(Micros(
        (r.run.end[static_cast<std::size_t>(t)] - r.run.start[static_cast<std::size_t>(t)]).ps()));
    event["args"] = std::move(args);
    emit(event);
  }
  out << "\n]}\n";
}

}  // namespace foresight::chakra
