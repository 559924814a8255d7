#!/usr/bin/env python3
"""Makes the SentencePiece test fixture tests/data/spm-tiny: a small unigram
model trained with spm_train on the project's own sample review texts, a
manifest pointing at the tiny test TorchScript model (so that scoring with a
SentencePiece tokenizer runs libtorch in the same process), and golden ids
from `spm_encode --output_format=id --extra_options=bos:eos`.

Needs Debian's `sentencepiece` package (spm_train, spm_encode). Standard
library only.

Usage: python3 tools/make_spm_golden.py
"""
import csv
import hashlib
import json
import os
import subprocess
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "tests", "data", "spm-tiny")

HOSTILE = [
    "", "   ", "Hello, World!", "naïve café ÉCOLE", "这首歌太好听了，旋律非常优美！", "我爱NLP和BERT模型2024年",
    "emoji 🎵😀👍🏽 family 👨‍👩‍👧", "zero\u200bwidth\u200djoiner", "ＡＢＣ１２３ full width", "tabs\tinside\ttext",
    "<s> </s> <unk> <pad> literal pieces", "a" * 300, "混合 mixed 文本 text 123", "¿Qué tal? ¡Muy bien!",
]


def main():
    with open(os.path.join(ROOT, "data", "sample", "reviews.csv"), encoding="utf-8", newline="") as f:
        texts = [r["text"].replace("\n", " ").replace("\r", " ") for r in csv.DictReader(f)]
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(texts) + "\n")
        subprocess.run(["spm_train", f"--input={corpus}", f"--model_prefix={os.path.join(tmp, 'spm')}",
                        "--vocab_size=800", "--model_type=unigram", "--character_coverage=1.0", "--pad_id=3",
                        "--num_threads=1", "--minloglevel=2"], check=True)
        with open(os.path.join(tmp, "spm.model"), "rb") as src, open(os.path.join(OUT, "spm.model"), "wb") as dst:
            dst.write(src.read())
    inputs = HOSTILE + texts[:300]
    res = subprocess.run(["spm_encode", f"--model={os.path.join(OUT, 'spm.model')}", "--output_format=id",
                          "--extra_options=bos:eos"], input="\n".join(inputs) + "\n", text=True,
                         capture_output=True, check=True)
    lines = res.stdout.split("\n")[:len(inputs)]
    with open(os.path.join(OUT, "spm.golden.jsonl"), "w", encoding="utf-8") as f:
        for t, ids in zip(inputs, lines):
            f.write(json.dumps({"text": t, "ids": [int(x) for x in ids.split()]}, ensure_ascii=False) + "\n")
    tiny = os.path.join(ROOT, "tests", "data", "tiny-sentiment", "model.pt")
    manifest = {
        "format": "avrec-model/1",
        "name": "spm-tiny",
        "task": "sentiment",
        "torchscript": "../tiny-sentiment/model.pt",
        "sha256": hashlib.sha256(open(tiny, "rb").read()).hexdigest(),
        "max_length": 64,
        "tokenizer": {"kind": "sentencepiece", "model": "spm.model", "bos_token": "<s>", "eos_token": "</s>",
                      "pad_token": "<pad>", "unk_token": "<unk>"},
        "labels": ["negative", "positive"],
        "label_scores": {"negative": -1.0, "positive": 1.0},
        "languages": ["en", "zh"],
        "license": "Apache-2.0",
        "source": "tools/make_spm_golden.py: spm_train (unigram, 800 pieces) on data/sample/reviews.csv; "
                  "the weights are tests/data/tiny-sentiment's (random)",
    }
    with open(os.path.join(OUT, "avrec-model.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{OUT}: {len(inputs)} golden lines")


if __name__ == "__main__":
    main()
