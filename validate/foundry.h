// Importer for MosaicML llm-foundry's MPT throughput tables (github.com/mosaicml/llm-foundry,
// scripts/train/benchmarking/README.md; kept verbatim in ../shared/data/llm-foundry/benchmarks.md,
// see data/README.md). The tables are read directly from the Markdown:
//  - a heading line ("## H100 80GB BF16", "## A100 40GB with 1600 Gbps ...") names the section;
//  - a table starts with a header row ("|  Model | SeqLen (T) | # GPUs | ... |"); its columns are
//    found by name (any order, extra columns ignored), then a separator row ("| --- | ... |"),
//    then one run per row until the first line that does not start with '|'.
// Required columns: Model, SeqLen (T), # GPUs, GPU, MicroBatchSize, GradAccum, GlobalBatchSize,
// Throughput (T/s), GlobalBatchSize (T), Precision, Sharding Strategy, Activation
// Checkpointing, Activation CPUOffload, NumParams.
//
// Every run becomes a RunRow (dataset.h): the MPT model of its "Model" cell (dimensions from
// MptModels()), data parallelism over all GPUs (tp = pp = 1, dp = # GPUs), FSDP sharding
// (calibrate::DpSharding: FULL_SHARD -> ZeRO-3, SHARD_GRAD_OP -> ZeRO-2), full recompute iff
// activation checkpointing, flash attention, bf16 (amp_bf16, bf16) or fp8 (amp_fp8), hardware
// from the GPU cell (FoundryHardwareFor). Measured step time = GlobalBatchSize (T) /
// Throughput (T/s): tokens per step over measured tokens per second.
//
// Rows whose configuration cannot be represented are not simulated but listed in
// Dataset::skipped with the reason (unknown model or GPU, CPU offload, a precision or sharding
// strategy without a mapping, micro-batches that do not split the per-GPU batch evenly, a
// NumParams cell our parameter count disagrees with, SHARD_GRAD_OP with gradient
// accumulation). Malformed input (a cell that is not a number or not True/False, a row with the
// wrong number of cells, a header lacking a required column, GlobalBatchSize (T) !=
// GlobalBatchSize x SeqLen) is an error with file:line:column. O(file size).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "models/ops/model_config.h"
#include "validate/dataset.h"

namespace foresight::validate {

// An MPT model of llm-foundry's scripts/train/yamls/pretrain/mpt-<name>.yaml.
struct MptDims {
  std::string_view name;  // "125m", ..., "70b" (the tables' Model column)
  std::int64_t d_model = 0;
  std::int64_t n_heads = 0;
  std::int64_t n_layers = 0;
};
const std::vector<MptDims>& MptModels();
std::optional<MptDims> FindMpt(std::string_view name);

// The foresight model of an MPT at a sequence length: vocab 50368, ffn 4 * d_model, gelu,
// layernorm with bias, biases in every linear layer, tied embeddings, learned positions of
// max_seq_len = seq_len (MPTConfig defaults of llm-foundry, see foundry.cc).
ops::ModelConfig MptModelConfig(const MptDims& dims, std::int64_t seq_len);

// The hardware (catalog name or profile path, relative to the repository root) for a GPU cell:
// h100_80gb -> dgx-h100, a100_80gb -> dgx-a100-80gb, a100_40gb ->
// calibrate/profiles/a100-40gb-roce.yaml; nullopt for anything else.
std::optional<std::string> FoundryHardwareFor(std::string_view gpu);

// True when some line is a table header naming "Throughput (T/s)" and "Sharding Strategy".
bool LooksLikeFoundryTables(std::string_view text);

Result<Dataset> ParseFoundryTables(std::string_view text, const std::string& path);

}  // namespace foresight::validate
