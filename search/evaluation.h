// Evaluating one scenario point for sweeps and searches: simulate, and turn the result into
// the flat output columns of a results row (docs/search.md lists them with units).
#pragma once

#include <string>
#include <vector>

#include "plan/simulate.h"
#include "scenarios/scenario.h"
#include "search/results_file.h"

namespace foresight::search {

// Output columns, in order: status ("ok", "invalid": the point does not load/validate,
// "failed": the simulation failed), error, the resolved plan (hardware, nodes, gpus_per_node,
// world_size, tp, pp, dp, micro_batch, micro_batches, schedule, recompute), step_time_s,
// tokens_per_s, samples_per_s, model_tflops_per_gpu, mfu, hfu, peak_bytes, capacity_bytes,
// fits, compute_s, exposed_comm_s, bubble_s, other_s, interference_s (the compute kernels'
// overlap slowdown, 0 unless the hardware sets gpu.interference; mean over stages), and the peak
// stage's weights_bytes, gradients_bytes, optimizer_bytes, activations_bytes, other_bytes.
std::vector<std::string> OutputColumns();

// Simulates `scenario` and fills `row` (record columns above + the full JSON result).
void EvaluateScenario(const scenarios::Scenario& scenario, Row* row);

// Marks `row` as not evaluated: status `status`, error `message` (other outputs null).
void MarkNotEvaluated(const std::string& status, const std::string& message, Row* row);

// Number of column `key` of `record` as a double (0 when absent or not a number).
double NumberOf(const Json& record, const std::string& key);
// Text of column `key` (CellText), "" when absent.
std::string TextOf(const Json& record, const std::string& key);

}  // namespace foresight::search
