// Network model costs: the flow solver on a large fat tree and one analytical pricing call.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "models/hw/algorithms.h"
#include "models/hw/collective.h"
#include "models/hw/hardware.h"
#include "models/hw/topology.h"
#include "sim/flow.h"

namespace foresight::hw {
namespace {

// 1,024 DGX H100 nodes (8,192 GPUs) on the catalog's rail-optimized 2-tier fabric with 4:1
// oversubscription, N flows between random GPU pairs (fixed seed), 1 to 64 MiB each, all
// starting at t = 0: the whole simulation to the last completion (one max-min solve per event),
// with sim::SimulateFlows (incremental) or sim::SimulateFlowsReference (full re-solves).
template <bool kReference>
void FlowSolver1024Nodes(benchmark::State& state) {
  Result<HardwareProfile> hw = LoadHardware(
      "dgx-h100", {HardwareOverride{"fabric.oversubscription", YAML::Load("4"), "", 0, 0}});
  if (!hw.ok()) {
    state.SkipWithError(hw.error().message.c_str());
    return;
  }
  Result<Topology> topo = BuildTopology(*hw, 1024);
  if (!topo.ok()) {
    state.SkipWithError(topo.error().message.c_str());
    return;
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int32_t> gpu(0, topo->gpus() - 1);
  std::uniform_int_distribution<std::int32_t> mib(1, 64);
  std::vector<sim::FlowSpec> flows;
  const auto count = static_cast<std::int32_t>(state.range(0));
  while (static_cast<std::int32_t>(flows.size()) < count) {
    const std::int32_t a = gpu(rng), b = gpu(rng);
    if (a == b) continue;
    sim::FlowSpec f;
    f.bytes = mib(rng) * 1048576.0;
    f.links = topo->Route(a, b);
    flows.push_back(std::move(f));
  }
  std::int64_t solves = 0, solved_flows = 0;
  for (auto _ : state) {
    const sim::FlowResult r = kReference ? sim::SimulateFlowsReference(topo->Capacities(), flows)
                                         : sim::SimulateFlows(topo->Capacities(), flows);
    solves += r.rate_solves;
    solved_flows += r.rate_solve_flows;
    benchmark::DoNotOptimize(r.makespan);
  }
  state.counters["edges"] = topo->edge_count();
  state.counters["solves_per_run"] =
      static_cast<double>(solves) / static_cast<double>(state.iterations());
  state.counters["flows_per_solve"] =
      static_cast<double>(solved_flows) / static_cast<double>(std::max<std::int64_t>(solves, 1));
}
void BM_FlowSolver10kFlows1024Nodes(benchmark::State& state) { FlowSolver1024Nodes<false>(state); }
void BM_FlowSolverReference1024Nodes(benchmark::State& state) { FlowSolver1024Nodes<true>(state); }
BENCHMARK(BM_FlowSolver10kFlows1024Nodes)
    ->Arg(2000)
    ->Arg(10000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
// The reference re-solves every active flow at every event (10,000 flows: about a minute).
BENCHMARK(BM_FlowSolverReference1024Nodes)
    ->Arg(2000)
    ->Arg(10000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// One max-min solve of the same 10,000 flows (no time stepping).
void BM_MaxMinSolve10kFlows1024Nodes(benchmark::State& state) {
  Result<HardwareProfile> hw = LoadHardware("dgx-h100");
  Result<Topology> topo = BuildTopology(*hw, 1024);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int32_t> gpu(0, topo->gpus() - 1);
  std::vector<sim::FlowPath> paths;
  while (paths.size() < 10000) {
    const std::int32_t a = gpu(rng), b = gpu(rng);
    if (a != b) paths.push_back({topo->Route(a, b)});
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(sim::MaxMinFairRates(topo->Capacities(), paths));
  }
}
BENCHMARK(BM_MaxMinSolve10kFlows1024Nodes)->Unit(benchmark::kMillisecond);

// One analytical pricing call with the auto choice (ring/tree/NVLS x 3 protocols), and the
// step simulator's hw::CollectiveSeconds, for a 16-node all-reduce of 256 MiB.
void BM_PriceCollectiveAuto(benchmark::State& state) {
  const HardwareProfile hw = *LoadHardware("dgx-h100");
  const double bytes = 268435456.0;
  for (auto _ : state) {
    Result<Pricing> p = PriceCollective(hw, NetOp::kAllReduce, bytes, GroupSpan{128, 8, 16});
    benchmark::DoNotOptimize(p->seconds());
  }
}
BENCHMARK(BM_PriceCollectiveAuto);

void BM_CollectiveSecondsStepModel(benchmark::State& state) {
  const HardwareProfile hw = *LoadHardware("dgx-h100");
  const double bytes = 268435456.0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        CollectiveSeconds(hw, CollectiveOp::kAllReduce, bytes, GroupSpan{128, 8, 16}));
  }
}
BENCHMARK(BM_CollectiveSecondsStepModel);

}  // namespace
}  // namespace foresight::hw
