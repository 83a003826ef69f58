#include "cli/search_command.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "search/communicator.h"
#include "search/plan_search.h"

namespace foresight::cli {
namespace {

struct SearchArgs {
  std::string scenario;
  std::string objective = "step_time";
  int top = 10;
  std::string out;
  int jobs = 0;
  bool json = false;
  bool resume = false;
  std::int64_t max_micro_batch = 16;
  std::vector<std::string> sets;
  std::vector<std::string> axes;
};

int RunSearchCommand(const SearchArgs& args) {
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
  Result<scenarios::Scenario> scenario = scenarios::LoadScenarioFile(args.scenario, sets);
  if (!scenario.ok()) return fail(scenario.error());

  search::SearchOptions options;
  options.objective = *search::ParseObjective(args.objective);
  options.space.max_micro_batch = args.max_micro_batch;
  for (const std::string& axis : args.axes) {
    if (Status st = search::ApplyAxis(axis, &options.space); !st.ok()) {
      if (root) std::cerr << "error: " << st.error().ToString() << "\n";
      return 2;
    }
  }
  options.run.jobs = args.jobs;
  options.run.progress = ::isatty(STDERR_FILENO) != 0;
  options.run.out_path = args.out;
  options.run.resume = args.resume;
  options.run.communicator = comm.get();
  std::ifstream in(args.scenario, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  options.fingerprint = text.str();
  for (const std::string& s : args.sets) options.fingerprint += "\n--set " + s;
  for (const std::string& a : args.axes) options.fingerprint += "\n--axis " + a;

  Result<search::SearchReport> report = search::RunSearch(*scenario, options);
  if (!report.ok()) return fail(report.error());
  if (!root) return 0;
  if (args.json) {
    std::cout << search::RenderSearchJson(*report, args.top) << "\n";
  } else {
    std::cout << "search: " << scenario->name << "\n"
              << search::RenderSearchText(*report, args.top);
  }
  if (report->stats.reused > 0) {
    std::cerr << report->stats.reused << " plans taken from " << args.out << " (--resume), "
              << report->stats.evaluated << " simulated\n";
  }
  return 0;
}

}  // namespace

CLI::App* AddSearchCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* search =
      app.add_subcommand("search", "search the parallel plan space (and candidate clusters)");
  search->add_option("scenario", args->scenario, "scenario YAML file")->required();
  search
      ->add_option("--objective", args->objective,
                   "step_time (s/step), cost_per_token (USD/token), time_to_train (s)")
      ->check(CLI::IsMember({"step_time", "cost_per_token", "time_to_train"}));
  search->add_option("--top", args->top, "plans to print (default 10)")->check(CLI::PositiveNumber);
  search->add_option("--out", args->out,
                     "append every simulated plan to FILE (.csv: CSV, else JSON lines)");
  search->add_option("--jobs", args->jobs, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  search->add_flag("--json", args->json, "print one JSON object instead of the text report");
  search->add_flag("--resume", args->resume, "keep FILE's finished rows and simulate the rest");
  search
      ->add_option("--max-micro-batch", args->max_micro_batch,
                   "largest micro_batch to try (default 16)")
      ->check(CLI::PositiveNumber);
  search->add_option("--set", args->sets, "override a scenario key, e.g. --set cluster.nodes=64");
  search->add_option("--axis", args->axes,
                     "values an axis may take, e.g. --axis zero=0,1 --axis cp=1,2 (tp, pp, cp, ep, "
                     "micro_batch, vpp, zero, schedule, recompute, sequence_parallel)");
  search->callback([args, exit_code]() { *exit_code = RunSearchCommand(*args); });
  return search;
}

}  // namespace foresight::cli
