// `foresight calibrate fit FILES... --base NAME --out PROFILE.yaml [--report REPORT.md]`
//   [--name NAME] [--step-params P1,P2,...] [--step-max-rows N] [--step-max-evals N]
//   [--step-flash-attention] [--step-allow-above-base] [--step-dtype fp16|bf16|...]
//   [--step-vocab V]
//
// Detects the kind of every input file, runs the applicable fitters and writes the profile YAML
// (catalog schema, usable as `cluster.hardware: PROFILE.yaml`) and, with --report, the Markdown
// fit report; all logic is calibrate::RunCalibrationFit (calibrate/fit_pipeline.h).
// Exit code (stored into *exit_code): 0 success, 1 invalid input or a file that cannot be
// written.
#pragma once

#include <CLI/CLI.hpp>

namespace foresight::cli {

// Adds `fit` under the `calibrate` App returned by AddCalibrateCommand.
void AddCalibrateFitCommand(CLI::App& calibrate, int* exit_code);

}  // namespace foresight::cli
