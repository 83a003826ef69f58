// The `foresight` command. Parses arguments and prints; all logic lives in the libraries.
//
//   foresight run SCENARIO [--json] [--trace FILE] [--trace-granularity op|task] [--set k=v]...
//   foresight list presets|hardware
//   foresight calibrate cpu|gpu|nccl ... --out FILE   (cli/calibrate_command.h)
//   foresight calibrate fit FILES... --base NAME --out PROFILE.yaml   (cli/calibrate_fit_command.h)
//   foresight sweep SCENARIO ...    (cli/sweep_command.h)
//   foresight search SCENARIO ...   (cli/search_command.h)
//   foresight export chakra SCENARIO --out PREFIX   (cli/chakra_command.h)
//   foresight validate DATASET --hardware NAME|PROFILE ...   (cli/validate_command.h)
//   foresight collective --hardware H --nodes N --op OP ...   (cli/collective_command.h)
//   foresight validate-collectives [--data DIR] [--doc FILE]   (cli/collective_command.h)
//
// Exit codes: 0 success, 1 invalid input (scenario, profile, override), 2 usage error,
// 3 the simulation itself failed (an internal inconsistency: please report it).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli/calibrate_command.h"
#include "cli/calibrate_fit_command.h"
#include "cli/chakra_command.h"
#include "cli/collective_command.h"
#include "cli/search_command.h"
#include "cli/sweep_command.h"
#include "cli/validate_command.h"
#include "models/hw/hardware.h"
#include "models/ops/model_config.h"
#include "plan/simulate.h"
#include "reports/reports.h"
#include "scenarios/scenario.h"
#include "scenarios/step_input.h"

namespace {

using foresight::Error;

int Fail(const Error& error, int code) {
  std::cerr << "error: " << error.ToString() << "\n";
  return code;
}

struct RunArgs {
  std::string scenario;
  bool json = false;
  std::string trace;
  std::string granularity = "op";
  std::vector<std::string> sets;
};

int Run(const RunArgs& args) {
  auto sets = foresight::scenarios::ParseSetOverrides(args.sets);
  if (!sets.ok()) return Fail(sets.error(), 1);
  auto scenario = foresight::scenarios::LoadScenarioFile(args.scenario, *sets);
  if (!scenario.ok()) return Fail(scenario.error(), 1);
  const foresight::scenarios::Scenario& s = *scenario;
  if (s.workload) return foresight::cli::RunChakraWorkload(s, args.json, args.trace);

  auto input = foresight::scenarios::StepInputOf(s);  // with the network: section's pricer
  if (!input.ok()) return Fail(input.error(), 1);
  auto result = foresight::plan::SimulateStep(*input);
  if (!result.ok()) return Fail(result.error(), 3);

  if (!args.trace.empty()) {
    std::ofstream out(args.trace, std::ios::binary);
    if (!out) return Fail(Error{"cannot open trace file for writing: " + args.trace, "", 0, 0}, 1);
    foresight::reports::TraceOptions options;
    options.per_op = args.granularity == "op";
    foresight::reports::WriteChromeTrace(s, *result, options, out);
    out.close();
    if (!out) return Fail(Error{"failed writing trace file: " + args.trace, "", 0, 0}, 1);
  }
  if (args.json) {
    std::cout << foresight::reports::RenderJson(s, *result) << "\n";
  } else {
    std::cout << foresight::reports::RenderSummary(s, *result);
    if (!args.trace.empty()) {
      std::cout << "\n  timeline written to " << args.trace
                << " (open it in https://ui.perfetto.dev)\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"foresight: a performance simulator for distributed deep-learning training"};
  app.require_subcommand(1);

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "simulate one training step of a YAML scenario");
  run->add_option("scenario", run_args.scenario, "scenario YAML file")->required();
  run->add_flag("--json", run_args.json, "print one JSON object instead of the summary");
  run->add_option("--trace", run_args.trace,
                  "write a Chrome/Perfetto trace-event JSON timeline to FILE");
  run->add_option("--trace-granularity", run_args.granularity,
                  "op: one span per kernel (default); task: one span per engine task")
      ->check(CLI::IsMember({"op", "task"}));
  run->add_option("--set", run_args.sets,
                  "override a scenario key, e.g. --set plan.tp=4 (repeatable)");

  std::string what;
  CLI::App* list = app.add_subcommand("list", "list model presets or catalog hardware");
  list->add_option("what", what, "presets | hardware")
      ->required()
      ->check(CLI::IsMember({"presets", "hardware"}));

  int calibrate_exit_code = 0;
  CLI::App* calibrate = foresight::cli::AddCalibrateCommand(app, &calibrate_exit_code);
  foresight::cli::AddCalibrateFitCommand(*calibrate, &calibrate_exit_code);
  int search_exit_code = 0;
  CLI::App* sweep = foresight::cli::AddSweepCommand(app, &search_exit_code);
  CLI::App* search = foresight::cli::AddSearchCommand(app, &search_exit_code);

  int export_exit_code = 0;
  CLI::App* export_command = foresight::cli::AddExportCommand(app, &export_exit_code);

  int validate_exit_code = 0;
  CLI::App* validate = foresight::cli::AddValidateCommand(app, &validate_exit_code);
  int collective_exit_code = 0;
  CLI::App* collective = foresight::cli::AddCollectiveCommand(app, &collective_exit_code);
  CLI::App* validate_collectives =
      foresight::cli::AddValidateCollectivesCommand(app, &collective_exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (run->parsed()) return Run(run_args);
  if (export_command->parsed()) return export_exit_code;
  if (validate->parsed()) return validate_exit_code;
  if (collective->parsed() || validate_collectives->parsed()) return collective_exit_code;
  if (calibrate->parsed()) return calibrate_exit_code;
  if (sweep->parsed() || search->parsed()) return search_exit_code;
  if (list->parsed()) {
    const auto names =
        what == "presets" ? foresight::ops::PresetNames() : foresight::hw::CatalogNames();
    for (const auto& n : names) std::cout << n << "\n";
  }
  return 0;
}
