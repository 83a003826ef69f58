// Search throughput for GPT-3 175B on 128 DGX A100 nodes (1,024 GPUs), docs/performance.md.
//
// BM_SearchPointGpt3_175B_1024A100: one search point = memory bound + simulation + result row,
//   over the plans the search simulates (round robin); items/s = points per second per core
//   (target >= 100).
// BM_EnumerateAndPruneGpt3_175B: the enumeration and memory-bound pruning of the whole space.
#include <benchmark/benchmark.h>

#include "models/hw/hardware.h"
#include "plan/search.h"
#include "plan/simulate.h"
#include "reports/reports.h"
#include "search/evaluation.h"

namespace foresight::search {
namespace {

struct Gpt3Case {
  ops::ModelConfig model = *ops::FindPreset("gpt3-175b");
  hw::HardwareProfile hardware = *hw::LoadHardware("dgx-a100-80gb");
  plan::ClusterConfig cluster{"dgx-a100-80gb", 128, 8};
  plan::TrainingConfig training{1536, 1, Dtype::kBf16};
};

std::vector<plan::PlanPoint> Surviving(const Gpt3Case& c) {
  const plan::Enumeration e =
      plan::EnumeratePlans(c.model, c.cluster, c.training, plan::Plan{}, plan::SearchSpace{});
  std::vector<plan::PlanPoint> out;
  for (const plan::PlanPoint& p : e.points) {
    if (!plan::CannotFit({c.model, c.hardware, c.cluster, p.training, p.plan})) out.push_back(p);
  }
  return out;
}

void BM_SearchPointGpt3_175B_1024A100(benchmark::State& state) {
  const Gpt3Case c;
  const std::vector<plan::PlanPoint> points = Surviving(c);
  scenarios::Scenario s;
  s.model = c.model;
  s.cluster = c.cluster;
  s.hardware = c.hardware;
  std::size_t next = 0;
  for (auto _ : state) {
    const plan::PlanPoint& p = points[next++ % points.size()];
    s.training = p.training;
    s.plan = p.plan;
    Row row;
    EvaluateScenario(s, &row);
    benchmark::DoNotOptimize(row);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["simulated_plans"] = static_cast<double>(points.size());
}
BENCHMARK(BM_SearchPointGpt3_175B_1024A100)->Unit(benchmark::kMillisecond);

void BM_EnumerateAndPruneGpt3_175B(benchmark::State& state) {
  const Gpt3Case c;
  std::size_t kept = 0;
  for (auto _ : state) {
    kept = Surviving(c).size();
    benchmark::DoNotOptimize(kept);
  }
  state.counters["kept"] = static_cast<double>(kept);
}
BENCHMARK(BM_EnumerateAndPruneGpt3_175B)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace foresight::search
