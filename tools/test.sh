#!/usr/bin/env bash
# Sets up, builds and runs avrec's whole test suite: the core tests (on data
# the project makes) and the real-data checks (label realdata; they skip with a
# printed reason when ../shared/data is absent).
#
#   tools/test.sh                 everything
#   tools/test.sh -L core         only the core suite (extra args go to ctest)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export AVREC_TEST_PACKAGES=1
build=$("$root/tools/setup.sh")
# The tool-time Python environment (reference tokenizers) for the real-data
# checks; optional: those checks skip, saying why, when it cannot be made.
"$root/tools/setup_toolenv.sh" >/dev/null 2>&1 || echo "test: tools/.venv could not be created; reference checks will skip" >&2
(cd "$build" && ctest --output-on-failure -j "${AVREC_JOBS:-2}" "$@")

# The core suite again under AddressSanitizer + UBSan (its own build folder;
# AVREC_SKIP_SANITIZERS=1 skips it for a quick local run). LeakSanitizer is
# off: its tracer crashes (signal 11 walking thread-local storage) at the exit
# of processes that loaded libtorch through the model plugin, now and then,
# failing tests that have no error; and Open MPI keeps allocations for the
# life of the process by design.
if [ "${AVREC_SKIP_SANITIZERS:-0}" != 1 ] && [ $# -eq 0 ]; then
  asan=$(AVREC_BUILD_DIR="${AVREC_ASAN_BUILD_DIR:-$root/build-asan}" AVREC_BUILD_TYPE=RelWithDebInfo \
         AVREC_CMAKE_ARGS="-DAVREC_SANITIZE=ON -DAVREC_BUILD_BENCH=OFF" "$root/tools/setup.sh")
  cd "$asan"
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "${AVREC_JOBS:-2}" -L core
fi
