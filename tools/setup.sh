#!/usr/bin/env bash
# Sets up a Debian 12 machine for avrec and builds it: installs the Debian
# packages it needs (when run as root and any is missing), then configures and
# builds into build/ (or $AVREC_BUILD_DIR).
#
#   tools/setup.sh                    Release build
#   AVREC_BUILD_TYPE=Debug tools/setup.sh
#   AVREC_CMAKE_ARGS="-DAVREC_SANITIZE=ON" tools/setup.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${AVREC_BUILD_DIR:-$root/build}

packages=(
  build-essential cmake pkg-config
  libtorch-dev libopenblas0-openmp
  libsentencepiece-dev sentencepiece
  libeigen3-dev libcli11-dev nlohmann-json3-dev libspdlog-dev
  libsqlite3-dev sqlite3 libicu-dev zlib1g-dev libssl-dev
  libgtest-dev libgmock-dev
  libopenmpi-dev openmpi-bin
  python3
)
if [ "${AVREC_TEST_PACKAGES:-0}" = 1 ]; then
  # Tool-time Python (reference tokenizers, export checks), the fuzzer, the
  # schema validator and the headless browser the report test drives.
  packages+=(python3-venv python3-pip python3-torch python3-numpy clang libclang-rt-14-dev clang-format
             python3-jsonschema chromium fonts-wqy-microhei)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# shellcheck disable=SC2086
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${AVREC_BUILD_TYPE:-Release}" ${AVREC_CMAKE_ARGS:-} >&2
cmake --build "$build" -j "${AVREC_JOBS:-2}" >&2
echo "$build"
