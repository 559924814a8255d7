#!/usr/bin/env bash
# Real-data check: the three recommendation datasets, converted to avrec's
# formats by bench/convert_data.py, pass `avrec validate` and ingest into a
# workspace (exit 77 when ../shared/data is absent).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
avrec=$1
if [ ! -d "$root/../shared/data" ]; then
  echo "SKIP: $root/../shared/data not found (the real data lives beside the project)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/bench/convert_data.py" --out "$work"
for d in amazon lastfm movielens; do
  "$avrec" validate --reviews "$work/$d/reviews.csv" --items "$work/$d/items.csv" --allow-empty-text
  "$avrec" ingest -w "$work/$d.avrec" --reviews "$work/$d/reviews.csv" --items "$work/$d/items.csv" --allow-empty-text
done
echo "all three datasets valid and ingested"
