#!/usr/bin/env bash
# tools/nightly.sh for two nights on data/sample with the bundled models:
# night 2 reuses every cached score and embedding, reranks only the users
# whose reviews changed, equals a full recompute, and is diffed against
# night 1; a user whose erasure night 2 asks for is gone from its lists; a
# second job started while one runs exits 75; a complete export (SNAPSHOT=1)
# removes what it no longer holds.
# Usage: nightly.sh AVREC_BINARY
set -euo pipefail
avrec=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export AVREC="$avrec" AVREC_HOME="$tmp/home" TOP_N=10 KEEP_NIGHTS=3

# docs/nightly.md shows the script as it is.
python3 - "$root" <<'EOF'
import sys
root = sys.argv[1]
script = open(f'{root}/tools/nightly.sh', encoding='utf-8').read()
doc = open(f'{root}/docs/nightly.md', encoding='utf-8').read()
assert '```sh\n' + script + '```' in doc, 'docs/nightly.md: the script differs from tools/nightly.sh'
EOF

# Night 1: the first 2000 reviews; night 2: 100 more and one rewritten.
python3 - "$root/data/sample/reviews.csv" "$tmp" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
head, body = rows[0], rows[1:]
def write(name, records):
    with open(f'{sys.argv[2]}/{name}', 'w', newline='', encoding='utf-8') as f:
        csv.writer(f, lineterminator='\n').writerows([head] + records)
write('night1.csv', body[:2000])
night2 = [list(r) for r in body[:2100]]
night2[10][5] += ' Honestly the best thing I heard all year!'
write('night2.csv', night2)
changed = {r[1] for r in night2[2000:]} | {night2[10][1]}
open(f'{sys.argv[2]}/changed_users', 'w').write('\n'.join(sorted(changed)))
# An erasure request: a user of night 1 whose reviews night 2 leaves alone.
forget = sorted({r[1] for r in body[:2000]} - changed)[0]
open(f'{sys.argv[2]}/forget', 'w').write(forget + '\n')
EOF

: >"$tmp/no_requests"  # most nights no one asks to be forgotten
NIGHT=2026-01-01 REVIEWS="$tmp/night1.csv" ITEMS="$root/data/sample/items.csv" FORGET_USERS="$tmp/no_requests" \
  "$root/tools/nightly.sh"
NIGHT=2026-01-02 REVIEWS="$tmp/night2.csv" FORGET_USERS="$tmp/forget" "$root/tools/nightly.sh"
out="$AVREC_HOME/out"
test "$(readlink "$out/latest.json")" = recs-2026-01-02.json
test -s "$AVREC_HOME/manifests/recs-2026-01-02.run.json"
test -s "$out/diff-2026-01-02.json"

# The same bytes as ranking everyone tonight.
"$avrec" recommend -w "$AVREC_HOME/nightly.avrec" --top-n 10 --out "$tmp/full.json" 2>/dev/null
cmp "$out/recs-2026-01-02.json" "$tmp/full.json"

# The forgotten user was in night 1's lists, and is in neither night 2's nor the workspace.
forgotten=$(cat "$tmp/forget")
grep -q "\"$forgotten\"" "$out/recs-2026-01-01.json"
if grep -q "\"$forgotten\"" "$out/recs-2026-01-02.json"; then
  echo "nightly: forgotten user $forgotten is still in night 2's lists" >&2
  exit 1
fi
test "$(sqlite3 "$AVREC_HOME/nightly.avrec" "SELECT count(*) FROM reviews WHERE user_id = '$forgotten'")" = 0

# Night 2 reused every cache and reranked only changed users.
python3 - "$AVREC_HOME/logs/2026-01-02.log" "$tmp/changed_users" <<'EOF'
import json, sys
events = {}
for line in open(sys.argv[1], encoding='utf-8'):
    e = json.loads(line)
    events.setdefault(e['event'], []).append(e)
changed = open(sys.argv[2]).read().split()
score = [e for e in events['stage_end'] if e['stage'] == 'score'][0]
assert score['scored'] <= 101 and score['scored'] + score['reused'] + score['empty'] == score['distinct_texts'], score
assert score['reused'] >= 1500, score
embedded = events['text_embedded'][0]
assert embedded['reused'] == embedded['items'] == 300, embedded
inc = events['incremental'][0]
assert inc['mode'] == 'incremental', inc
assert 0 < inc['changed_users'] <= len(changed), (inc, len(changed))
assert inc['reranked'] == inc['changed_users'] and inc['copied'] > 100, inc
print(f"night 2: {score['scored']} texts scored, {score['reused']} reused; {embedded['reused']} embeddings reused; "
      f"{inc['reranked']} users reranked, {inc['copied']} copied")
EOF

# A job started while another holds the lock exits 75 and changes nothing.
flock "$AVREC_HOME/nightly.lock" sleep 3 &
sleep 0.5
rc=0
NIGHT=2026-01-03 REVIEWS="$tmp/night2.csv" "$root/tools/nightly.sh" 2>/dev/null || rc=$?
wait
test "$rc" -eq 75
test ! -e "$out/recs-2026-01-03.json"

# Night 4, a complete export (SNAPSHOT=1) that no longer holds one of night
# 2's reviews: it leaves the workspace, and the lists equal a full recompute.
gone=$(python3 - "$tmp" <<'EOF'
import csv, sys
rows = list(csv.reader(open(f'{sys.argv[1]}/night2.csv', newline='', encoding='utf-8')))
forgotten = open(f'{sys.argv[1]}/forget').read().strip()
i = next(i for i in range(1, len(rows)) if rows[i][1] != forgotten)
with open(f'{sys.argv[1]}/night4.csv', 'w', newline='', encoding='utf-8') as f:
    csv.writer(f, lineterminator='\n').writerows(rows[:i] + rows[i + 1:])
print(rows[i][0])
EOF
)
test "$(sqlite3 "$AVREC_HOME/nightly.avrec" "SELECT count(*) FROM reviews WHERE review_id = '$gone'")" = 1
NIGHT=2026-01-04 SNAPSHOT=1 REVIEWS="$tmp/night4.csv" "$root/tools/nightly.sh"
test "$(sqlite3 "$AVREC_HOME/nightly.avrec" "SELECT count(*) FROM reviews WHERE review_id = '$gone'")" = 0
"$avrec" recommend -w "$AVREC_HOME/nightly.avrec" --top-n 10 --out "$tmp/full4.json" 2>/dev/null
cmp "$out/recs-2026-01-04.json" "$tmp/full4.json"
rc=0
NIGHT=2026-01-05 SNAPSHOT=yes REVIEWS="$tmp/night4.csv" "$root/tools/nightly.sh" 2>/dev/null || rc=$?
test "$rc" -eq 64
echo "nightly: ok"
