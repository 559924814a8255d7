#!/usr/bin/env bash
# avrec under mpirun (3 ranks, oversubscribed on this machine) gives the same
# bytes as one process for score, recommend (JSON, JSON Lines, CSV) and run;
# a rank killed mid-run fails the run and leaves no output, not even a
# temporary file. Skips (77) without mpirun or avrec's MPI plugin.
# Usage: mpi.sh AVREC_BINARY
set -euo pipefail
avrec=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v mpirun >/dev/null || [ ! -e "$(dirname "$avrec")/libavrec_mpi.so" ]; then
  echo "skipped: mpirun or libavrec_mpi.so missing (apt-get install openmpi-bin libopenmpi-dev, then rebuild)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# Each mpirun is bounded: once in a while (one run in several dozen here) the
# launcher waited on ranks that had already exited and the test sat until
# ctest's timeout. A step that times out is retried once and named; a second
# timeout fails the test, so a real deadlock in avrec still shows.
exec 3>&1 # the retry notes reach the log whatever a step redirects
limit=${MPI_STEP_TIMEOUT:-240}
mpi_once() { timeout -k 10 "$limit" mpirun --oversubscribe --allow-run-as-root -np 3 "$@"; }
# timed out: the step ran to the limit (timeout's 124 or 137 alone cannot tell:
# mpirun also exits 137 when a rank is killed, as the fault test below does)
mpi_step() {
  local rc=0 start=$SECONDS
  mpi_once "$@" || rc=$?
  if [ $((SECONDS - start)) -ge "$limit" ]; then
    echo "mpirun timed out (exit $rc) on avrec $2; retrying once" >&3
    rc=0 start=$SECONDS
    mpi_once "$@" || rc=$?
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      echo "mpirun timed out twice on avrec $2" >&3
      exit 1
    fi
  fi
  return "$rc"
}
mpi=(mpi_step)
sample=$root/data/sample
models=(--model "$root/tests/data/tiny-sentiment")
inputs=(--reviews "$sample/reviews.csv" --items "$sample/items.csv" "${models[@]}" --text-model "$root/tests/data/tiny-embedding")
same() { cmp "$1" "$2" && echo "same bytes: $3"; }

# score, from a file and into a workspace (its cache then holds the same scores)
"$avrec" score "${models[@]}" --reviews "$sample/reviews.csv" --out one.jsonl 2>/dev/null
"${mpi[@]}" "$avrec" score "${models[@]}" --reviews "$sample/reviews.csv" --out three.jsonl 2>/dev/null
same one.jsonl three.jsonl "score"
for w in one three; do "$avrec" ingest -w $w.avrec --reviews "$sample/reviews.csv" --items "$sample/items.csv" 2>/dev/null; done
"$avrec" score -w one.avrec "${models[@]}" 2>/dev/null
"${mpi[@]}" "$avrec" score -w three.avrec "${models[@]}" 2>/dev/null
q="SELECT group_concat(text_key || ':' || score, ',') FROM (SELECT * FROM sentiment_cache ORDER BY text_key)"
test "$(sqlite3 one.avrec "$q")" = "$(sqlite3 three.avrec "$q")" && echo "same bytes: score into a workspace"

# recommend, in every format, and from the workspace
for f in json jsonl csv; do
  "$avrec" recommend "${inputs[@]}" --format $f --out one.$f 2>/dev/null
  "${mpi[@]}" "$avrec" recommend "${inputs[@]}" --format $f --out three.$f 2>/dev/null
  same one.$f three.$f "recommend --format $f"
done
"$avrec" recommend -w one.avrec "${models[@]}" --text-model "$root/tests/data/tiny-embedding" --out w-one.json 2>/dev/null
"${mpi[@]}" "$avrec" recommend -w three.avrec "${models[@]}" --text-model "$root/tests/data/tiny-embedding" \
  --out w-three.json 2>/dev/null
same w-one.json w-three.json "recommend from a workspace"

# run: the whole pipeline; stdout names the output once
set_models=(--set "score.model=$root/tests/data/tiny-sentiment" --set "features.text_model=$root/tests/data/tiny-embedding")
"$avrec" run --config "$sample/pipeline.json" "${set_models[@]}" -w run-one.avrec --out run-one.json >/dev/null 2>&1
test "$("${mpi[@]}" "$avrec" run --config "$sample/pipeline.json" "${set_models[@]}" -w run-three.avrec \
  --out run-three.json 2>/dev/null)" = run-three.json
same run-one.json run-three.json "run"

# A rank killed while ranking: the run fails, nothing is written.
mkdir killed
rc=0
AVREC_FAULT=recommend.user:5 AVREC_FAULT_RANK=1 "${mpi[@]}" "$avrec" recommend "${inputs[@]}" --out killed/x.json \
  >/dev/null 2>&1 || rc=$?
test "$rc" -ne 0
test -z "$(ls -A killed)"
echo "a killed rank fails the run (exit $rc) and leaves nothing"
# Not yet supported under mpirun: said clearly (usage error).
rc=0
"${mpi[@]}" "$avrec" recommend -w one.avrec "${models[@]}" --only-changed --out inc.json >/dev/null 2>err.log || rc=$?
test "$rc" -eq 64 && grep -q "do not run under mpirun" err.log
echo "mpi: ok"
