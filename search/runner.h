// RunPoints: evaluate points 0..n-1 on a thread pool (and across MPI ranks), append each
// finished row to a results file, resume from one, and return the rows in point order.
//
// Determinism: rows are returned (and the finished file written) in point order, so the output
// is the same for any number of threads or ranks, provided `evaluate` is deterministic.
// `evaluate` is called concurrently from several threads and must not share mutable state.
// Complexity: n evaluations split over jobs * ranks workers; O(n) memory for the rows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "search/communicator.h"
#include "search/results_file.h"

namespace foresight::search {

struct RunOptions {
  int jobs = 0;           // worker threads per process; 0 = std::thread::hardware_concurrency
  bool progress = false;  // draw a progress bar (done, rate, ETA) on stderr (rank 0 only)
  std::string out_path;   // results file; empty = none (ResultsFile, results_file.h)
  bool resume = false;    // reuse finished rows of out_path whose inputs hash matches
  Communicator* communicator = nullptr;  // null = this process only
};

struct RunStats {
  std::int64_t evaluated = 0;  // by this run, all ranks
  std::int64_t reused = 0;     // taken from the results file (--resume)
};

// Rows of every point on rank 0 (empty on other ranks). `columns` are the record columns
// (CSV header); `hash_of(i)` identifies point i's inputs; `evaluate(i)` returns its row (point
// and hash are filled in by RunPoints).
Result<std::vector<Row>> RunPoints(std::int64_t num_points, const std::vector<std::string>& columns,
                                   const std::function<std::string(std::int64_t)>& hash_of,
                                   const std::function<Row(std::int64_t)>& evaluate,
                                   const RunOptions& options, RunStats* stats);

// Worker threads for `jobs` (0 = all cores, at least 1).
int ResolveJobs(int jobs);

}  // namespace foresight::search
