// `foresight calibrate fit`: loads a base profile, reads every input file (its kind detected
// from content, detect.h), runs the fitters that apply, and returns the fitted profile (as a
// struct and as catalog-schema YAML with provenance comments) and the Markdown fit report.
//
// Order of the fits (later ones use earlier results):
//   1. launch table             -> gpu.kernel_launch_seconds           (fit_roofline.h)
//   2. membw read/write/copy/triad -> gpu.memory.{max_efficiency, bytes_half}
//   3. gemm tables              -> gpu.gemm.{max_efficiency, k_half}
//   4. memcpy pinned h2d/d2h    -> node.pcie.{efficiency, latency_seconds}
//   5. collectives (nccl-tests logs, vTrain sweeps, busbw summaries, collective tables)
//        -> per-group report sections, then node.scale_up and network.nic (fit_collective.h)
//   6. cpu tables / host metadata -> host.cores, host.memory_bytes (+ report-only host rates)
//   7. step tables              -> StepFitOptions::parameters by simulation (fit_step.h)
// Inputs that are never fitted: peaks, memory sizes, line rates, tile sizes, SM count (base).
// The YAML is re-parsed with hw::ParseHardware before it is returned, so what is written loads.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "calibrate/fit_linear.h"
#include "calibrate/fit_report.h"
#include "calibrate/fit_step.h"
#include "models/hw/hardware.h"

namespace foresight::calibrate {

struct FitRequest {
  std::vector<std::string> files;
  std::string base;          // catalog name or profile path
  std::string name;          // name of the new profile; empty = "<base name>-calibrated"
  std::string command_line;  // recorded in the YAML header and the report
  StepFitOptions step;
  // Step-time rows with their own conventions, already read by the caller (the measured-runs
  // CSV and llm-foundry tables of validate/dataset.h; `foresight calibrate fit` reads them),
  // fitted together with the step tables among `files`.
  std::vector<StepTableWithConventions> step_datasets;
  RobustOptions robust;
  std::size_t report_points_per_section = 400;  // per-point rows in the report (0 = all)
};

struct FitOutput {
  hw::HardwareProfile profile;
  std::string yaml;
  std::string report;
  std::vector<FitSection> sections;
  std::vector<std::string> inputs;  // "path: kind" per file
};

Result<FitOutput> RunCalibrationFit(const FitRequest& request);

}  // namespace foresight::calibrate
