#include "search/plan_search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "search/evaluation.h"

namespace foresight::search {
namespace {

struct SearchPoint {
  std::size_t cluster = 0;
  plan::PlanPoint plan;
};

std::string Fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

std::string Duration(double seconds) {
  if (seconds >= 86400) return Fixed(seconds / 86400, 1) + " d";
  if (seconds >= 3600) return Fixed(seconds / 3600, 1) + " h";
  return Fixed(seconds, 1) + " s";
}

std::string ClusterLabel(const ClusterChoice& c) {
  return c.hardware.name + " x" + std::to_string(c.cluster.nodes) + " (" +
         std::to_string(c.cluster.world_size()) + " GPUs)";
}

// The choices beyond tp/pp/dp/micro_batch/schedule/recompute, only where they are not the
// defaults (vpp 1, cp 1, ep 1, zero 0, no sequence parallelism).
std::string Extra(const Json& r) {
  std::string out;
  for (const char* key : {"vpp", "cp", "ep", "zero"}) {
    if (r.contains(key) && r[key].is_number() && r[key].get<double>() != (key[0] == 'z' ? 0 : 1)) {
      out += " " + std::string(key) + TextOf(r, key);
    }
  }
  if (r.contains("sequence_parallel") && r["sequence_parallel"].is_boolean() &&
      r["sequence_parallel"].get<bool>()) {
    out += " sp";
  }
  return out;
}

std::string PlanLabel(const Json& r) {
  return "tp" + TextOf(r, "tp") + " pp" + TextOf(r, "pp") + " dp" + TextOf(r, "dp") + " mb" +
         TextOf(r, "micro_batch") + " " + TextOf(r, "schedule") +
         " recompute=" + TextOf(r, "recompute") + Extra(r);
}

std::string ObjectiveUnit(Objective o) {
  switch (o) {
    case Objective::kStepTime:
      return "seconds per step";
    case Objective::kCostPerToken:
      return "USD per million tokens";
    case Objective::kTimeToTrain:
      return "seconds to train on training.tokens";
  }
  return "";
}

// What separates `next` from `prev`: objective gap, differing plan choices, time components.
std::string Separation(const SearchReport& report, const Row& prev, const Row& next) {
  const double a = ObjectiveValue(report, prev);
  const double b = ObjectiveValue(report, next);
  std::string out =
      "+" + Fixed(a > 0 ? 100 * (b - a) / a : 0.0, 2) + "% " + ObjectiveName(report.objective);
  std::string diffs;
  for (const char* key : {"hardware", "nodes", "tp", "cp", "pp", "dp", "ep", "micro_batch",
                          "schedule", "vpp", "recompute", "zero", "sequence_parallel"}) {
    const std::string x = TextOf(prev.record, key);
    const std::string y = TextOf(next.record, key);
    if (x != y) diffs += (diffs.empty() ? "" : ", ") + std::string(key) + " " + x + " -> " + y;
  }
  out += "; " + (diffs.empty() ? std::string("same plan choices") : diffs);
  // Time components, largest change first.
  std::vector<std::pair<double, std::string>> parts;
  for (const auto& [key, name] :
       std::vector<std::pair<std::string, std::string>>{{"compute_s", "compute"},
                                                        {"exposed_comm_s", "exposed comm"},
                                                        {"bubble_s", "bubble"},
                                                        {"other_s", "optimizer"},
                                                        {"interference_s", "overlap slowdown"}}) {
    parts.emplace_back(NumberOf(next.record, key) - NumberOf(prev.record, key), name);
  }
  std::stable_sort(parts.begin(), parts.end(), [](const auto& x, const auto& y) {
    return std::fabs(x.first) > std::fabs(y.first);
  });
  auto signed_ms = [](double seconds) {
    return (seconds >= 0 ? "+" : "") + Fixed(seconds * 1e3, 1) + " ms";
  };
  out += "; " + parts[0].second + " " + signed_ms(parts[0].first) + ", " + parts[1].second + " " +
         signed_ms(parts[1].first) + " per step";
  return out;
}

}  // namespace

namespace {

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    if (ch == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

Status ApplyAxis(const std::string& text, plan::SearchSpace* space) {
  static const char* kKeys =
      "tp, pp, cp, ep, micro_batch, vpp, zero, schedule, recompute, sequence_parallel";
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return Error{"--axis '" + text + "': expected KEY=V1,V2,... with KEY one of " + kKeys, "", 0,
                 0};
  }
  const std::string key = text.substr(0, eq);
  const std::vector<std::string> values = SplitComma(text.substr(eq + 1));
  auto bad = [&](const std::string& v, const std::string& expected) {
    return Error{"--axis " + key + ": '" + v + "' is not " + expected, "", 0, 0};
  };
  std::vector<std::int64_t> ints;
  auto read_ints = [&](std::int64_t lo, std::int64_t hi) -> Status {
    for (const std::string& v : values) {
      std::size_t used = 0;
      long long n = 0;
      try {
        n = std::stoll(v, &used);
      } catch (...) {
        used = 0;
      }
      if (v.empty() || used != v.size() || n < lo || n > hi) {
        return bad(v, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      }
      ints.push_back(n);
    }
    return Status::Ok();
  };
  constexpr std::int64_t kBig = 1 << 20;
  if (key == "tp" || key == "pp" || key == "cp" || key == "ep" || key == "micro_batch" ||
      key == "vpp") {
    if (Status st = read_ints(1, kBig); !st.ok()) return st;
    if (key == "tp") space->tp = ints;
    if (key == "pp") space->pp = ints;
    if (key == "cp") space->cp = ints;
    if (key == "ep") space->ep = ints;
    if (key == "micro_batch") space->micro_batch = ints;
    if (key == "vpp") space->vpp = ints;
    return Status::Ok();
  }
  if (key == "zero") {
    if (Status st = read_ints(0, 3); !st.ok()) return st;
    space->zero = ints;
    return Status::Ok();
  }
  if (key == "schedule") {
    std::vector<plan::Schedule> out;
    for (const std::string& v : values) {
      bool found = false;
      for (plan::Schedule s : {plan::Schedule::kGpipe, plan::Schedule::k1F1B,
                               plan::Schedule::kInterleaved1F1B, plan::Schedule::kZbH1}) {
        if (v == plan::ScheduleName(s)) {
          out.push_back(s);
          found = true;
        }
      }
      if (!found) return bad(v, "a schedule (gpipe, 1f1b, interleaved-1f1b, zb-h1)");
    }
    space->schedules = out;
    return Status::Ok();
  }
  if (key == "recompute") {
    std::vector<plan::Recompute> out;
    for (const std::string& v : values) {
      bool found = false;
      for (plan::Recompute r :
           {plan::Recompute::kNone, plan::Recompute::kSelective, plan::Recompute::kFull}) {
        if (v == plan::RecomputeName(r)) {
          out.push_back(r);
          found = true;
        }
      }
      if (!found) return bad(v, "a recompute mode (none, selective, full)");
    }
    space->recomputes = out;
    return Status::Ok();
  }
  if (key == "sequence_parallel") {
    std::vector<bool> out;
    for (const std::string& v : values) {
      if (v != "true" && v != "false") return bad(v, "true or false");
      out.push_back(v == "true");
    }
    space->sequence_parallel = out;
    return Status::Ok();
  }
  return Error{"--axis '" + text + "': unknown axis '" + key + "'; valid axes: " + kKeys, "", 0, 0};
}

std::optional<Objective> ParseObjective(const std::string& name) {
  if (name == "step_time") return Objective::kStepTime;
  if (name == "cost_per_token") return Objective::kCostPerToken;
  if (name == "time_to_train") return Objective::kTimeToTrain;
  return std::nullopt;
}

std::string ObjectiveName(Objective objective) {
  switch (objective) {
    case Objective::kStepTime:
      return "step_time";
    case Objective::kCostPerToken:
      return "cost_per_token";
    case Objective::kTimeToTrain:
      return "time_to_train";
  }
  return "step_time";
}

double ObjectiveValue(const SearchReport& report, const Row& row) {
  switch (report.objective) {
    case Objective::kStepTime:
      return NumberOf(row.record, "step_time_s");
    case Objective::kCostPerToken:
      return NumberOf(row.record, "usd_per_million_tokens");
    case Objective::kTimeToTrain:
      return NumberOf(row.record, "time_to_train_s");
  }
  return 0;
}

Result<SearchReport> RunSearch(const scenarios::Scenario& scenario, const SearchOptions& options) {
  SearchReport report;
  report.objective = options.objective;
  report.training_tokens = scenario.training_tokens;
  if (scenario.candidates.empty()) {
    report.clusters.push_back(
        ClusterChoice{scenario.cluster, scenario.hardware, scenario.price_per_gpu_hour});
  } else {
    for (const scenarios::ClusterCandidate& c : scenario.candidates) {
      report.clusters.push_back(ClusterChoice{c.cluster, c.hardware, c.price_per_gpu_hour});
    }
  }
  if (options.objective == Objective::kTimeToTrain && scenario.training_tokens <= 0) {
    return Error{
        "--objective time_to_train needs training.tokens (the number of tokens to train "
        "on, e.g. 300e9) in the scenario",
        scenario.source_file, 0, 0};
  }
  if (options.objective == Objective::kCostPerToken) {
    for (std::size_t c = 0; c < report.clusters.size(); ++c) {
      if (report.clusters[c].price_per_gpu_hour > 0) continue;
      return Error{"--objective cost_per_token needs a price: " +
                       (scenario.candidates.empty()
                            ? std::string("set cluster.price_per_gpu_hour (USD per GPU-hour)")
                            : "cluster.candidates[" + std::to_string(c) +
                                  "] has no price_per_gpu_hour (USD per GPU-hour)"),
                   scenario.source_file, 0, 0};
    }
  }

  // Enumerate and prune (cheap, identical on every rank).
  std::vector<SearchPoint> points;
  for (std::size_t c = 0; c < report.clusters.size(); ++c) {
    ClusterChoice& choice = report.clusters[c];
    const plan::Enumeration e = plan::EnumeratePlans(
        scenario.model, choice.cluster, scenario.training, scenario.plan, options.space);
    choice.enumerated = static_cast<std::int64_t>(e.points.size());
    for (const plan::PlanPoint& p : e.points) {
      const plan::StepInput input{scenario.model, choice.hardware, choice.cluster, p.training,
                                  p.plan};
      if (plan::CannotFit(input)) {
        ++choice.pruned_memory;
        continue;
      }
      ++choice.simulated;
      points.push_back(SearchPoint{c, p});
    }
  }
  if (points.empty()) {
    return Error{
        "no plan to simulate: every valid plan is pruned by the memory bound (or none is "
        "valid) on every cluster",
        scenario.source_file, 0, 0};
  }

  report.columns = {"cluster", "price_per_gpu_hour"};
  for (const std::string& c : OutputColumns()) report.columns.push_back(c);
  for (const char* c : {"usd_per_million_tokens", "time_to_train_s", "cost_to_train_usd"}) {
    report.columns.push_back(c);
  }
  auto describe = [&](std::int64_t i) {
    const SearchPoint& p = points[static_cast<std::size_t>(i)];
    const ClusterChoice& c = report.clusters[p.cluster];
    return c.hardware.name + "/" + std::to_string(c.cluster.nodes) + "x" +
           std::to_string(c.cluster.gpus_per_node) + "/" + Fixed(c.price_per_gpu_hour, 6) + "/tp" +
           std::to_string(p.plan.plan.tp) + "/pp" + std::to_string(p.plan.plan.pp) + "/mb" +
           std::to_string(p.plan.training.micro_batch) + "/" +
           std::string(plan::ScheduleName(p.plan.plan.schedule)) + "/" +
           std::string(plan::RecomputeName(p.plan.plan.recompute)) + "/vpp" +
           std::to_string(p.plan.plan.vpp) + "/cp" + std::to_string(p.plan.plan.cp) + "/ep" +
           std::to_string(p.plan.plan.ep) + "/zero" + std::to_string(p.plan.plan.zero) +
           (p.plan.plan.sequence_parallel ? "/sp" : "");
  };
  auto hash_of = [&](std::int64_t i) {
    return HashInputs(options.fingerprint + "\n" + describe(i));
  };
  auto evaluate = [&](std::int64_t i) {
    const SearchPoint& p = points[static_cast<std::size_t>(i)];
    const ClusterChoice& c = report.clusters[p.cluster];
    scenarios::Scenario s;
    s.name = scenario.name;
    s.source_file = scenario.source_file;
    s.model = scenario.model;
    s.cluster = c.cluster;
    s.hardware = c.hardware;
    s.training = p.plan.training;
    s.plan = p.plan.plan;
    Row row;
    row.record["cluster"] = static_cast<std::int64_t>(p.cluster);
    row.record["price_per_gpu_hour"] =
        c.price_per_gpu_hour > 0 ? Json(c.price_per_gpu_hour) : Json(nullptr);
    EvaluateScenario(s, &row);
    Json& r = row.record;
    r["usd_per_million_tokens"] = nullptr;
    r["time_to_train_s"] = nullptr;
    r["cost_to_train_usd"] = nullptr;
    if (TextOf(r, "status") != "ok") return row;
    const double step = NumberOf(r, "step_time_s");
    const double tokens_per_step = static_cast<double>(s.training.global_batch * s.model.seq_len);
    const double gpus = static_cast<double>(c.cluster.world_size());
    if (c.price_per_gpu_hour > 0) {
      r["usd_per_million_tokens"] =
          c.price_per_gpu_hour * gpus * step / 3600.0 / tokens_per_step * 1e6;
    }
    if (scenario.training_tokens > 0) {
      const double seconds = scenario.training_tokens / NumberOf(r, "tokens_per_s");
      r["time_to_train_s"] = seconds;
      if (c.price_per_gpu_hour > 0) {
        r["cost_to_train_usd"] = c.price_per_gpu_hour * gpus * seconds / 3600.0;
      }
    }
    return row;
  };
  Result<std::vector<Row>> rows =
      RunPoints(static_cast<std::int64_t>(points.size()), report.columns, hash_of, evaluate,
                options.run, &report.stats);
  if (!rows.ok()) return rows.error();
  report.rows = std::move(rows).value();
  for (std::size_t i = 0; i < report.rows.size(); ++i) {
    const Json& r = report.rows[i].record;
    if (TextOf(r, "status") != "ok") continue;
    const auto c = static_cast<std::size_t>(NumberOf(r, "cluster"));
    if (c < report.clusters.size() && TextOf(r, "fits") == "true") {
      ++report.clusters[c].fitting;
      report.ranking.push_back(i);
    }
  }
  std::stable_sort(report.ranking.begin(), report.ranking.end(), [&](std::size_t a, std::size_t b) {
    return ObjectiveValue(report, report.rows[a]) < ObjectiveValue(report, report.rows[b]);
  });
  return report;
}

std::string RenderSearchText(const SearchReport& report, int top) {
  std::string out = "objective: " + ObjectiveName(report.objective) + " (" +
                    ObjectiveUnit(report.objective) + ", lower is better)\n";
  for (const ClusterChoice& c : report.clusters) {
    out += "  " + ClusterLabel(c) + ": " + std::to_string(c.enumerated) + " valid plans, " +
           std::to_string(c.pruned_memory) + " pruned by the memory bound, " +
           std::to_string(c.simulated) + " simulated, " + std::to_string(c.fitting) + " fit\n";
  }
  if (report.ranking.empty()) return out + "\nno simulated plan fits in GPU memory\n";
  const std::size_t n = std::min<std::size_t>(report.ranking.size(), static_cast<std::size_t>(top));
  out += "\ntop " + std::to_string(n) + " plans\n";
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-32s  %-40s  %9s  %10s  %6s  %8s  %10s\n", "rank",
                "cluster", "plan", "step_s", "tokens/s", "MFU", "peak_GiB", "USD/Mtok");
  out += line;
  for (std::size_t k = 0; k < n; ++k) {
    const Row& row = report.rows[report.ranking[k]];
    const Json& r = row.record;
    const ClusterChoice& c = report.clusters[static_cast<std::size_t>(NumberOf(r, "cluster"))];
    const std::string usd = r["usd_per_million_tokens"].is_null()
                                ? "-"
                                : Fixed(NumberOf(r, "usd_per_million_tokens"), 3);
    std::snprintf(line, sizeof line, "%4zu  %-32s  %-40s  %9.3f  %10.0f  %5.1f%%  %8.1f  %10s\n",
                  k + 1, ClusterLabel(c).c_str(), PlanLabel(r).c_str(), NumberOf(r, "step_time_s"),
                  NumberOf(r, "tokens_per_s"), 100 * NumberOf(r, "mfu"),
                  NumberOf(r, "peak_bytes") / (1024.0 * 1024 * 1024), usd.c_str());
    out += line;
  }
  if (n > 1) {
    out += "\nwhat separates each plan from the next\n";
    for (std::size_t k = 1; k < n; ++k) {
      out +=
          "  #" + std::to_string(k) + " -> #" + std::to_string(k + 1) + ": " +
          Separation(report, report.rows[report.ranking[k - 1]], report.rows[report.ranking[k]]) +
          "\n";
    }
  }
  if (report.clusters.size() > 1) {
    out += "\nhardware comparison (best plan per cluster by " + ObjectiveName(report.objective) +
           ")\n";
    std::snprintf(line, sizeof line, "  %-32s  %-40s  %9s  %10s  %10s  %13s  %14s\n", "cluster",
                  "best plan", "step_s", "tokens/s", "USD/Mtok", "time to train", "cost to train");
    out += line;
    for (std::size_t c = 0; c < report.clusters.size(); ++c) {
      const Row* best = nullptr;
      for (std::size_t i : report.ranking) {
        if (static_cast<std::size_t>(NumberOf(report.rows[i].record, "cluster")) == c) {
          best = &report.rows[i];
          break;
        }
      }
      if (best == nullptr) {
        // No ranked plan: say why when every plan of this cluster failed to simulate (e.g. a
        // plan key the candidate's hardware profile does not support).
        std::int64_t tried = 0, failed = 0;
        std::string first_error;
        for (const Row& row : report.rows) {
          if (static_cast<std::size_t>(NumberOf(row.record, "cluster")) != c) continue;
          ++tried;
          if (TextOf(row.record, "status") != "failed") continue;
          ++failed;
          if (first_error.empty()) first_error = TextOf(row.record, "error");
        }
        out += "  " + ClusterLabel(report.clusters[c]) +
               (tried > 0 && failed == tried
                    ? ": every plan failed to simulate; the first: " + first_error + "\n"
                    : ": no plan fits\n");
        continue;
      }
      const Json& r = best->record;
      auto text_or_dash = [&r](const char* key, const std::function<std::string(double)>& f) {
        return r[key].is_null() ? std::string("-") : f(NumberOf(r, key));
      };
      std::snprintf(
          line, sizeof line, "  %-32s  %-40s  %9.3f  %10.0f  %10s  %13s  %14s\n",
          ClusterLabel(report.clusters[c]).c_str(), PlanLabel(r).c_str(),
          NumberOf(r, "step_time_s"), NumberOf(r, "tokens_per_s"),
          text_or_dash("usd_per_million_tokens", [](double v) { return Fixed(v, 3); }).c_str(),
          text_or_dash("time_to_train_s", Duration).c_str(),
          text_or_dash("cost_to_train_usd", [](double v) { return "$" + Fixed(v, 0); }).c_str());
      out += line;
    }
  }
  return out;
}

std::string RenderSearchJson(const SearchReport& report, int top) {
  Json j = Json::object();
  j["objective"] = ObjectiveName(report.objective);
  j["objective_unit"] = ObjectiveUnit(report.objective);
  j["training_tokens"] = report.training_tokens > 0 ? Json(report.training_tokens) : Json(nullptr);
  Json clusters = Json::array();
  for (std::size_t c = 0; c < report.clusters.size(); ++c) {
    const ClusterChoice& choice = report.clusters[c];
    Json best = nullptr;
    for (std::size_t i : report.ranking) {
      if (static_cast<std::size_t>(NumberOf(report.rows[i].record, "cluster")) == c) {
        best = report.rows[i].record;
        best["point"] = report.rows[i].point;
        break;
      }
    }
    clusters.push_back(
        Json{{"hardware", choice.hardware.name},
             {"nodes", choice.cluster.nodes},
             {"gpus_per_node", choice.cluster.gpus_per_node},
             {"price_per_gpu_hour",
              choice.price_per_gpu_hour > 0 ? Json(choice.price_per_gpu_hour) : Json(nullptr)},
             {"valid_plans", choice.enumerated},
             {"pruned_by_memory_bound", choice.pruned_memory},
             {"simulated", choice.simulated},
             {"fitting", choice.fitting},
             {"best", best}});
  }
  j["clusters"] = clusters;
  Json ranked = Json::array();
  const std::size_t n = std::min<std::size_t>(report.ranking.size(), static_cast<std::size_t>(top));
  for (std::size_t k = 0; k < n; ++k) {
    const Row& row = report.rows[report.ranking[k]];
    Json entry = Json{
        {"rank", k + 1}, {"point", row.point}, {"objective_value", ObjectiveValue(report, row)}};
    for (const auto& [key, value] : row.record.items()) entry[key] = value;
    entry["vs_previous"] =
        k == 0 ? Json(nullptr) : Json(Separation(report, report.rows[report.ranking[k - 1]], row));
    ranked.push_back(entry);
  }
  j["top"] = ranked;
  return j.dump(2);
}

}  // namespace foresight::search
