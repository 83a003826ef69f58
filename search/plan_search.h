// RunSearch: the strategy search behind `foresight search` (docs/search.md).
//
// For each cluster (the scenario's cluster, or every entry of cluster.candidates), the plan
// space is enumerated (plan::EnumeratePlans: divisibility prunes first), plans whose memory lower
// bound exceeds the GPU memory are pruned without simulation (plan::CannotFit), the rest are
// simulated (RunPoints: thread pool, MPI ranks, results file), and the plans that fit are ranked
// by the objective, ties broken by point order. Deterministic for any --jobs and rank count.
//
// Objectives (lower is better):
//   step_time       seconds per optimizer step
//   cost_per_token  USD per token = price_per_gpu_hour * gpus * step_time_s / 3600 /
//                   tokens_per_step (needs a price for every cluster)
//   time_to_train   seconds = training.tokens / tokens_per_s (needs training.tokens)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "plan/search.h"
#include "scenarios/scenario.h"
#include "search/runner.h"

namespace foresight::search {

enum class Objective { kStepTime, kCostPerToken, kTimeToTrain };
std::optional<Objective> ParseObjective(const std::string& name);
std::string ObjectiveName(Objective objective);

// Applies one `--axis KEY=V1,V2,...` text to `space`: the values an axis may take. Keys: tp,
// pp, cp, ep, micro_batch, vpp, zero (integers), schedule (gpipe, 1f1b, interleaved-1f1b,
// zb-h1), recompute (none, selective, full), sequence_parallel (true, false). Errors name the
// text, what was wrong and the valid keys or values.
Status ApplyAxis(const std::string& text, plan::SearchSpace* space);

struct SearchOptions {
  Objective objective = Objective::kStepTime;
  plan::SearchSpace space;
  RunOptions run;
  // Identifies the inputs for result hashes (the scenario file's text and --set overrides).
  std::string fingerprint;
};

struct ClusterChoice {
  plan::ClusterConfig cluster;
  hw::HardwareProfile hardware;
  double price_per_gpu_hour = 0;   // USD; 0 = unknown
  std::int64_t enumerated = 0;     // valid plans
  std::int64_t pruned_memory = 0;  // plans whose memory lower bound exceeds the GPU memory
  std::int64_t simulated = 0;
  std::int64_t fitting = 0;  // simulated plans that fit in memory
};

struct SearchReport {
  Objective objective = Objective::kStepTime;
  double training_tokens = 0;
  std::vector<ClusterChoice> clusters;
  std::vector<std::string> columns;  // record columns
  std::vector<Row> rows;             // simulated plans, by point (rank 0 only)
  std::vector<std::size_t> ranking;  // indices into rows: fitting plans, best first
  RunStats stats;
};

// Errors: an objective that needs a price or training.tokens the scenario does not give; no
// cluster with a valid plan; the results file.
Result<SearchReport> RunSearch(const scenarios::Scenario& scenario, const SearchOptions& options);

// The objective value of a row (record columns) under `report.objective`.
double ObjectiveValue(const SearchReport& report, const Row& row);

// Text report: the search counts, the top `top` plans with what separates each from the next,
// and with several clusters, the hardware comparison (best plan per cluster, step time,
// tokens/s, USD per million tokens, time and cost to train).
std::string RenderSearchText(const SearchReport& report, int top);
// The same as one JSON object.
std::string RenderSearchJson(const SearchReport& report, int top);

}  // namespace foresight::search
