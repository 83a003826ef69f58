// Readers for the sections of a scenario (format v1, docs/scenario-format.md); internal.
//
// Each reads one top-level section through the strict MapReader, applies the documented
// defaults and returns the first error found. Cross-section checks (divisibility, world size)
// are plan::ValidateAndResolve's job; these check only what one section can know.
#pragma once

#include <vector>

#include "base/status.h"
#include "models/hw/hardware.h"
#include "models/ops/model_config.h"
#include "plan/plan.h"
#include "scenarios/internal/yaml_reader.h"

namespace foresight::scenarios::internal {

// The keys allowed at the top level, in documentation order.
std::vector<std::string> TopLevelKeys();

// `model`: a preset and/or explicit dimensions. Without a preset, layers, hidden, heads, vocab
// and seq_len are required, kv_heads defaults to heads and ffn_hidden to 4 * hidden; with a
// preset, keys not written keep the preset's values.
Status ReadModel(const MapReader& top, ops::ModelConfig* model);

// `cluster`: hardware (required), nodes (default 1), gpus_per_node (0 = from the hardware),
// overrides (a mapping of dotted hardware-profile keys, possibly nested, flattened in document
// order into `overrides`, each located at its value or at the --set that wrote it).
Status ReadCluster(const MapReader& top, plan::ClusterConfig* cluster,
                   std::vector<hw::HardwareOverride>* overrides);

// `training`: global_batch (required), micro_batch (default 1), dtype (bf16 | fp16 | fp32).
Status ReadTraining(const MapReader& top, plan::TrainingConfig* training);

// `plan` (optional section): parallelism, schedule, recompute, fusion, overlap, buckets.
// vpp must be 1. fusion is a preset name, or a mapping of FusionRules fields -> bool applied on
// top of "default" (fusion_preset becomes "custom").
Status ReadPlan(const MapReader& top, plan::Plan* plan);

}  // namespace foresight::scenarios::internal
