// `foresight sweep SCENARIO [--out FILE] [--jobs N] [--resume] [--set k=v]...`
//
// Evaluates every point of the scenario's `sweep:` section (docs/search.md) on a thread pool
// (and across ranks under mpirun), prints one table line per point, and with --out appends each
// finished row to FILE (.csv: CSV, otherwise JSON lines), rewritten in point order at the end.
// --resume keeps FILE's finished rows whose inputs are unchanged and evaluates the rest.
//
// Exit codes (stored into *exit_code by the callback): 0 success (some points may be
// invalid: they are listed with their error), 1 invalid input (the scenario or its sweep cannot
// be read, every point is invalid, the results file cannot be written), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

namespace foresight::cli {

// Adds `sweep` to `app`. `exit_code` must outlive app.parse().
CLI::App* AddSweepCommand(CLI::App& app, int* exit_code);

}  // namespace foresight::cli
