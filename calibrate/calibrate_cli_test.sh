#!/usr/bin/env bash
# `foresight calibrate` through the real binary:
#  - `calibrate cpu --quick` exits 0 and writes a measurement file with the four CPU tables and
#    the host section;
#  - `calibrate gpu` and `calibrate nccl` on a machine without a GPU (CI) exit 1 with a clear
#    message: "no CUDA device found: ..." (built with CUDA) or "built without CUDA";
#  - usage errors exit 2.
# Usage: calibrate/calibrate_cli_test.sh PATH/TO/foresight
set -uo pipefail
bin="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {  # name, command...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $name"; fi
}

check "cpu --quick exits 0" "$bin" calibrate cpu --quick --out "$tmp/cpu.csv"
for kind in cpu_gemm cpu_membw cpu_adam host_memcpy; do
  check "cpu file has $kind" grep -q "^# kind: $kind\$" "$tmp/cpu.csv"
done
for key in host_gemm_flop_per_s host_memory_bandwidth_bytes_per_s host_adam_params_per_s \
           host_memcpy_bandwidth_bytes_per_s host_cores host_memory_bytes host date device; do
  check "cpu file has metadata $key" grep -q "^# $key: ." "$tmp/cpu.csv"
done
check "cpu file starts with the format version" \
  bash -c "head -1 '$tmp/cpu.csv' | grep -qx '# foresight-measurement: 1'"

if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
  echo "a GPU is present: skipping the no-GPU checks"
else
  for sub in gpu nccl; do
    "$bin" calibrate "$sub" --out "$tmp/$sub.csv" > "$tmp/$sub.out" 2> "$tmp/$sub.err"
    code=$?
    check "$sub without GPU exits 1" test "$code" -eq 1
    check "$sub without GPU says why" \
      grep -q -E "no CUDA device found: |built without CUDA" "$tmp/$sub.err"
    check "$sub without GPU writes no file" test ! -e "$tmp/$sub.csv"
  done
fi

"$bin" calibrate cpu --quick > /dev/null 2>&1
check "missing --out is a usage error (2)" test $? -eq 2
"$bin" calibrate > /dev/null 2>&1
check "calibrate without subcommand is a usage error (2)" test $? -eq 2
"$bin" calibrate cpu --quick --out /nonexistent/dir/x.csv 2> "$tmp/w.err"
check "unwritable --out exits 1" test $? -eq 1
check "unwritable --out names the file" grep -q "/nonexistent/dir/x.csv" "$tmp/w.err"

echo "calibrate cli: $pass passed, $fail failed"
test "$fail" -eq 0
