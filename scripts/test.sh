#!/usr/bin/env bash
# Installs missing packages, then builds and runs the whole test suite twice: a release build
# and an AddressSanitizer + UndefinedBehaviorSanitizer build. Also checks formatting; the scenario
# tests through the real command line run inside ctest (tests/cli_test.sh). Exits non-zero on any failure.
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --install-only

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
jobs="$(nproc)"

echo "== format check (clang-format, .clang-format)"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

echo "== release build + tests"
cmake -S . -B build/release "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build build/release -j "$jobs"
ctest --test-dir build/release --output-on-failure -j "$jobs"

echo "== address + undefined-behaviour sanitizer build + tests"
cmake -S . -B build/asan "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFORESIGHT_SANITIZE=ON -DFORESIGHT_BUILD_BENCHMARKS=OFF
cmake --build build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan --output-on-failure -j "$jobs"
