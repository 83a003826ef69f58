#!/usr/bin/env bash
# Installs what foresight needs from Debian packages (idempotent, non-interactive), builds the
# release configuration, and (with --run-example) simulates the bundled example scenario.
#
#   bash scripts/setup.sh --run-example     # install + build + run the example
#   bash scripts/setup.sh --install-only    # only install missing packages
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libyaml-cpp-dev libboost-dev libboost-graph-dev libeigen3-dev
  protobuf-compiler libprotobuf-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libopenmpi-dev openmpi-bin
  clang-format clang-tidy
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages already installed"
    return
  fi
  echo "setup: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

configure_and_build() {
  local dir="$1"; shift
  local generator=()
  if command -v ninja >/dev/null; then generator=(-G Ninja); fi
  cmake -S . -B "$dir" "${generator[@]}" "$@"
  cmake --build "$dir" -j "$(nproc)"
}

mode="${1:-}"
install_packages
if [ "$mode" = "--install-only" ]; then exit 0; fi
configure_and_build build/release -DCMAKE_BUILD_TYPE=Release
if [ "$mode" = "--run-example" ]; then
  ./build/release/cli/foresight run scenarios/examples/gpt3-175b-128x-dgx-a100.yaml \
    --trace build/release/gpt3-175b-trace.json --trace-granularity task
fi
