#!/usr/bin/env bash
# Runs a tool-time Python script for a real-data check: exit 77 (CTest: skip)
# with the reason when ../shared/data or the tool environment is missing.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -d "$root/../shared/data" ]; then
  echo "SKIP: $root/../shared/data not found (the real data lives beside the project)"
  exit 77
fi
py="$root/tools/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "SKIP: tools/.venv not found (tools/setup_toolenv.sh creates it)"
  exit 77
fi
exec "$py" "$@"
