// `foresight collective --hardware NAME|PROFILE --nodes N [--gpus-per-node G]
//     --op all_reduce|all_gather|reduce_scatter|alltoall|sendrecv --minbytes 32M --maxbytes 16G
//     [--stepfactor F] [--algo ring|tree|nvls|hierarchical|auto] [--model analytical|flow]
//     [--set KEY=VALUE]...`
//
// A simulated nccl-tests run (models/hw/collective_sweep.h): prints the nccl-tests table (size,
// count, type, redop, root, time in us, algbw, busbw in GB/s) plus the algorithm/protocol the
// model chose, so it can be laid beside a real log. --set overrides a hardware-profile key by
// its dotted path (e.g. --set fabric.oversubscription=4) for a what-if.
//
// Exit codes (stored into *exit_code by the callback): 0 success, 1 invalid input (profile,
// override, sizes, an algorithm that cannot run the op), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

namespace foresight::cli {

// Adds `collective` to `app`. `exit_code` must outlive app.parse().
CLI::App* AddCollectiveCommand(CLI::App& app, int* exit_code);

// `foresight validate-collectives [--data DIR] [--doc FILE]`: calibrate/validate_collectives.h;
// with --doc rewrites only the generated block of FILE (docs/validation.md), else prints it.
CLI::App* AddValidateCollectivesCommand(CLI::App& app, int* exit_code);

}  // namespace foresight::cli
