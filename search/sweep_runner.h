// RunSweep: evaluate every point of a scenario's `sweep:` (scenarios/sweep.h) and render the
// table printed by `foresight sweep` (docs/search.md).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "scenarios/scenario.h"
#include "search/runner.h"

namespace foresight::search {

struct SweepReport {
  std::vector<std::string> keys;     // swept keys (input columns), in sweep order
  std::vector<std::string> columns;  // every record column: keys, then OutputColumns()
  std::vector<Row> rows;             // one per point, in point order (rank 0 only)
  RunStats stats;
};

// Expands the sweep of the scenario file `path` and evaluates every point: the scenario with
// `sets`, then the point's values, applied (an invalid point is a row with status "invalid"
// and the loader's error, located at the sweep value). A point's hash covers the scenario
// file's text, `sets` and the point's values, so --resume reuses a row only for identical
// inputs. Errors: the file or its sweep cannot be read, the results file cannot be written.
Result<SweepReport> RunSweep(const std::string& path,
                             const std::vector<scenarios::SetOverride>& sets,
                             const RunOptions& options);

// The printed table: point, each swept key, step time, tokens/s, MFU, peak memory, fits (or the
// error of an invalid point), one line per point; then a count line.
std::string RenderSweepTable(const SweepReport& report);

}  // namespace foresight::search
