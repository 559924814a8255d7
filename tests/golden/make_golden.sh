#!/usr/bin/env bash
# Runs every stage of avrec on data/sample and writes the outputs to OUTDIR:
# the reference for behaviour-preserving changes (compare two binaries' runs
# with `diff -r`). Uses fp32 so the figures do not depend on the CPU.
#
#   tests/golden/make_golden.sh AVREC OUTDIR
set -euo pipefail
avrec=$(realpath "$1")
out=$(realpath -m "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
s="$root/data/sample"
rm -rf "$out"
mkdir -p "$out/run"
cd "$out"
q=(--log-level warn)
cat > run/pipeline.json <<JSON
{
  "workspace": "work.avrec",
  "threads": 2,
  "reviews": {"path": "$s/reviews.csv"},
  "items": {"path": "$s/items.csv", "categorical": ["visual.dominant_colour"]},
  "score": {"precision": "fp32", "batch_size": 64, "long_text": "model"},
  "profile": {"out": "profiles.jsonl"},
  "recommend": {"out": "recommendations.json", "top_n": 10, "algorithm": "sentiment-content"}
}
JSON
"$avrec" "${q[@]}" run --config run/pipeline.json > run/stdout.txt
rm run/work.avrec
sed -i "s|$out/||" run/stdout.txt
"$avrec" "${q[@]}" score --reviews "$s/reviews.csv" --precision fp32 --out scores.jsonl
files=(--reviews "$s/reviews.csv" --items "$s/items.csv" --categorical visual.dominant_colour --scores scores.jsonl)
"$avrec" "${q[@]}" profile "${files[@]}" --out profiles.jsonl
for a in sentiment-content content popular item-knn hybrid; do
  "$avrec" "${q[@]}" recommend "${files[@]}" --algorithm "$a" --out "rec-$a.json" --top-n 10
done
"$avrec" "${q[@]}" recommend "${files[@]}" --text-model none --popularity-weight 0.5 --novelty-weight 0.2 \
  --quality-weight 0.3 --half-life-days 90 --no-rating --format jsonl --out rec-weights.jsonl
for k in 0 1 2; do
  "$avrec" "${q[@]}" recommend "${files[@]}" --text-model none --format jsonl --shard $k/3 --out "rec-shard$k.jsonl"
done
"$avrec" "${q[@]}" split --reviews "$s/reviews.csv" --method leave-last --last 2 --train train.csv --test test.csv
"$avrec" "${q[@]}" score --reviews train.csv --precision fp32 --out train.scores.jsonl
"$avrec" "${q[@]}" recommend --reviews train.csv --items "$s/items.csv" --scores train.scores.jsonl \
  --algorithm hybrid --out train-recs.json --top-n 20
"$avrec" "${q[@]}" evaluate --recs train-recs.json --truth test.csv --k 10 --k 20 --train train.csv \
  --items "$s/items.csv" --out metrics.json --per-user per_user.jsonl > metrics.stdout.json
