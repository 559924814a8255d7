#!/usr/bin/env python3
"""Real-data tokenizer check (CTest label realdata): every review text in
../shared/data (SST-2 train/dev/test, ChnSentiCorp, the Amazon Digital Music
review texts and summaries) through `avrec tokenize` and through the
reference Hugging Face tokenizer, for each bundled WordPiece model; any
mismatch fails. Texts are compared whole (no truncation). Line breaks inside
a text become spaces (both tokenizers treat them as whitespace), since
`avrec tokenize` reads one text per line.

Exit 0: zero mismatches; 1: mismatches (the first ones are printed);
77: skipped (no ../shared/data, or no tool environment), with the reason.

Usage: tools/.venv/bin/python tools/check_tokenizer_realdata.py [--avrec build/avrec]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)


def texts(data):
    import sentiment_data as sd
    out = []
    for split in ("train", "dev", "test"):
        out += [e.text for e in sd.load_sst2(data, split)]
    out += [e.text for e in sd.load_chnsenticorp(data, "all")]
    path = os.path.join(data, "amazon_digital_music", "reviews_Digital_Music_5.complete_lines.json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(r.get("reviewText", ""))
            out.append(r.get("summary", ""))
    return [" ".join(t.splitlines()) if ("\n" in t or "\r" in t) else t for t in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--data", default=os.path.normpath(os.path.join(ROOT, "..", "shared", "data")))
    args = ap.parse_args()
    if not os.path.isdir(args.data):
        print(f"SKIP: {args.data} not found (the real data lives beside the project)")
        return 77
    try:
        from transformers import BertTokenizerFast
    except ImportError:
        print("SKIP: the reference tokenizer is not installed (run tools/setup_toolenv.sh)")
        return 77
    all_texts = texts(args.data)
    failures = 0
    for model in ("all-minilm-l6-v2", "sentiment-minilm-en-zh"):
        mdir = os.path.join(ROOT, "models", model)
        m = json.load(open(os.path.join(mdir, "avrec-model.json")))["tokenizer"]
        ref = BertTokenizerFast(vocab_file=os.path.join(mdir, m["vocab"]), do_lower_case=m["lowercase"],
                                tokenize_chinese_chars=m["handle_chinese_chars"], strip_accents=m["strip_accents"])
        want = ref(all_texts)["input_ids"]
        res = subprocess.run([args.avrec, "tokenize", "--model", mdir, "--max-length", "1048576", "--log-level", "warn"],
                             input="\n".join(all_texts) + "\n", capture_output=True, text=True)
        if res.returncode != 0:
            print(f"avrec tokenize failed ({res.returncode}): {res.stderr[-500:]}")
            return 1
        got = res.stdout.split("\n")[:len(all_texts)]
        bad = 0
        for i, (w, g) in enumerate(zip(want, got)):
            if " ".join(map(str, w)) != g:
                bad += 1
                if bad <= 5:
                    print(f"{model}: text {i} differs: {all_texts[i][:120]!r}\n  want {w[:30]}\n  got  {g[:200]}")
        tokens = sum(len(w) for w in want)
        print(f"{model}: {len(all_texts)} texts, {tokens} tokens, {bad} mismatches")
        failures += bad
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
