#!/usr/bin/env bash
# Prepares the benchmarks: the tool environment (tools/.venv) with the peers
# of bench/requirements.txt; bench/.venv with the recommendation peers of
# bench/peers-requirements.txt (implicit, LightFM: they need NumPy 2, which
# the Debian-torch tool environment cannot take); and a Release build with
# the benchmark programs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=$("$root/tools/setup_toolenv.sh")
"$root/tools/.venv/bin/pip" install -q -r "$root/bench/requirements.txt"
if [ ! -x "$root/bench/.venv/bin/python" ]; then
  python3 -m venv "$root/bench/.venv"
fi
# LightFM 1.17 cannot build under PEP 517 isolation (its setup.py sets an
# attribute on __builtins__, a dict there: lyst/lightfm#687), so it is built
# the legacy way, after NumPy, SciPy and wheel are in place.
grep -v '^lightfm' "$root/bench/peers-requirements.txt" >"$root/bench/.venv/peers-base.txt"
"$root/bench/.venv/bin/pip" install -q wheel -r "$root/bench/.venv/peers-base.txt"
"$root/bench/.venv/bin/pip" install -q --no-build-isolation --no-use-pep517 \
  "$(grep '^lightfm' "$root/bench/peers-requirements.txt")"
"$root/tools/setup.sh" >/dev/null
echo "$py"
