#include "cli/validate_command.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "validate/validate.h"

namespace foresight::cli {
namespace {

struct ValidateArgs {
  std::string dataset;
  std::string hardware;
  bool json = false;
  std::string csv;
  std::string plot;
  std::string markdown;
  std::string title;
  std::size_t max_rows = 0;
  std::vector<std::string> sections;
  std::int64_t max_gpus = 0;
  std::int64_t min_gpus = 0;
  double max_mape_pct = -1;
  double max_worst_pct = -1;
};

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

int RunValidate(const ValidateArgs& a) {
  auto dataset = validate::LoadDataset(a.dataset);
  if (!dataset.ok()) {
    std::cerr << "error: " << dataset.error().ToString() << "\n";
    return 1;
  }
  validate::Options options;
  options.hardware = a.hardware;
  options.max_rows = a.max_rows;
  options.sections = a.sections;
  options.max_gpus = a.max_gpus;
  options.min_gpus = a.min_gpus;
  auto report = validate::RunValidation(*dataset, options);
  if (!report.ok()) {
    const std::string message = report.error().ToString();
    std::cerr << "error: " << message << "\n";
    return message.find("simulation failed") != std::string::npos ? 3 : 1;
  }
  std::cout << (a.json ? validate::RenderJson(*report) : validate::RenderText(*report));
  const std::pair<const std::string*, std::string> outputs[] = {
      {&a.csv, a.csv.empty() ? "" : validate::RenderCsv(*report)},
      {&a.plot, a.plot.empty() ? "" : validate::RenderSvg(*report)},
      {&a.markdown, a.markdown.empty() ? ""
                                       : validate::RenderMarkdown(
                                             *report, a.title.empty() ? a.dataset : a.title)}};
  for (const auto& [path, text] : outputs) {
    if (path->empty()) continue;
    if (!WriteFile(*path, text)) {
      std::cerr << "error: cannot write " << *path << "\n";
      return 1;
    }
  }
  int code = 0;
  if (a.max_mape_pct >= 0 && 100 * report->overall.mape > a.max_mape_pct) {
    std::cerr << "error: MAPE " << 100 * report->overall.mape << "% is above the bar --max-mape "
              << a.max_mape_pct << "%\n";
    code = 4;
  }
  if (a.max_worst_pct >= 0 && 100 * report->overall.worst_abs > a.max_worst_pct) {
    std::cerr << "error: worst error " << 100 * report->overall.worst_abs
              << "% is above the bar --max-worst " << a.max_worst_pct << "%\n";
    code = 4;
  }
  return code;
}

}  // namespace

CLI::App* AddValidateCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "predict every run of a measured-runs dataset and report the error");
  cmd->add_option(
         "dataset", args->dataset,
         "measured runs: a vTrain step table, llm-foundry's throughput tables or the general CSV "
         "(docs/validation.md)")
      ->required();
  cmd->add_option("--hardware", args->hardware,
                  "catalog name or profile YAML for every row (default: each row's 'hardware')");
  cmd->add_flag("--json", args->json, "print one JSON object instead of the table");
  cmd->add_option("--csv", args->csv, "write the per-row results as CSV to FILE");
  cmd->add_option("--plot", args->plot, "write an SVG scatter of predicted vs measured to FILE");
  cmd->add_option("--markdown", args->markdown, "write a Markdown summary (docs) to FILE");
  cmd->add_option("--title", args->title, "heading of the --markdown summary");
  cmd->add_option("--max-rows", args->max_rows,
                  "use at most N rows (every k-th row, deterministic; 0 = all)");
  cmd->add_option("--section", args->sections,
                  "only the rows of this section (llm-foundry tables: the heading, e.g. "
                  "'H100 80GB FP8'); repeat for several")
      ->allow_extra_args(false);
  cmd->add_option("--max-gpus", args->max_gpus, "only the rows with at most N GPUs (0 = all)");
  cmd->add_option("--min-gpus", args->min_gpus,
                  "only the rows with at least N GPUs (0 = all; e.g. 9: the multi-node rows)");
  cmd->add_option("--max-mape", args->max_mape_pct,
                  "exit 4 when the MAPE (percent) is above this bar");
  cmd->add_option("--max-worst", args->max_worst_pct,
                  "exit 4 when the worst absolute error (percent) is above this bar");
  cmd->callback([args, exit_code] { *exit_code = RunValidate(*args); });
  return cmd;
}

}  // namespace foresight::cli
