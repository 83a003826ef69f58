#include "cli/sweep_command.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "search/communicator.h"
#include "search/evaluation.h"
#include "search/sweep_runner.h"

namespace foresight::cli {
namespace {

struct SweepArgs {
  std::string scenario;
  std::string out;
  int jobs = 0;
  bool resume = false;
  std::vector<std::string> sets;
};

int RunSweepCommand(const SweepArgs& args) {
  std::unique_ptr<search::Communicator> comm = search::WorldCommunicator(nullptr, nullptr);
  const bool root = comm->rank() == 0;
  auto fail = [root](const Error& error) {
    if (root) std::cerr << "error: " << error.ToString() << "\n";
    return 1;
  };
  if (args.resume && args.out.empty()) {
    if (root) std::cerr << "error: --resume needs --out FILE (the results to resume from)\n";
    return 2;
  }
  Result<std::vector<scenarios::SetOverride>> parsed_sets = scenarios::ParseSetOverrides(args.sets);
  if (!parsed_sets.ok()) return fail(parsed_sets.error());
  const std::vector<scenarios::SetOverride>& sets = *parsed_sets;
  search::RunOptions options;
  options.jobs = args.jobs;
  options.progress = ::isatty(STDERR_FILENO) != 0;
  options.out_path = args.out;
  options.resume = args.resume;
  options.communicator = comm.get();
  Result<search::SweepReport> report = search::RunSweep(args.scenario, sets, options);
  if (!report.ok()) return fail(report.error());
  if (!root) return 0;
  std::cout << search::RenderSweepTable(*report);
  if (report->stats.reused > 0) {
    std::cerr << report->stats.reused << " points taken from " << args.out << " (--resume), "
              << report->stats.evaluated << " evaluated\n";
  }
  for (const search::Row& row : report->rows) {
    if (search::TextOf(row.record, "status") == "ok") return 0;
  }
  if (!report->rows.empty()) {
    std::cerr << "error: no sweep point is valid; the first: "
              << search::TextOf(report->rows[0].record, "error") << "\n";
  }
  return 1;
}

}  // namespace

CLI::App* AddSweepCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* sweep =
      app.add_subcommand("sweep", "evaluate every point of a scenario's sweep: section");
  sweep->add_option("scenario", args->scenario, "scenario YAML file with a sweep: section")
      ->required();
  sweep->add_option("--out", args->out,
                    "append results to FILE (.csv: CSV, else JSON lines), sorted at the end");
  sweep->add_option("--jobs", args->jobs, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  sweep->add_flag("--resume", args->resume, "keep FILE's finished rows and evaluate the rest");
  sweep->add_option("--set", args->sets,
                    "override a scenario key before the sweep values, e.g. --set plan.pp=4");
  sweep->callback([args, exit_code]() { *exit_code = RunSweepCommand(*args); });
  return sweep;
}

}  // namespace foresight::cli
