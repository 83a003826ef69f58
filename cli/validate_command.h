// `foresight validate DATASET [--hardware NAME|PROFILE] [--json] [--csv FILE] [--plot FILE.svg]
//                    [--markdown FILE --title TEXT] [--max-rows N] [--max-mape PCT]
//                    [--max-worst PCT]`
//
// Predicts every row of a measured-runs dataset (validate/dataset.h, docs/validation.md) and
// prints per row the configuration, measured and predicted step time and signed error, then
// MAPE, median and worst absolute error overall and per GPU count and parallelism mix
// (--json: one JSON object instead). --csv / --plot / --markdown write the rows, an SVG scatter
// and a Markdown summary. --max-mape / --max-worst turn it into a check (the CI accuracy bar).
//
// Exit codes: 0 success, 1 invalid input (dataset, profile, a row that is not a valid plan,
// an output file that cannot be written), 2 usage error, 3 a simulation failed, 4 the error is
// above --max-mape or --max-worst.
#pragma once

#include <CLI/CLI.hpp>

namespace foresight::cli {

// Adds `validate` to `app`. `exit_code` must outlive app.parse().
CLI::App* AddValidateCommand(CLI::App& app, int* exit_code);

}  // namespace foresight::cli
