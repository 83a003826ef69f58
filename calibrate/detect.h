// Recognises what a calibration input file holds from its content (never its name), so that
// `foresight calibrate fit` takes any mix of files. Checked in this order:
//   kMeasurements     our own measurement files (calibrate/measurement.h LooksLikeMeasurements)
//   kVtrainAllReduce  first line is the vTrain all-reduce CSV header (import_vtrain.h)
//   kStepTable        first line names every step-table column (import_steps.h)
//   kNcclTests        an nccl-tests column header line (import_nccl_tests.h)
//   kBusbwSummary     rows of "SIZE-LABEL busbw..." without an nccl-tests header
//   kUnknown          none of these
// O(file size).
#pragma once

#include <cstdint>
#include <string_view>

namespace foresight::calibrate {

enum class InputKind : std::uint8_t {
  kMeasurements,
  kVtrainAllReduce,
  kStepTable,
  kNcclTests,
  kBusbwSummary,
  kUnknown,
};

std::string_view InputKindName(InputKind kind);
InputKind DetectKind(std::string_view text);

}  // namespace foresight::calibrate
