#!/usr/bin/env bash
# Regenerates the step-time results in docs/validation.md -- the blocks between
# "<!-- BEGIN generated: steps -->" / "<!-- END generated: steps -->" (vTrain) and
# "<!-- BEGIN generated: llm-foundry -->" / "<!-- END generated: llm-foundry -->" and
# "<!-- BEGIN generated: llm-foundry-calibrated -->" / "... END ..."; nothing else in the file
# changes -- and writes the per-row CSVs and SVG plots to build/validation/.
#
#   bash scripts/validate.sh [path/to/foresight]     (default build/dev/cli/foresight)
#
# Protocol (docs/validation.md): the a100-vtrain profile was fitted on ground_truth_single.csv
# and the all-reduce sweeps only; ground_truth_multi.csv is held out. The catalog profile
# dgx-a100-80gb (datasheet values, nothing fitted) is shown for comparison. The llm-foundry
# tables are held out entirely: nothing was fitted to them; each row runs on the catalog
# profile of its GPU (validate/foundry.h), and the A100 80GB single-node rows also on the
# a100-vtrain profile. The third block uses the profiles fitted on llm-foundry's single-node
# rows (calibrate/profiles/*-foundry.yaml, docs/calibration.md) and predicts only rows the fits
# never saw: the multi-node rows (--min-gpus 9) and the H100 FP8 rows (the H100 fit saw BF16
# only). Run from the repository root (the A100 40GB rows name
# calibrate/profiles/a100-40gb-roce.yaml relative to it); the script changes to it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/dev/cli/foresight}"
data=../shared/data/vtrain-a100
foundry=../shared/data/llm-foundry/benchmarks.md
out=build/validation
doc=docs/validation.md
mkdir -p "$out"
run() {  # block-file dataset tag title [extra validate arguments...]
  local block="$1" dataset="$2" tag="$3" title="$4"
  shift 4
  "$bin" validate "$dataset" "$@" --csv "$out/$tag.csv" --plot "$out/$tag.svg" \
    --markdown "$out/$tag.md" --title "$title" >"$out/$tag.txt"
  cat "$out/$tag.md" >>"$block"
  echo "validate: $tag: $(grep '^overall' "$out/$tag.txt")"
}
steps="$out/steps.md"
: >"$steps"
run "$steps" "$data/ground_truth_multi.csv" ground_truth_multi-a100-vtrain \
  "Multi-node (held out), fitted profile a100-vtrain" --hardware calibrate/profiles/a100-vtrain.yaml
run "$steps" "$data/ground_truth_single.csv" ground_truth_single-a100-vtrain \
  "Single-node (calibration set), fitted profile a100-vtrain" \
  --hardware calibrate/profiles/a100-vtrain.yaml
run "$steps" "$data/ground_truth_multi.csv" ground_truth_multi-dgx-a100-80gb \
  "Multi-node, catalog profile dgx-a100-80gb (nothing fitted)" --hardware dgx-a100-80gb
run "$steps" "$data/ground_truth_single.csv" ground_truth_single-dgx-a100-80gb \
  "Single-node, catalog profile dgx-a100-80gb (nothing fitted)" --hardware dgx-a100-80gb

llm="$out/llm-foundry.md"
: >"$llm"
run "$llm" "$foundry" llm-foundry-catalog \
  "llm-foundry, every section (held out), catalog profile of each row's GPU (nothing fitted)"
run "$llm" "$foundry" llm-foundry-a100-80gb-a100-vtrain \
  "llm-foundry A100 80GB, single-node rows (held out), fitted profile a100-vtrain" \
  --section "A100 80GB with 1600 Gbps node-node interconnect (RoCE)" --max-gpus 8 \
  --hardware calibrate/profiles/a100-vtrain.yaml

cal="$out/llm-foundry-calibrated.md"
: >"$cal"
run "$cal" "$foundry" llm-foundry-h100-multi-h100-foundry \
  "llm-foundry H100 BF16, multi-node rows (held out), profile h100-foundry fitted on the single-node rows" \
  --section "H100 80GB BF16" --section "H100 80GB BF16 (Large Scale, >= 128 GPUs)" --min-gpus 9 \
  --hardware calibrate/profiles/h100-foundry.yaml
run "$cal" "$foundry" llm-foundry-h100-fp8-h100-foundry \
  "llm-foundry H100 FP8 (held out), profile h100-foundry fitted on the BF16 single-node rows" \
  --section "H100 80GB FP8" --hardware calibrate/profiles/h100-foundry.yaml
run "$cal" "$foundry" llm-foundry-a100-40gb-multi-a100-40gb-foundry \
  "llm-foundry A100 40GB, multi-node rows (held out), profile a100-40gb-foundry fitted on the single-node rows" \
  --section "A100 40GB with 1600 Gbps node-node interconnect (RoCE)" --min-gpus 9 \
  --hardware calibrate/profiles/a100-40gb-foundry.yaml
run "$cal" "$foundry" llm-foundry-a100-80gb-multi-a100-80gb-foundry \
  "llm-foundry A100 80GB, multi-node rows (held out), profile a100-80gb-foundry fitted on the single-node rows" \
  --section "A100 80GB with 1600 Gbps node-node interconnect (RoCE)" --min-gpus 9 \
  --hardware calibrate/profiles/a100-80gb-foundry.yaml

replace() {  # marker-name block-file
  local begin="<!-- BEGIN generated: $1 -->" end="<!-- END generated: $1 -->" block="$2"
  [ "$(grep -cxF "$begin" "$doc")" = 1 ] && [ "$(grep -cxF "$end" "$doc")" = 1 ] || {
    echo "error: $doc must contain the lines '$begin' and '$end' exactly once" >&2
    exit 1
  }
  awk -v begin="$begin" -v end="$end" -v block="$block" '
    $0 == begin { print; while ((getline line < block) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$doc" >"$out/validation.md.new"
  mv "$out/validation.md.new" "$doc"
}
replace steps "$steps"
replace llm-foundry "$llm"
replace llm-foundry-calibrated "$cal"
echo "validate: rewrote the generated steps, llm-foundry and llm-foundry-calibrated blocks of $doc; plots and CSVs in $out/"
