// Output formats for a simulated step. Reports read results; they never change them.
//
//   RenderSummary    — the human-readable table printed by `foresight run`
//   RenderJson       — one JSON object (keys documented in docs/scenario-format.md, "Output")
//   WriteChromeTrace — Chrome trace-event JSON, opens in Perfetto (ui.perfetto.dev) and
//                      chrome://tracing: one process per simulated rank (pipeline stage), one
//                      thread per stream, one span per op (or per task), memory counters
//                      (device, and host when the plan offloads).
// All output is deterministic: same result, same bytes.
#pragma once

#include <ostream>
#include <string>

#include "plan/simulate.h"
#include "scenarios/scenario.h"

namespace foresight::reports {

std::string RenderSummary(const scenarios::Scenario& scenario, const plan::StepResult& result);

// Pretty-printed with 2-space indent when `pretty`, else one line.
std::string RenderJson(const scenarios::Scenario& scenario, const plan::StepResult& result,
                       bool pretty = true);

struct TraceOptions {
  bool per_op = true;  // one span per op (kernel); false: one span per engine task
};
void WriteChromeTrace(const scenarios::Scenario& scenario, const plan::StepResult& result,
                      const TraceOptions& options, std::ostream& out);

}  // namespace foresight::reports
