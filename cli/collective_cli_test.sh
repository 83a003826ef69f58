#!/usr/bin/env bash
# `foresight collective` through the real binary:
#  - ring all-reduce of 1 GiB on one DGX H100 (catalog: NVLink busbw 450e9 * 0.82 = 369e9 B/s,
#    alpha 3.4 us): T = 8.4 us (NCCL ring/Simple base) + 2(n-1) * 3.4 us + 2(n-1)/n * S / 369e9,
#    busbw = S / T * 2(n-1)/n, n = 8; the printed time and busbw must match to the last digit;
#  - the flow model on the same single node gives the same row (one ring over the NVSwitch);
#  - sizes: 32M..128M steps by 2 (3 rows: 33554432, 67108864, 134217728); --stepfactor 4;
#  - bad input: unknown size suffix, --nodes 0, nvls on A100, --stepfactor 1 (exit 1), unknown
#    op (exit 2).
# Usage: cli/collective_cli_test.sh PATH/TO/foresight
set -uo pipefail
bin="$1"
pass=0
fail=0
check() {  # name, command...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $name"; fi
}

row=$("$bin" collective --hardware dgx-h100 --nodes 1 --op all_reduce --minbytes 1G \
  --maxbytes 1G --algo ring | grep -v '^#')
expected=$(awk 'BEGIN { s = 1073741824; n = 8; t = 8.4e-6 + 2*(n-1)*3.4e-6 + 2*(n-1)/n*s/369e9;
  printf "%.2f %.2f", t * 1e6, s / t * 2*(n-1)/n / 1e9 }')
got=$(echo "$row" | awk '{ printf "%s %s", $6, $8 }')
check "ring all-reduce row ($got vs $expected)" test "$got" = "$expected"
check "ring all-reduce size and count" bash -c "echo '$row' | awk '{exit !(\$1 == 1073741824 && \$2 == 268435456)}'"
check "ring/Simple chosen" bash -c "echo '$row' | grep -q 'ring/Simple'"
flow=$("$bin" collective --hardware dgx-h100 --nodes 1 --op all_reduce --minbytes 1G \
  --maxbytes 1G --algo ring --model flow | grep -v '^#' | awk '{ printf "%s %s", $6, $8 }')
check "flow model equals analytical on one node ($flow)" test "$flow" = "$expected"

sizes=$("$bin" collective --hardware dgx-h100 --nodes 2 --op all_gather --minbytes 32M \
  --maxbytes 128M | grep -v '^#' | awk '{ printf "%s ", $1 }')
check "sizes 32M..128M ($sizes)" test "$sizes" = "33554432 67108864 134217728 "
rows=$("$bin" collective --hardware dgx-h100 --nodes 2 --op alltoall -b 1K -e 1M -f 4 | grep -vc '^#')
check "stepfactor 4: 1K 4K 16K 64K 256K 1M = 6 rows ($rows)" test "$rows" = 6

"$bin" collective --hardware dgx-h100 --op all_reduce --minbytes 12Q > /dev/null 2> err.txt
check "bad size exits 1" test $? -eq 1
check "bad size message" grep -q "invalid size '12Q'" err.txt
"$bin" collective --hardware dgx-h100 --nodes 0 --op all_reduce > /dev/null 2> err.txt
check "--nodes 0 exits 1" test $? -eq 1
check "--nodes 0 message" grep -q "nodes must be >= 1" err.txt
"$bin" collective --hardware dgx-a100-80gb --op all_reduce --algo nvls > /dev/null 2> err.txt
check "nvls on A100 exits 1" test $? -eq 1
check "nvls on A100 message" grep -q "fabric.nvls is false" err.txt
"$bin" collective --hardware dgx-h100 --op all_reduce --stepfactor 1 > /dev/null 2> err.txt
check "stepfactor 1 exits 1" test $? -eq 1
"$bin" collective --hardware dgx-h100 --op allreduce > /dev/null 2> err.txt
check "unknown op exits 2" test $? -eq 2
"$bin" collective --hardware dgx-h100 --op all_reduce --set fabric.tiers=5 > /dev/null 2> err.txt
check "bad fabric override exits 1" test $? -eq 1
check "bad fabric override message" grep -q "fabric.tiers must be 2" err.txt
rm -f err.txt

echo "collective cli: $pass passed, $fail failed"
test "$fail" -eq 0
