#!/usr/bin/env bash
# The sample's recommendations, as the README's demo makes them (bundled
# models), validate against docs/recommendations.schema.json, in JSON and,
# user by user, in JSON Lines. Skips (77) when python3-jsonschema is absent.
# Usage: output_schema.sh AVREC_BINARY
set -euo pipefail
avrec=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  echo "skipped: python3-jsonschema is not installed (apt-get install python3-jsonschema)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$avrec" run --config "$root/data/sample/pipeline.json" -w "$tmp/w.avrec" --out "$tmp/recs.json" >/dev/null 2>"$tmp/log"
"$avrec" recommend -w "$tmp/w.avrec" --format jsonl --out "$tmp/recs.jsonl" 2>>"$tmp/log"
# The reason kinds the demo does not make: EASE and item-knn with tags and a
# new item nobody reviewed (tagged_like; shared_tags), held-back items that
# fill long lists (predicted_dislike).
python3 - "$root/data/sample/items.csv" "$tmp/items.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8', newline='')))
w = csv.DictWriter(open(sys.argv[2], 'w', encoding='utf-8', newline=''), fieldnames=rows[0].keys())
w.writeheader()
w.writerows(rows + [dict(rows[0], item_id='new001', title='Brand New Song')])
PY
"$avrec" recommend --reviews "$root/data/sample/reviews.csv" --items "$tmp/items.csv" --no-sentiment \
  --algorithm ease --ease-tag-weight 1 --avoid-below 0.5 --top-n 100 --out "$tmp/kinds.json" 2>>"$tmp/log"
"$avrec" recommend --reviews "$root/data/sample/reviews.csv" --items "$tmp/items.csv" --no-sentiment \
  --algorithm item-knn --knn-tag-weight 1 --top-n 100 --out "$tmp/knn.json" 2>>"$tmp/log"
python3 - "$root/docs/recommendations.schema.json" "$tmp/recs.json" "$tmp/recs.jsonl" "$tmp/kinds.json" \
  "$tmp/knn.json" <<'PY'
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
whole = json.load(open(sys.argv[2], encoding='utf-8'))
Draft202012Validator(schema).validate(whole)
user_schema = dict(schema['$defs']['user'], **{'$defs': schema['$defs']})
lines = open(sys.argv[3], encoding='utf-8').read().splitlines()
assert json.loads(lines[0]).keys() == {'header'}
for line in lines[1:]:
    Draft202012Validator(user_schema).validate(json.loads(line))
kinds = json.load(open(sys.argv[4], encoding='utf-8'))
Draft202012Validator(schema).validate(kinds)
seen = {r['kind'] for u in kinds['users'] for it in u['items'] for r in it['reasons']}
assert {'tagged_like', 'predicted_dislike', 'learned_from'} <= seen, seen
knn = json.load(open(sys.argv[5], encoding='utf-8'))
Draft202012Validator(schema).validate(knn)
tagged = {(r['kind'], 'shared_tags' in r) for u in knn['users'] for it in u['items'] for r in it['reasons']}
assert {('tagged_like', True), ('co_reviewed_with', True)} <= tagged, tagged
seen |= {kind for kind, _ in tagged}
zh = sum(u['language'] == 'zh' for u in whole['users'])
print(f"{len(whole['users'])} users valid ({zh} with Chinese explanations); {len(lines) - 1} JSON Lines users valid; "
      f"EASE and item-knn with tags and held-back items valid (reasons {', '.join(sorted(seen))})")
PY
