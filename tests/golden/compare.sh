#!/usr/bin/env bash
# Compares two output folders of make_golden.sh byte for byte, except the
# header's config_hash line (its definition changed with issue 9: every
# result-changing option now enters it).
#   tests/golden/compare.sh BEFORE AFTER
set -euo pipefail
status=0
while IFS= read -r -d '' f; do
  rel=${f#"$1"/}
  if [ ! -f "$2/$rel" ]; then echo "missing: $rel"; status=1; continue; fi
  if ! cmp -s <(grep -v '"config_hash"' "$f") <(grep -v '"config_hash"' "$2/$rel"); then
    echo "differs: $rel"; status=1
  fi
done < <(find "$1" -type f -print0)
[ $status = 0 ] && echo "identical (config_hash aside): $(find "$1" -type f | wc -l) files"
exit $status
