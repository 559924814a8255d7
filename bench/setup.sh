#!/usr/bin/env bash
# Prepares the benchmarks: the tool environment (tools/.venv) with the peers
# of bench/requirements.txt, and a Release build with the benchmark programs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=$("$root/tools/setup_toolenv.sh")
"$root/tools/.venv/bin/pip" install -q -r "$root/bench/requirements.txt"
"$root/tools/setup.sh" >/dev/null
echo "$py"
