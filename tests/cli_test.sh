#!/usr/bin/env bash
# Scenario tests through the real `foresight` binary:
#  - every bundled example runs and prints the summary;
#  - --json output is byte-identical across two runs (determinism);
#  - --json for the GPT-3 example matches the stored expected file (regenerate with
#    `bash tests/cli_test.sh BUILD/cli/foresight --regenerate` and review the diff);
#  - bad scenarios fail with a non-zero exit and a file:line:column message.
# Usage: tests/cli_test.sh PATH/TO/foresight [--regenerate]
set -uo pipefail
bin="$1"
regen="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {  # name, command...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $name"; fi
}

for f in "$root"/scenarios/examples/*.yaml; do
  check "run $(basename "$f")" bash -c "'$bin' run '$f' > '$tmp/out.txt' && grep -q 'step time' '$tmp/out.txt'"
done

ex="$root/scenarios/examples/gpt3-175b-128x-dgx-a100.yaml"
"$bin" run "$ex" --json > "$tmp/a.json"
"$bin" run "$ex" --json > "$tmp/b.json"
check "json deterministic" cmp -s "$tmp/a.json" "$tmp/b.json"
check "json has step_time_s" grep -q '"step_time_s"' "$tmp/a.json"
expected="$root/tests/expected/gpt3-175b-128x-dgx-a100.json"
if [ "$regen" = "--regenerate" ]; then
  mkdir -p "$(dirname "$expected")" && cp "$tmp/a.json" "$expected"
  echo "regenerated $expected"
fi
check "json matches tests/expected" cmp -s "$tmp/a.json" "$expected"

"$bin" run "$ex" --trace "$tmp/t.json" --trace-granularity task > /dev/null
check "trace written" grep -q '"traceEvents"' "$tmp/t.json"

"$bin" run "$ex" --set plan.tp=4 --set plan.dp=16 --json > "$tmp/tp4.json"
check "--set changes the plan" grep -q '"tp": 4' "$tmp/tp4.json"

cat > "$tmp/bad.yaml" <<'YAML'
name: bad
model:
  preset: gpt3-175b
cluster:
  hardware: dgx-a100-80gb
  nodes: 128
training:
  global_batch: 1536
plan:
  tp: 5
YAML
"$bin" run "$tmp/bad.yaml" > /dev/null 2> "$tmp/err.txt"
code=$?
check "bad tp (5 does not divide 96 heads) exits non-zero" test "$code" -eq 1
check "bad tp names file:line:column and valid tp" grep -q "bad.yaml:10:7: plan.tp: tp=5 does not divide heads=96.*valid tp: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96" "$tmp/err.txt"

"$bin" run "$tmp/missing.yaml" > /dev/null 2> "$tmp/err2.txt"
check "missing file exits non-zero" test $? -eq 1

# calibrate fit on measured runs (llm-foundry tables): the committed h100-foundry profile is what
# its documented command writes (comment lines aside: they record the command line).
foundry="$root/../shared/data/llm-foundry/benchmarks.md"
if [ -f "$foundry" ]; then
  (cd "$root" && "$bin" calibrate fit "$foundry" --base dgx-h100 --section "H100 80GB BF16" \
    --max-gpus 8 --name h100-foundry --out "$tmp/h100-foundry.yaml" > /dev/null)
  check "calibrate fit on llm-foundry rows reproduces h100-foundry.yaml" \
    cmp -s <(grep -v '^ *#' "$tmp/h100-foundry.yaml") \
    <(grep -v '^ *#' "$root/calibrate/profiles/h100-foundry.yaml")
  (cd "$root" && "$bin" calibrate fit "$foundry" --base dgx-h100 --section "H100 80GB BF16" \
    --section "H100 80GB FP8" --max-gpus 8 --step-max-evals 1 --out "$tmp/two.yaml" > "$tmp/two.txt")
  check "calibrate fit takes several sections (37 BF16 + 7 FP8 single-node rows)" \
    grep -q "44 rows of section 'H100 80GB BF16 + H100 80GB FP8', at most 8 GPUs" "$tmp/two.txt"
  (cd "$root" && "$bin" calibrate fit "$foundry" --base dgx-a100-80gb --max-gpus 8 \
    --out "$tmp/mixed.yaml" > /dev/null 2> "$tmp/err3.txt")
  check "calibrate fit refuses rows of another GPU (exit 1)" test $? -eq 1
  check "calibrate fit names the row and the remedy" \
    grep -q "benchmarks.md:[0-9]*:1: row runs on dgx-h100 but the fit's base profile is dgx-a100-80gb" "$tmp/err3.txt"
fi

echo "cli: $pass passed, $fail failed"
test "$fail" -eq 0
