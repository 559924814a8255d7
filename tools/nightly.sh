#!/usr/bin/env bash
# avrec's nightly job, ready for cron (docs/nightly.md explains every step):
# ingest today's reviews, score the new texts, rerank the users whose inputs
# changed, and compare tonight's lists with last night's.
#
#   15 3 * * *  REVIEWS=/data/reviews-today.csv.gz ITEMS=/data/catalogue.csv /opt/avrec/tools/nightly.sh
#
# Settings (environment):
#   REVIEWS       today's reviews (required; new and changed reviews, or everything)
#   ITEMS         the catalogue (optional: only when it changed)
#   SNAPSHOT      1: REVIEWS (and ITEMS, when given) hold everything, not only what changed: reviews and items
#                 the workspace holds and they no longer do are removed (ingest --snapshot)
#   FORGET_USERS  a file of user ids to forget after tonight's ingest, one per line (erasure requests:
#                 avrec forget removes them for good and keeps later ingests from adding them back)
#   AVREC_HOME    folder for the workspace, outputs, manifests and logs (default /var/lib/avrec)
#   AVREC         the avrec binary (default: avrec on PATH)
#   TOP_N         items per user (default 20)
#   KEEP_NIGHTS   nights of outputs and diffs kept (default 14; manifests and logs are kept)
#   RETRIES       attempts of a step that exits 75 (workspace busy, or an input still being written; default 3),
#                 RETRY_WAIT seconds apart (default 60)
#   FAIL_IF       diff thresholds that make the job fail after writing, e.g. "churn>0.5" (default: none)
#   NIGHT         the night's name (default: today's UTC date, YYYY-MM-DD)
#
# Exit status: 0 done; 75 another nightly job holds the lock, or the workspace
# stayed busy (or an input kept changing) after RETRIES attempts (run again later); 1 a FAIL_IF threshold
# was passed (tonight's output is in place); any other: avrec's exit code of
# the step that failed (see the log). Tonight's output replaces
# out/latest.json only when every step succeeded.
set -euo pipefail

: "${REVIEWS:?set REVIEWS to the reviews file of the night}"
home=${AVREC_HOME:-/var/lib/avrec}
avrec=${AVREC:-avrec}
top_n=${TOP_N:-20}
keep=${KEEP_NIGHTS:-14}
retries=${RETRIES:-3}
retry_wait=${RETRY_WAIT:-60}
night=${NIGHT:-$(date -u +%F)}
case "${SNAPSHOT:-0}" in
  0) snapshot="" ;;
  1) snapshot="--snapshot" ;;
  *) echo "nightly: SNAPSHOT is 0 or 1, not '$SNAPSHOT'" >&2; exit 64 ;;
esac

mkdir -p "$home/out" "$home/manifests" "$home/logs"
ws=$home/nightly.avrec
log=$home/logs/$night.log
out=$home/out/recs-$night.json

# One job at a time: a second one started while this runs exits 75 at once.
exec 9>"$home/nightly.lock"
if ! flock -n 9; then
  echo "nightly: another run holds $home/nightly.lock" >&2
  exit 75
fi

# Runs one avrec step with JSON logs appended to tonight's log; retries a
# step that exits 75 (the workspace is locked by someone else, or an input
# was still being written).
step() {
  local attempt=1 rc
  while :; do
    rc=0
    "$avrec" "$@" --log-format json 2>>"$log" || rc=$?
    if [ "$rc" -ne 75 ] || [ "$attempt" -ge "$retries" ]; then break; fi
    echo "nightly: avrec $1 exited 75 (workspace busy or an input still being written), retry $attempt of $((retries - 1)) in ${retry_wait}s" >&2
    attempt=$((attempt + 1))
    sleep "$retry_wait"
  done
  if [ "$rc" -ne 0 ]; then
    echo "nightly: avrec $1 failed with exit $rc; see $log" >&2
    exit "$rc"
  fi
}

# Last night's output, before tonight's is written.
previous=$(find "$home/out" -maxdepth 1 -name 'recs-*.json' ! -name "recs-$night.json" | sort | tail -n 1)

step ingest -w "$ws" --reviews "$REVIEWS" ${ITEMS:+--items "$ITEMS"} $snapshot
if [ -n "${FORGET_USERS:-}" ]; then
  step forget -w "$ws" --user-ids "$FORGET_USERS"
fi
step score -w "$ws"
step recommend -w "$ws" --only-changed --to-workspace --keep-lists "$keep" --top-n "$top_n" \
  --out "$out" --manifest "$home/manifests/recs-$night.run.json"

status=0
if [ -n "$previous" ]; then
  diff_args=(diff --old "$previous" --new "$out" --k "$top_n" --out "$home/out/diff-$night.json")
  if [ -n "${FAIL_IF:-}" ]; then
    for t in $FAIL_IF; do diff_args+=(--fail-if "$t"); done
  fi
  "$avrec" "${diff_args[@]}" --log-format json >/dev/null 2>>"$log" || status=$?
  if [ "$status" -gt 1 ]; then
    echo "nightly: avrec diff failed with exit $status; see $log" >&2
    exit "$status"
  fi
fi

# Publish: out/latest.json points at tonight's lists (atomic rename).
ln -sfn "recs-$night.json" "$home/out/.latest.tmp"
mv -Tf "$home/out/.latest.tmp" "$home/out/latest.json"

# Retention: the KEEP_NIGHTS latest outputs and diffs stay (tonight's and
# last night's always: --only-changed copies from the previous output).
[ "$keep" -lt 2 ] && keep=2
for pattern in 'recs-*.json' 'diff-*.json'; do
  find "$home/out" -maxdepth 1 -name "$pattern" | sort | head -n -"$keep" | while read -r old; do rm -f -- "$old"; done
done

if [ "$status" -eq 1 ]; then
  echo "nightly: a FAIL_IF threshold was passed ($FAIL_IF); see $home/out/diff-$night.json" >&2
fi
exit "$status"
