#!/usr/bin/env bash
# avrec across MPI ranks on this machine: wall time of score, recommend and run
# with 1, 2 and 4 ranks (threads per rank = cores / ranks, at least 1), and
# whether each output is byte-identical to the one-rank output. Prints a
# markdown table (docs/scale.md quotes it).
#
# Data: the Amazon Digital Music reviews converted by bench/convert_data.py
# (bench/work/amazon; the first N reviews, default 1000) scored with the
# default model; recommend and run on the same reviews and items.
# Usage: bench/mpi_scale.sh [N_REVIEWS] [RANKS...]   (needs build/avrec with libavrec_mpi.so)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
avrec=$root/build/avrec
n=${1:-1000}
shift || true
ranks=("$@")
[ ${#ranks[@]} -gt 0 ] || ranks=(1 2 4)
cores=$(nproc)
export AVREC_LOG_LEVEL=warn
[ -e "$root/bench/work/amazon/reviews.csv" ] || python3 "$root/bench/convert_data.py" amazon >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$root/bench/work/amazon/reviews.csv" "$tmp/reviews.csv" "$n" <<'EOF'
import csv, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, encoding="utf-8", newline="") as f, open(dst, "w", encoding="utf-8", newline="") as g:
    r = csv.reader(f); w = csv.writer(g, lineterminator="\n")
    for i, row in enumerate(r):
        if i > n: break
        w.writerow(row)
EOF
items=$root/bench/work/amazon/items.csv
printf '{"reviews": {"path": "%s"}, "items": {"path": "%s"}, "recommend": {"top_n": 10}}\n' \
  "$tmp/reviews.csv" "$items" >"$tmp/pipeline.json"

now() { date +%s.%N; }
# launch RANKS THREADS RSS_FILE CMD...: each rank's peak RSS (KiB) lands in RSS_FILE
launch() {
  local np=$1 threads=$2 rss=$3
  shift 3
  local timed=(/usr/bin/time -a -o "$rss" -f "%M" "$avrec" "$@" --threads "$threads")
  if [ "$np" = 1 ]; then "${timed[@]}"; else
    mpirun --oversubscribe --allow-run-as-root --bind-to none -np "$np" "${timed[@]}"
  fi
}
max_mib() { sort -n "$1" | tail -1 | awk '{printf "%.0f", $1 / 1024}'; }

echo "| stage | ranks | threads per rank | wall s | speed-up | same bytes as 1 rank | peak RSS per rank, MiB |"
echo "|---|---|---|---|---|---|---|"
for stage in score recommend run; do
  base=""
  for np in "${ranks[@]}"; do
    threads=$((cores / np)); [ $threads -ge 1 ] || threads=1
    out=$tmp/$stage-$np.out
    case $stage in
      score) cmd=(score --reviews "$tmp/reviews.csv" --out "$out") ;;
      recommend) cmd=(recommend --reviews "$tmp/reviews.csv" --items "$items" --out "$out") ;;
      run)
        rm -rf "$tmp/w-$np.avrec"
        cmd=(run --config "$tmp/pipeline.json" -w "$tmp/w-$np.avrec" --out "$out") ;;
    esac
    t0=$(now)
    launch "$np" "$threads" "$tmp/rss-$stage-$np" "${cmd[@]}" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    secs=$(echo "$(now) - $t0" | bc)
    [ -n "$base" ] || base=$secs
    same=yes
    cmp -s "$out" "$tmp/$stage-${ranks[0]}.out" || same=NO
    printf "| %s | %d | %d | %.1f | %.2fx | %s | %s |\n" "$stage" "$np" "$threads" "$secs" \
      "$(echo "$base / $secs" | bc -l)" "$same" "$(max_mib "$tmp/rss-$stage-$np")"
  done
done

# Per-core rates for the cost model in docs/scale.md (one thread, one process).
echo
t0=$(now)
"$avrec" score --reviews "$tmp/reviews.csv" --out "$tmp/s1.jsonl" --threads 1 2>/dev/null
secs=$(echo "$(now) - $t0" | bc)
printf "score, 1 thread: %d reviews in %.1f s (whole command): %.1f reviews/s per core\n" "$n" "$secs" \
  "$(echo "$n / $secs" | bc -l)"
python3 - "$tmp" <<'EOF'
import random, sys
random.seed(1)
for d in (64, 128):
    for name, rows in (("u", 4000), ("i", 10000)):
        with open(f"{sys.argv[1]}/{name}{d}.csv", "w") as f:
            f.write("id," + ",".join(f"v{j}" for j in range(d)) + "\n")
            for r in range(rows):
                f.write(f"{name}{r}," + ",".join("%.5f" % random.gauss(0, 1) for _ in range(d)) + "\n")
EOF
for d in 64 128; do
  AVREC_LOG_LEVEL=info "$avrec" topk --users "$tmp/u$d.csv" --items "$tmp/i$d.csv" --k 50 --threads 1 --out "$tmp/t.jsonl" 2>&1 |
    sed -n 's/.*topk: \(.*\)/top-k, 1 thread: \1/p'
done
"$avrec" recommend --reviews "$tmp/reviews.csv" --items "$items" --format jsonl --out "$tmp/r.jsonl" 2>/dev/null
users=$(wc -l <"$tmp/r.jsonl")
for f in "$tmp/recommend-${ranks[0]}.out" "$tmp/r.jsonl"; do
  kind=json; [ "$f" = "$tmp/r.jsonl" ] && kind=jsonl
  printf "recommend output (%s): %d bytes for %d users, %.0f bytes per user\n" "$kind" "$(stat -c %s "$f")" "$users" \
    "$(echo "$(stat -c %s "$f") / $users" | bc -l)"
done
