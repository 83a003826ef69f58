// `foresight search SCENARIO [--objective step_time|cost_per_token|time_to_train] [--top K]
//                   [--out FILE] [--jobs N] [--json] [--resume] [--max-micro-batch N]
//                   [--set k=v]...`
//
// Enumerates the plan space of the scenario's model on its cluster (or on each entry of
// cluster.candidates), prunes by divisibility and a memory lower bound, simulates the rest,
// ranks the plans that fit by the objective and prints the top K with what separates each from
// the next, plus a hardware comparison when there are candidates (docs/search.md). Under
// `mpirun -n N` the simulations are split across ranks and rank 0 prints.
//
// Exit codes (stored into *exit_code): 0 success, 1 invalid input (scenario, missing price or
// training.tokens for the objective, nothing to simulate, results file), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

namespace foresight::cli {

// Adds `search` to `app`. `exit_code` must outlive app.parse().
CLI::App* AddSearchCommand(CLI::App& app, int* exit_code);

}  // namespace foresight::cli
