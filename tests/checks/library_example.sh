#!/usr/bin/env bash
# Installs the built avrec into a temporary prefix, builds
# examples/library against it with find_package(avrec), and runs the program
# on the sample with the tiny test model. Usage: library_example.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$root/examples/library" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/build" -j "${AVREC_JOBS:-2}" >/dev/null
# A relocated install: tell avrec where its plugins are.
export AVREC_TORCH_LIB="$tmp/prefix/lib/avrec/libavrec_torch.so"
[ -f "$AVREC_TORCH_LIB" ] || export AVREC_TORCH_LIB=$(find "$tmp/prefix" -name libavrec_torch.so | head -1)
out=$("$tmp/build/recommend_sample" "$root/data/sample/reviews.csv" "$root/data/sample/items.csv" \
      "$root/tests/data/tiny-sentiment" 2>/dev/null)
lines=$(printf '%s\n' "$out" | grep -c $'\t')
echo "library example: $lines users ranked"
[ "$lines" -eq 200 ]
