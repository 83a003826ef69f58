// Measured-runs datasets for `foresight validate` (docs/validation.md, "Dataset formats").
//
// Three formats, told apart by their content:
//  - MosaicML llm-foundry's Markdown throughput tables (foundry.h), detected by a table header
//    naming "Throughput (T/s)" and "Sharding Strategy";
//  - vTrain's step tables (ground_truth_single.csv / ground_truth_multi.csv, read by
//    calibrate::ParseStepTable): Megatron-DeepSpeed GPT runs; every row gets the default
//    calibrate::StepConventions and no hardware (the command's --hardware applies).
//  - the general "measured runs" CSV: a header naming columns (any order), then one run per
//    line. Lines whose first non-blank character is '#' and blank lines are skipped.
//    Required: layers, hidden, heads, seq_len, gpus, tp, pp, dp, global_batch, micro_batch,
//    measured_step_seconds. Optional: vocab (before padding, default 50257), vocab_multiple
//    (Megatron padding to a multiple of this times tp, default 128),
//    schedule (1f1b|gpipe), recompute (none|selective|full), flash_attention (true|false),
//    attention_kernel (a name from the hardware profile's gpu.attention_kernels, e.g.
//    triton_flash; needs flash_attention true; empty cell = the profile's default), dtype
//    (fp32|tf32|bf16|fp16|fp8), sharding (none|full_shard|shard_grad_op: how the data-parallel
//    replicas share model states, calibrate::DpSharding; default none), hardware (catalog name or
//    profile YAML path, relative to the dataset's folder), source (free text: where the measurement
//    comes from). Defaults of schedule/recompute/flash_attention/dtype are the StepConventions
//    defaults (1f1b, full, false, fp16). Cells may not contain commas (no quoting). gpus must equal
//    tp * pp * dp. The model is GPT-style (ffn 4 * hidden, kv_heads = heads), as in
//    calibrate::StepInputFor.
// Errors carry file:line:column and say what was expected. O(file size).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "calibrate/fit_step.h"
#include "calibrate/import_steps.h"

namespace foresight::validate {

struct RunRow {
  calibrate::StepRow step;  // dimensions, plan, batch, measured step time; step.line = source line
  calibrate::StepConventions conventions;
  std::string hardware;  // "" = the command's --hardware
  std::string source;    // provenance text ("" when the format has none)
  // Extra categories of the row (grouping name -> value, e.g. {"sharding", "FULL_SHARD"}):
  // the report adds per-category statistics for each grouping (validate.h).
  std::vector<std::pair<std::string, std::string>> tags;
};

// A source row that was read but cannot be simulated, with the reason (printed and counted).
struct SkippedRow {
  int line = 0;
  std::string section;  // where it was ("" when the format has no sections)
  std::string reason;
};

struct Dataset {
  std::string path;
  std::string format;  // "vtrain", "measured-runs" or "llm-foundry" (foundry.h)
  std::vector<RunRow> rows;
  std::vector<SkippedRow> skipped;
};

// The general format's columns: required first, then optional (the order the docs list them).
const std::vector<std::string_view>& RequiredColumns();
const std::vector<std::string_view>& OptionalColumns();

Result<Dataset> ParseDataset(std::string_view text, const std::string& path);
Result<Dataset> LoadDataset(const std::string& path);

}  // namespace foresight::validate
