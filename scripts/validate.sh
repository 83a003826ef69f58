#!/usr/bin/env bash
# Regenerates the step-time results in docs/validation.md (the block between
# "<!-- BEGIN generated: steps -->" and "<!-- END generated: steps -->"; nothing else in the
# file changes) and writes the per-row CSVs and SVG plots to build/validation/.
#
#   bash scripts/validate.sh [path/to/foresight]     (default build/dev/cli/foresight)
#
# Protocol (docs/validation.md): the a100-vtrain profile was fitted on ground_truth_single.csv
# and the all-reduce sweeps only; ground_truth_multi.csv is held out. The catalog profile
# dgx-a100-80gb (datasheet values, nothing fitted) is shown for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/dev/cli/foresight}"
data=../shared/data/vtrain-a100
out=build/validation
doc=docs/validation.md
mkdir -p "$out"
block="$out/steps.md"
: >"$block"
run() {  # dataset-name hardware title
  local name="$1" hw="$2" title="$3" tag
  tag="${name}-$(basename "$hw" .yaml)"
  "$bin" validate "$data/$name.csv" --hardware "$hw" --csv "$out/$tag.csv" \
    --plot "$out/$tag.svg" --markdown "$out/$tag.md" --title "$title" >"$out/$tag.txt"
  cat "$out/$tag.md" >>"$block"
  echo "validate: $tag: $(grep '^overall' "$out/$tag.txt")"
}
run ground_truth_multi calibrate/profiles/a100-vtrain.yaml \
  "Multi-node (held out), fitted profile a100-vtrain"
run ground_truth_single calibrate/profiles/a100-vtrain.yaml \
  "Single-node (calibration set), fitted profile a100-vtrain"
run ground_truth_multi dgx-a100-80gb "Multi-node, catalog profile dgx-a100-80gb (nothing fitted)"
run ground_truth_single dgx-a100-80gb "Single-node, catalog profile dgx-a100-80gb (nothing fitted)"

begin='<!-- BEGIN generated: steps -->'
end='<!-- END generated: steps -->'
[ "$(grep -cxF "$begin" "$doc")" = 1 ] && [ "$(grep -cxF "$end" "$doc")" = 1 ] || {
  echo "error: $doc must contain the lines '$begin' and '$end' exactly once" >&2
  exit 1
}
awk -v begin="$begin" -v end="$end" -v block="$block" '
  $0 == begin { print; while ((getline line < block) > 0) print line; skip = 1; next }
  $0 == end { skip = 0 }
  !skip { print }' "$doc" >"$out/validation.md.new"
mv "$out/validation.md.new" "$doc"
echo "validate: rewrote the generated steps block of $doc; plots and CSVs in $out/"
