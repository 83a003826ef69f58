// BM_SimulateGpt3_175B_1024A100: one full plan evaluation (compile + simulate + summarise) of
// GPT-3 175B on 128 DGX A100 nodes, tp 8, pp 16, dp 8, 1F1B, full recompute, 192 micro-batches.
// Target (DESIGN.md): <= 50 ms on one core.
#include <benchmark/benchmark.h>

#include "models/hw/hardware.h"
#include "plan/simulate.h"

namespace foresight::plan {
namespace {

StepInput Gpt3Input() {
  StepInput in;
  in.model = *ops::FindPreset("gpt3-175b");
  in.hardware = *hw::LoadHardware("dgx-a100-80gb");
  in.cluster = ClusterConfig{"dgx-a100-80gb", 128, 8};
  in.training = TrainingConfig{1536, 1, Dtype::kBf16};
  in.plan.tp = 8;
  in.plan.pp = 16;
  in.plan.recompute = Recompute::kFull;
  (void)ValidateAndResolve(in.model, in.cluster, in.training, in.plan);
  return in;
}

void BM_SimulateGpt3_175B_1024A100(benchmark::State& state) {
  const StepInput in = Gpt3Input();
  std::int64_t tasks = 0;
  for (auto _ : state) {
    auto r = SimulateStep(in);
    benchmark::DoNotOptimize(r);
    tasks = r->num_tasks;
  }
  state.counters["tasks"] = static_cast<double>(tasks);
}
BENCHMARK(BM_SimulateGpt3_175B_1024A100)->Unit(benchmark::kMillisecond);

// The same with ZeRO (state.range(0) = stage) and, for stage 1, optimizer offload: stages 2
// and 3 cut every pass at layer boundaries for their per-micro-batch reduce-scatters and
// per-layer gathers, so they compile several times more tasks.
void BM_SimulateGpt3_175B_1024A100_Zero(benchmark::State& state) {
  StepInput in = Gpt3Input();
  in.plan.zero = state.range(0);
  in.plan.offload.optimizer = state.range(0) == 1;
  std::int64_t tasks = 0;
  for (auto _ : state) {
    auto r = SimulateStep(in);
    benchmark::DoNotOptimize(r);
    tasks = r->num_tasks;
  }
  state.counters["tasks"] = static_cast<double>(tasks);
}
BENCHMARK(BM_SimulateGpt3_175B_1024A100_Zero)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace foresight::plan
