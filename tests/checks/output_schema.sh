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
python3 - "$root/docs/recommendations.schema.json" "$tmp/recs.json" "$tmp/recs.jsonl" <<'PY'
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
zh = sum(u['language'] == 'zh' for u in whole['users'])
print(f"{len(whole['users'])} users valid ({zh} with Chinese explanations); {len(lines) - 1} JSON Lines users valid")
PY
