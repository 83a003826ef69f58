#include "calibrate/detect.h"

#include "calibrate/import_nccl_tests.h"
#include "calibrate/import_steps.h"
#include "calibrate/import_vtrain.h"
#include "calibrate/internal/fit_text.h"
#include "calibrate/measurement.h"

namespace foresight::calibrate {

std::string_view InputKindName(InputKind kind) {
  switch (kind) {
    case InputKind::kMeasurements:
      return "measurements";
    case InputKind::kVtrainAllReduce:
      return "vtrain-allreduce";
    case InputKind::kStepTable:
      return "step-table";
    case InputKind::kNcclTests:
      return "nccl-tests";
    case InputKind::kBusbwSummary:
      return "busbw-summary";
    case InputKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

InputKind DetectKind(std::string_view text) {
  if (LooksLikeMeasurements(text)) return InputKind::kMeasurements;
  const auto lines = internal::SplitLines(text);
  if (!lines.empty() && internal::Trim(lines[0]) == kVtrainAllReduceHeader)
    return InputKind::kVtrainAllReduce;
  if (LooksLikeStepTable(text)) return InputKind::kStepTable;
  if (LooksLikeNcclTests(text)) return InputKind::kNcclTests;
  if (LooksLikeBusbwSummary(text)) return InputKind::kBusbwSummary;
  return InputKind::kUnknown;
}

}  // namespace foresight::calibrate
