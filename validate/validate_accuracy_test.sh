#!/usr/bin/env bash
# CI accuracy bar (docs/validation.md, "CI subset"): a deterministic subsample of the held-out
# multi-node vTrain runs (every 4th row) and of the single-node runs (every 60th row),
# predicted with the fitted profile. Fails (exit 4 from `foresight validate`) when the error
# rises above the stated bars. Today (2026-12-01, host-dispatch model with the queue draining
# at layer boundaries, Megatron's fp32 softmax fallback, blocking pipeline sends, profile
# a100-vtrain refitted): multi subset MAPE 11.03%, worst 30.82%; single subset MAPE 5.93%,
# worst 14.35%. Bars: multi MAPE 11.5%, worst 32%; single MAPE 6.5%, worst 16%. Lower them when
# the model improves.
# Second, independent dataset: MosaicML llm-foundry's throughput tables (FSDP on H100 and A100,
# held out, nothing fitted; catalog profile of each row's GPU), every 8th row (27 of 216).
# Today (2026-12-02, attention priced per implementation: the runs' Triton FlashAttention at
# its published FlashAttention-v1 figure): MAPE 16.84%, worst 36.89% (every row too fast,
# docs/validation.md "llm-foundry"; 26.88% before, 27.26% on 2026-12-01). Bars: MAPE 17.5%,
# worst 38%.
# Run from the repository root:
#   bash validate/validate_accuracy_test.sh build/dev/cli/foresight
set -euo pipefail
bin="$1"
data=../shared/data/vtrain-a100
profile=calibrate/profiles/a100-vtrain.yaml
"$bin" validate "$data/ground_truth_multi.csv" --hardware "$profile" --max-rows 28 \
  --max-mape 11.5 --max-worst 32 | tail -n 20
"$bin" validate "$data/ground_truth_single.csv" --hardware "$profile" --max-rows 24 \
  --max-mape 6.5 --max-worst 16 | tail -n 12
# The A100 40GB rows name calibrate/profiles/a100-40gb-roce.yaml relative to the repository root.
"$bin" validate ../shared/data/llm-foundry/benchmarks.md --max-rows 27 --max-mape 17.5 \
  --max-worst 38 | grep -A1 '^overall'
# Calibrate-then-predict on llm-foundry's H100 tables: calibrate/profiles/h100-foundry.yaml was
# fitted on the 37 single-node BF16 rows only; its 33 multi-node rows (16-512 GPUs) are held
# out. Today (2026-12-02): MAPE 4.42%, worst 13.20%. Bars: MAPE 5%, worst 14%.
"$bin" validate ../shared/data/llm-foundry/benchmarks.md --section "H100 80GB BF16" \
  --section "H100 80GB BF16 (Large Scale, >= 128 GPUs)" --min-gpus 9 \
  --hardware calibrate/profiles/h100-foundry.yaml --max-mape 5 --max-worst 14 | grep -A1 '^overall'
echo "validate_accuracy: within the bars"
