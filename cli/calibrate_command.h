// `foresight calibrate ...`: the measurement subcommands.
//
//   foresight calibrate cpu  [--quick] [--threads N] --out FILE
//   foresight calibrate gpu  [--quick] [--device I] --out FILE
//   foresight calibrate nccl [--quick] [--gpus N] [--max-bytes B] --out FILE   (mpirun: multi-node)
//
// Each writes a measurement file (calibrate/measurement.h). gpu and nccl need a build with the
// CUDA toolkit (FORESIGHT_HAVE_CUDA) and a CUDA device; otherwise they print why and exit 1.
//
// Exit codes (stored into *exit_code by the subcommand's callback): 0 success, 1 failure
// (no device, built without CUDA, cannot write the file, a CUDA/NCCL error).
//
// EXTENDING: AddCalibrateCommand returns the `calibrate` CLI::App so that other files can add
// their own subcommands to it (e.g. `fit`): give each a ->callback() that stores its exit code
// into the same `*exit_code`; cli/main.cc returns that value when `calibrate` was parsed.
// The returned App requires exactly one subcommand.
#pragma once

#include <CLI/CLI.hpp>

namespace foresight::cli {

// Adds `calibrate` with `cpu`, `gpu` and `nccl` to `app`. `exit_code` must outlive app.parse().
CLI::App* AddCalibrateCommand(CLI::App& app, int* exit_code);

}  // namespace foresight::cli
