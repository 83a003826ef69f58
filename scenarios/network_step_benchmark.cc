// Step time of the GPT-3 175B example (128 DGX A100, tp 8, pp 16, dp 8) with network.model
// analytical (the default alpha-beta pricing) and flow (every collective and pipeline send
// flow-simulated with all concurrent instances of its group on the 3-tier rail-optimized
// fabric). The flow pricer is built per iteration, so its cache starts empty: the cost includes
// the topology build and one flow simulation per distinct (op, bytes, group kind).
#include <benchmark/benchmark.h>

#include <string>

#include "plan/simulate.h"
#include "scenarios/scenario.h"
#include "scenarios/step_input.h"

namespace foresight::scenarios {
namespace {

void StepWithModel(benchmark::State& state, const std::string& model) {
  Result<Scenario> s = LoadScenarioFile(
      std::string(FORESIGHT_SOURCE_DIR) + "/scenarios/examples/gpt3-175b-128x-dgx-a100.yaml",
      {SetOverride{"network.model", model}});
  if (!s.ok()) {
    state.SkipWithError(s.error().ToString().c_str());
    return;
  }
  double step = 0;
  double world = 0;
  for (auto _ : state) {
    Result<plan::StepInput> input = StepInputOf(*s);
    if (!input.ok()) {
      state.SkipWithError(input.error().ToString().c_str());
      return;
    }
    Result<plan::StepResult> r = plan::SimulateStep(*input);
    if (!r.ok()) {
      state.SkipWithError(r.error().ToString().c_str());
      return;
    }
    step = r->step_time_s;
    world = static_cast<double>(r->world_size);
    benchmark::ClobberMemory();
  }
  state.counters["step_time_s"] = step;
  state.counters["world"] = world;
}

void BM_Gpt3_175B_StepAnalytical(benchmark::State& state) { StepWithModel(state, "analytical"); }
void BM_Gpt3_175B_StepFlow(benchmark::State& state) { StepWithModel(state, "flow"); }
BENCHMARK(BM_Gpt3_175B_StepAnalytical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpt3_175B_StepFlow)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace foresight::scenarios
