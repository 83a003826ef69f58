#include "cli/calibrate_fit_command.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "calibrate/detect.h"
#include "calibrate/fit_pipeline.h"
#include "validate/dataset.h"
#include "validate/foundry.h"
#include "validate/validate.h"

namespace foresight::cli {
namespace {

struct FitArgs {
  std::vector<std::string> files;
  std::string base;
  std::string out;
  std::string report;
  std::string name;
  std::string step_params;
  std::size_t step_max_rows = 0;
  int step_max_evals = 200;
  bool step_flash = false;
  bool step_above_base = false;
  std::string step_dtype = "fp16";
  std::int64_t step_vocab = 50257;
  std::vector<std::string> sections;  // measured-runs / llm-foundry inputs: only these sections
  std::int64_t max_gpus = 0;          // ... and only rows with at most this many GPUs
};

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

std::string CommandLine(const FitArgs& a, const CLI::App& fit) {
  std::ostringstream s;
  s << "foresight calibrate fit";
  for (const std::string& f : a.files) s << " " << f;
  s << " --base " << a.base << " --out " << a.out;
  if (!a.report.empty()) s << " --report " << a.report;
  if (!a.name.empty()) s << " --name " << a.name;
  if (fit.count("--step-params")) s << " --step-params " << a.step_params;
  if (fit.count("--step-max-rows")) s << " --step-max-rows " << a.step_max_rows;
  if (fit.count("--step-max-evals")) s << " --step-max-evals " << a.step_max_evals;
  if (a.step_flash) s << " --step-flash-attention";
  if (a.step_above_base) s << " --step-allow-above-base";
  if (fit.count("--step-dtype")) s << " --step-dtype " << a.step_dtype;
  if (fit.count("--step-vocab")) s << " --step-vocab " << a.step_vocab;
  for (const std::string& section : a.sections) s << " --section \"" << section << "\"";
  if (a.max_gpus > 0) s << " --max-gpus " << a.max_gpus;
  return s.str();
}

// Splits the inputs: files `calibrate fit` reads itself stay in request.files; measured-runs
// CSVs and llm-foundry tables (what `foresight validate` reads, each row with its own
// conventions) become request.step_datasets, filtered by --section / --max-gpus.
Status SplitInputs(const FitArgs& a, calibrate::FitRequest& request) {
  for (const std::string& path : a.files) {
    std::ifstream stream(path, std::ios::binary);
    std::ostringstream text;
    if (stream) text << stream.rdbuf();
    const std::string body = text.str();
    const bool dataset = stream && calibrate::DetectKind(body) == calibrate::InputKind::kUnknown &&
                         (validate::LooksLikeFoundryTables(body) ||
                          body.find("measured_step_seconds") != std::string::npos);
    if (!dataset) {
      request.files.push_back(path);  // the pipeline reads it (or reports why not)
      continue;
    }
    auto parsed = validate::LoadDataset(path);
    if (!parsed.ok()) return parsed.error();
    validate::Options filter;
    filter.sections = a.sections;
    filter.max_gpus = a.max_gpus;
    auto table = validate::StepTableFor(*parsed, filter, a.base);
    if (!table.ok()) return table.error();
    request.step_datasets.push_back(std::move(*table));
  }
  if ((!a.sections.empty() || a.max_gpus > 0) && request.step_datasets.empty()) {
    return Error{
        "--section and --max-gpus select rows of measured-runs or llm-foundry inputs, "
        "and none was given",
        "", 0, 0};
  }
  return Status::Ok();
}

int RunFit(const FitArgs& a, const CLI::App& fit) {
  calibrate::FitRequest request;
  if (Status s = SplitInputs(a, request); !s.ok()) {
    std::cerr << "error: " << s.error().ToString() << "\n";
    return 1;
  }
  request.base = a.base;
  request.name = a.name;
  request.command_line = CommandLine(a, fit);
  if (!a.step_params.empty()) {
    request.step.parameters.clear();
    std::stringstream list(a.step_params);
    std::string item;
    while (std::getline(list, item, ',')) request.step.parameters.push_back(item);
  }
  request.step.max_rows = a.step_max_rows;
  request.step.max_evaluations = a.step_max_evals;
  request.step.conventions.flash_attention = a.step_flash;
  request.step.cap_efficiency_at_base = !a.step_above_base;
  request.step.conventions.vocab = a.step_vocab;
  const auto dtype = ParseDtype(a.step_dtype);
  if (!dtype) {
    std::cerr << "error: --step-dtype: unknown dtype '" << a.step_dtype
              << "'; valid: fp32, tf32, bf16, fp16, fp8\n";
    return 1;
  }
  request.step.conventions.dtype = *dtype;
  auto output = calibrate::RunCalibrationFit(request);
  if (!output.ok()) {
    std::cerr << "error: " << output.error().ToString() << "\n";
    return 1;
  }
  if (!WriteFile(a.out, output->yaml)) {
    std::cerr << "error: cannot write " << a.out << "\n";
    return 1;
  }
  if (!a.report.empty() && !WriteFile(a.report, output->report)) {
    std::cerr << "error: cannot write " << a.report << "\n";
    return 1;
  }
  for (const std::string& input : output->inputs) std::cout << "input " << input << "\n";
  for (const calibrate::FitSection& s : output->sections) {
    std::printf("fit %-70s points %6zu  R2 %8.5f  median %6.2f%%  worst %7.2f%%\n", s.title.c_str(),
                s.quality.points, s.quality.r_squared, 100 * s.quality.median_abs_rel,
                100 * s.quality.worst_abs_rel);
  }
  std::cout << "profile written to " << a.out << "\n";
  if (!a.report.empty()) std::cout << "report written to " << a.report << "\n";
  return 0;
}

}  // namespace

void AddCalibrateFitCommand(CLI::App& calibrate, int* exit_code) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* fit = calibrate.add_subcommand(
      "fit", "fit a hardware profile to measurement files, nccl-tests logs and step times");
  fit->add_option("files", args->files, "input files (kind detected from content)")->required();
  fit->add_option("--base", args->base, "base profile: catalog name or YAML path")->required();
  fit->add_option("--out", args->out, "write the fitted profile YAML here")->required();
  fit->add_option("--report", args->report, "write the Markdown fit report here");
  fit->add_option("--name", args->name, "name of the new profile (default BASE-calibrated)");
  fit->add_option("--step-params", args->step_params,
                  "comma-separated profile keys the step-time fit moves (default "
                  "gpu.gemm.max_efficiency,gpu.memory.max_efficiency,gpu.kernel_launch_seconds)");
  fit->add_option("--step-max-rows", args->step_max_rows,
                  "use at most N rows per step table (every k-th row; 0 = all)");
  fit->add_option("--step-max-evals", args->step_max_evals,
                  "Levenberg-Marquardt evaluations of the step table (default 200)");
  fit->add_flag("--step-flash-attention", args->step_flash,
                "the measured runs used flash attention (default: unfused attention)");
  fit->add_flag("--step-allow-above-base", args->step_above_base,
                "let fitted efficiencies rise above the base profile's (default: capped there)");
  fit->add_option("--step-dtype", args->step_dtype, "training dtype of the step table (fp16)");
  fit->add_option("--step-vocab", args->step_vocab,
                  "vocabulary before Megatron padding (default 50257, GPT-2)");
  fit->add_option("--section", args->sections,
                  "measured-runs / llm-foundry inputs: fit only the rows of this section "
                  "(repeat for several)")
      ->allow_extra_args(false);
  fit->add_option("--max-gpus", args->max_gpus,
                  "measured-runs / llm-foundry inputs: fit only rows with at most N GPUs "
                  "(e.g. 8: single-node rows, keeping the multi-node ones for validation)");
  fit->callback([args, exit_code, fit] { *exit_code = RunFit(*args, *fit); });
}

}  // namespace foresight::cli
