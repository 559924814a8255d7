#!/usr/bin/env bash
# The report of the sample, as the demo makes it (bundled models, with last
# night's lists from another algorithm to compare), opened in headless
# Chromium by browser.py: no console error, plots drawn, search and
# drill-down working. The screenshot is kept as a test artefact in
# ARTEFACTS/report.png (and the page as ARTEFACTS/report.html).
# Skips (77) when Chromium is not installed.
# Usage: report_browser.sh AVREC_BINARY ARTEFACTS_DIR
set -euo pipefail
avrec=$(realpath "$1")
artefacts=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  echo "skipped: chromium is not installed (apt-get install chromium)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$artefacts"
"$avrec" run --config "$root/data/sample/pipeline.json" -w "$tmp/w.avrec" --out "$tmp/recs.json" >/dev/null 2>"$tmp/log"
"$avrec" recommend -w "$tmp/w.avrec" --algorithm content --out "$tmp/previous.json" 2>>"$tmp/log"
"$avrec" report -w "$tmp/w.avrec" --recs "$tmp/recs.json" --previous "$tmp/previous.json" \
  --out "$artefacts/report.html" 2>>"$tmp/log"
grep -q '"manifest":{' "$artefacts/report.html" || { echo "the run manifest is missing from the report"; exit 1; }
python3 "$root/tests/checks/browser.py" "$artefacts/report.html" "$artefacts/report.png"
