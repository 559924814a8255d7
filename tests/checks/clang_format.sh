#!/usr/bin/env bash
# Fails when a C++ file of the project differs from what clang-format (the
# committed .clang-format) makes of it. Fix with:
#   git ls-files '*.cpp' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null; then
  echo "clang-format is not installed (Debian package clang-format)"; exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.h' 2>/dev/null || find src include tests bench examples -name '*.cpp' -o -name '*.h')
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f"; bad=1
  fi
done
[ $bad = 0 ] && echo "clang-format: ${#files[@]} files formatted"
exit $bad
