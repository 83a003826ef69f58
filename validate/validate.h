// `foresight validate`: predict every row of a measured-runs dataset (dataset.h) with
// plan::SimulateStep and compare with the measurement.
//
// Per row: signed relative error e = (predicted - measured) / measured. Statistics over a set
// of rows (in percent in the outputs):
//   MAPE   = mean |e|
//   median = median |e| (mean of the two middle values for an even count)
//   worst  = max |e|
//   bias   = mean e (signed; > 0: the simulator is slow)
// Filters (Options::sections, min_gpus, max_gpus) apply before the subsample (max_rows).
// Categories: GPU count ("8 GPUs") and parallelism mix (the dimensions > 1 among tp, pp, dp,
// e.g. "tp+dp"; "none" for one GPU), each with the same statistics; categories are listed in
// ascending GPU count / name order. Rows are simulated in file order; nothing depends on
// threads or time, so the output is deterministic. Cost: one SimulateStep per row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "validate/dataset.h"

namespace foresight::validate {

struct ErrorStats {
  std::size_t rows = 0;
  double mape = 0;  // fractions (0.05 = 5%)
  double median_abs = 0;
  double worst_abs = 0;
  double bias = 0;
};
ErrorStats ComputeStats(const std::vector<double>& signed_errors);

struct RowResult {
  RunRow row;
  std::string hardware;     // profile name used
  std::string config;       // "h=2560 L=32 heads=32 s=2048 B=128 b=4 tp=8 pp=1 dp=1"
  std::string parallelism;  // "tp+dp"
  double measured_s = 0;
  double predicted_s = 0;
  double error = 0;  // signed relative
  // The simulator's memory verdict: every measured run did run, so fits = false is an error of
  // the memory model (or of the row's conventions).
  bool fits = true;
  double peak_bytes = 0;
};

struct Category {
  std::string name;  // "8 GPUs", "tp+pp+dp"
  ErrorStats stats;
};

// Statistics per value of one of the rows' tags (RunRow::tags), e.g. "sharding".
struct Grouping {
  std::string name;  // the tag's name
  std::vector<Category> categories;
};

struct Report {
  std::string dataset;   // path as given
  std::string format;    // Dataset::format
  std::string hardware;  // the --hardware argument ("" = per-row hardware)
  std::string section;   // Options::sections joined by " + " ("" = all rows)
  std::vector<RowResult> rows;
  ErrorStats overall;
  std::vector<Category> by_gpus;
  std::vector<Category> by_parallelism;
  // One grouping per tag name, in the order the tags first appear; categories in ascending
  // numeric order when every value is an integer, else in order of first appearance.
  std::vector<Grouping> by_tag;
  std::vector<SkippedRow> skipped;  // the dataset's unrepresentable rows (of the section)
};

struct Options {
  std::string hardware;      // catalog name or profile YAML; "" = each row's hardware column
  std::size_t max_rows = 0;  // > 0: every k-th row, k = ceil(rows / max_rows) (CI subset)
  // Only rows whose "section" tag is one of these (empty = all); an unknown section is an error
  // that lists the known ones.
  std::vector<std::string> sections;
  std::int64_t max_gpus = 0;  // > 0: only rows with at most this many GPUs
  std::int64_t min_gpus = 0;  // > 0: only rows with at least this many GPUs
};

// The rows `options` selects (sections, min_gpus, max_gpus; not max_rows), in file order. Error: an
// unknown section (the message lists the known ones).
Result<std::vector<const RunRow*>> SelectRows(const Dataset& dataset, const Options& options);

// The selected rows as a step table for `calibrate fit`, each row with its own conventions.
// Rows naming a hardware other than `base` (compared as written, paths normalised) are an
// error: one fit calibrates one profile (filter with options.sections / min_gpus / max_gpus).
Result<calibrate::StepTableWithConventions> StepTableFor(const Dataset& dataset,
                                                         const Options& options,
                                                         const std::string& base);

// "tp+pp+dp" style name of the dimensions > 1 ("none" when all are 1).
std::string ParallelismMix(std::int64_t tp, std::int64_t pp, std::int64_t dp);

// Errors: a row without hardware, a profile that does not load, a row that is not a valid
// plan (file:line of the row), a failed simulation.
Result<Report> RunValidation(const Dataset& dataset, const Options& options);

// Renderers (deterministic; numbers in ms / percent as labelled).
std::string RenderText(const Report& report);
std::string RenderJson(
    const Report& report);  // mape, median_abs_pct_error, worst_abs_pct_error, rows
std::string RenderCsv(const Report& report);
// Predicted vs measured scatter on log-log axes, the y = x line, the +-10% band, labelled axes.
std::string RenderSvg(const Report& report);
// A Markdown section: summary line, per-category tables (for docs/validation.md).
std::string RenderMarkdown(const Report& report, const std::string& title);

}  // namespace foresight::validate
