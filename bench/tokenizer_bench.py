#!/usr/bin/env python3
"""Tokenizer speed: avrec's WordPiece against the reference Hugging Face
`tokenizers` fast batch encoder, on the same texts, single-threaded, in one
run. Prints tokens per second for both and the ratio avrec / reference.

Texts: every review text of ../shared/data (SST-2, ChnSentiCorp, Amazon review
texts), or the bundled sample reviews when that folder is absent. Best of
--repeat passes for each (the machine is noisy).

Usage: tools/.venv/bin/python bench/tokenizer_bench.py [--model models/all-minilm-l6-v2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))


def corpus():
    data = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
    if os.path.isdir(data):
        import check_tokenizer_realdata as c
        return c.texts(data), "../shared/data (SST-2, ChnSentiCorp, Amazon reviews)"
    import csv
    with open(os.path.join(ROOT, "data", "sample", "reviews.csv"), encoding="utf-8") as f:
        texts = [" ".join(r["text"].splitlines()) for r in csv.DictReader(f)]
    return texts * 10, "data/sample reviews x 10"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "all-minilm-l6-v2"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "avrec_bench"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from transformers import BertTokenizerFast
    texts, source = corpus()
    m = json.load(open(os.path.join(args.model, "avrec-model.json")))["tokenizer"]
    ref = BertTokenizerFast(vocab_file=os.path.join(args.model, m["vocab"]), do_lower_case=m["lowercase"],
                            tokenize_chinese_chars=m["handle_chinese_chars"], strip_accents=m["strip_accents"])
    backend = ref.backend_tokenizer
    backend.no_truncation()
    backend.no_padding()
    best_ref, ref_tokens = 1e300, 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        enc = backend.encode_batch(texts)
        best_ref = min(best_ref, time.perf_counter() - t0)
        ref_tokens = sum(len(e.ids) for e in enc)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(texts) + "\n")
        path = f.name
    try:
        res = subprocess.run([args.bench, "tokenize", "--model", args.model, "--input", path, "--repeat",
                              str(args.repeat)], check=True, capture_output=True, text=True)
    finally:
        os.unlink(path)
    a = json.loads(res.stdout)
    ref_tps = ref_tokens / best_ref
    print(json.dumps({"texts": len(texts), "source": source, "threads": 1,
                      "avrec_tokens": a["tokens"], "reference_tokens": ref_tokens,
                      "avrec_tokens_per_second": round(a["tokens_per_second"]),
                      "reference_tokens_per_second": round(ref_tps),
                      "ratio_avrec_over_reference": round(a["tokens_per_second"] / ref_tps, 2)}, indent=1))


if __name__ == "__main__":
    main()
