#!/usr/bin/env bash
# Builds the libFuzzer tokenizer target with clang (ASan + UBSan) and runs it
# on the committed corpus for SECONDS (default 600). New inputs go to a
# scratch corpus, not into the repository.
#   tools/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
build=$root/build-fuzz
CXX=clang++ cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j 2 >/dev/null
scratch=$(mktemp -d)
cp "$root"/tests/fuzz/corpus/* "$scratch"/ 2>/dev/null || true
"$build/tokenizer_fuzz" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
  -dict="$root/tests/fuzz/tokenizer.dict" "$scratch" 2>&1 | tail -25
echo "fuzz: no crash in $secs s; scratch corpus of $(ls "$scratch" | wc -l) inputs in $scratch"
