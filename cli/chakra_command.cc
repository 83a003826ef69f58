#include "cli/chakra_command.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "chakra/export.h"
#include "chakra/graph.h"
#include "chakra/reader.h"
#include "chakra/replay.h"
#include "chakra/replay_report.h"
#include "chakra/writer.h"
#include "plan/compile.h"

namespace foresight::cli {
namespace {

int Fail(const Error& error, int code) {
  std::cerr << "error: " << error.ToString() << "\n";
  return code;
}

struct ExportArgs {
  std::string scenario;
  std::string out;
  bool gzip = false;
  std::vector<std::string> sets;
};

int RunExportChakra(const ExportArgs& args) {
  Result<std::vector<scenarios::SetOverride>> sets = scenarios::ParseSetOverrides(args.sets);
  if (!sets.ok()) return Fail(sets.error(), 1);
  Result<scenarios::Scenario> scenario = scenarios::LoadScenarioFile(args.scenario, *sets);
  if (!scenario.ok()) return Fail(scenario.error(), 1);
  const scenarios::Scenario& s = *scenario;
  if (s.workload) {
    return Fail(Error{"export chakra needs a model scenario; this one replays a workload "
                      "(its trace files are already Chakra)",
                      args.scenario, 0, 0},
                1);
  }
  const plan::StepInput input{s.model, s.hardware, s.cluster, s.training, s.plan};
  const plan::CompiledStep step = plan::CompileStep(input);
  Result<std::vector<chakra::RankTrace>> traces = chakra::ExportStep(input, step);
  if (!traces.ok()) return Fail(traces.error(), 3);
  if (Status st = chakra::WriteTraces(*traces, args.out, args.gzip); !st.ok()) {
    return Fail(st.error(), 1);
  }
  std::int64_t nodes = 0;
  for (const chakra::RankTrace& t : *traces) nodes += static_cast<std::int64_t>(t.nodes.size());
  std::cout << "wrote " << traces->size() << " Chakra rank files "
            << chakra::RankFileName(args.out, 0) << " .. "
            << chakra::RankFileName(args.out, static_cast<std::int32_t>(traces->size()) - 1) << " ("
            << nodes << " nodes, one rank per pipeline stage)\n";
  return 0;
}

}  // namespace

CLI::App* AddExportCommand(CLI::App& app, int* exit_code) {
  CLI::App* exp = app.add_subcommand("export", "write a scenario's step in another format");
  exp->require_subcommand(1);
  auto args = std::make_shared<ExportArgs>();
  CLI::App* chakra = exp->add_subcommand(
      "chakra", "write the simulated step as MLCommons Chakra traces PREFIX.RANK.et");
  chakra->add_option("scenario", args->scenario, "scenario YAML file")->required();
  chakra->add_option("--out", args->out, "output PREFIX (files PREFIX.0.et, PREFIX.1.et, ...)")
      ->required();
  chakra->add_flag("--gzip", args->gzip, "gzip-compress the files");
  chakra->add_option("--set", args->sets, "override a scenario key (repeatable)");
  chakra->callback([args, exit_code]() { *exit_code = RunExportChakra(*args); });
  return exp;
}

int RunChakraWorkload(const scenarios::Scenario& s, bool json, const std::string& trace_path) {
  const scenarios::Workload& w = *s.workload;
  Result<std::vector<chakra::RankTrace>> traces =
      chakra::ReadTraces(w.chakra, static_cast<std::int32_t>(w.ranks));
  if (!traces.ok()) return Fail(traces.error(), 1);
  std::vector<chakra::RankGraph> graphs;
  graphs.reserve(traces->size());
  for (chakra::RankTrace& t : *traces) {
    Result<chakra::RankGraph> g =
        chakra::BuildRankGraph(std::move(t), chakra::GraphOptions{w.control_deps});
    if (!g.ok()) return Fail(g.error(), 1);
    graphs.push_back(std::move(g).value());
  }
  chakra::ReplayOptions options;
  options.compute =
      w.compute == "roofline" ? chakra::ComputeTiming::kRoofline : chakra::ComputeTiming::kRecorded;
  options.comm = w.comm == "recorded" ? chakra::CommTiming::kRecorded : chakra::CommTiming::kModel;
  options.dtype = w.dtype;
  options.gpus_per_node = static_cast<std::int32_t>(s.cluster.gpus_per_node);
  Result<chakra::ReplayResult> result = chakra::Replay(graphs, s.hardware, options);
  if (!result.ok()) return Fail(result.error(), 1);
  const chakra::ReplayLabels labels{s.name, w.chakra, s.hardware.name};
  if (!trace_path.empty()) {
    std::ofstream out(trace_path, std::ios::binary);
    if (!out) return Fail(Error{"cannot open trace file for writing", trace_path, 0, 0}, 1);
    chakra::WriteReplayTrace(labels, graphs, *result, out);
    out.close();
    if (!out) return Fail(Error{"failed writing the trace file", trace_path, 0, 0}, 1);
  }
  if (json) {
    std::cout << chakra::RenderReplayJson(labels, options, *result) << "\n";
  } else {
    std::cout << chakra::RenderReplaySummary(labels, options, *result);
    if (!trace_path.empty()) {
      std::cout << "\n  timeline written to " << trace_path
                << " (open it in https://ui.perfetto.dev)\n";
    }
  }
  return 0;
}

}  // namespace foresight::cli
