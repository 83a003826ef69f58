// MLCommons Chakra execution traces on the command line (docs/chakra.md).
//
//   foresight export chakra SCENARIO --out PREFIX [--gzip] [--set k=v]...
//       writes the scenario's simulated step as PREFIX.0.et .. PREFIX.(pp-1).et
//   foresight run SCENARIO            (a scenario with `workload: {chakra: PREFIX, ranks: N}`)
//       replays the trace; main.cc's `run` calls RunChakraWorkload for such scenarios.
//
// Exit codes: 0 success, 1 invalid input (scenario, trace files, output path), 2 usage error,
// 3 the simulation itself failed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "scenarios/scenario.h"

namespace foresight::cli {

// Adds `export` (with its `chakra` subcommand) to `app`; the callback stores its exit code in
// *exit_code, which must outlive app.parse().
CLI::App* AddExportCommand(CLI::App& app, int* exit_code);

// `foresight run` for a scenario whose `workload` is set: reads the rank files, replays them on
// the scenario's hardware and prints the summary (or JSON); writes a Chrome trace when
// trace_path is not empty. Returns the exit code.
int RunChakraWorkload(const scenarios::Scenario& scenario, bool json,
                      const std::string& trace_path);

}  // namespace foresight::cli
