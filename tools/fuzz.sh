#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs one on its
# committed corpus (tests/fuzz/corpus/TARGET) for SECONDS (default 600). New
# inputs go to a scratch corpus, not into the repository; `--merge` then
# minimises scratch + committed corpus back into tests/fuzz/corpus/TARGET.
#   tools/fuzz.sh TARGET [SECONDS] [--merge]
#   TARGET: tokenizer, csv, jsonl, gzip, config, lists, json
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: tools/fuzz.sh tokenizer|csv|jsonl|gzip|config|lists|json [SECONDS] [--merge]}
secs=${2:-600}
build=$root/build-fuzz
CXX=clang++ cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j 2 --target "${target}_fuzz" >/dev/null
corpus=$root/tests/fuzz/corpus/$target
mkdir -p "$corpus"
scratch=$(mktemp -d)
cp "$corpus"/* "$scratch"/ 2>/dev/null || true
dict=()
[ -f "$root/tests/fuzz/$target.dict" ] && dict=(-dict="$root/tests/fuzz/$target.dict")
"$build/${target}_fuzz" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 -timeout=20 \
  -rss_limit_mb=2048 "${dict[@]}" "$scratch" 2>&1 | tail -25
if [ "${3:-}" = "--merge" ]; then
  merged=$(mktemp -d)
  "$build/${target}_fuzz" -merge=1 -max_len=8192 "$merged" "$scratch" "$corpus" >/dev/null 2>&1
  rm -f "$corpus"/*
  # Keep the small inputs only (the repository holds seeds, not a data set).
  find "$merged" -type f -size -4k -exec cp {} "$corpus"/ \;
  echo "fuzz: corpus $corpus now holds $(ls "$corpus" | wc -l) inputs"
fi
echo "fuzz: $target: no finding in $secs s; scratch corpus of $(ls "$scratch" | wc -l) inputs in $scratch"
