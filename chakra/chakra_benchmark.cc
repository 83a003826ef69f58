// Load and replay speed of the real MLCommons trace (../shared/data/chakra, 3,664 nodes).
#include <benchmark/benchmark.h>

#include "chakra/graph.h"
#include "chakra/internal/test_util.h"
#include "chakra/reader.h"
#include "chakra/replay.h"
#include "models/hw/hardware.h"

namespace foresight::chakra {
namespace {

// Parse (protobuf decode + conversion) and build the dependency graph.
void BM_ChakraLoadRealTrace(benchmark::State& state) {
  const std::string bytes = testing::RealTraceBytes();
  if (bytes.empty()) {
    state.SkipWithError("cannot read ../shared/data/chakra/feeder_tests_trace.tar.gz");
    return;
  }
  std::int64_t nodes = 0;
  for (auto _ : state) {
    Result<RankTrace> t = ParseRankTrace(bytes, "chakra.0.et", 0);
    Result<RankGraph> g = BuildRankGraph(std::move(t).value());
    nodes += g->num_nodes();
    benchmark::DoNotOptimize(g->order.data());
  }
  state.SetItemsProcessed(nodes);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes.size()) * state.iterations());
}
BENCHMARK(BM_ChakraLoadRealTrace)->Unit(benchmark::kMillisecond);

// Task-graph construction + engine run + summary of the loaded trace.
void BM_ChakraReplayRealTrace(benchmark::State& state) {
  const std::string bytes = testing::RealTraceBytes();
  if (bytes.empty()) {
    state.SkipWithError("cannot read ../shared/data/chakra/feeder_tests_trace.tar.gz");
    return;
  }
  std::vector<RankGraph> graphs;
  graphs.push_back(*BuildRankGraph(*ParseRankTrace(bytes, "chakra.0.et", 0)));
  const hw::HardwareProfile hw = *hw::LoadHardware("dgx-a100-80gb");
  std::int64_t nodes = 0;
  for (auto _ : state) {
    Result<ReplayResult> r = Replay(graphs, hw, ReplayOptions{});
    nodes += r->num_nodes;
    benchmark::DoNotOptimize(r->step_time_s);
  }
  state.SetItemsProcessed(nodes);
}
BENCHMARK(BM_ChakraReplayRealTrace)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace foresight::chakra
