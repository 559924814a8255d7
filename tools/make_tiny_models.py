#!/usr/bin/env python3
"""Makes the tiny random-initialised BERT models the unit tests run with
(tests/data/tiny-sentiment, tests/data/tiny-embedding): 2 layers, hidden size
12, the all-MiniLM-L6-v2 vocabulary, exported by tools/export_model.py like
any other model (with its self-check). Seeded; the weights mean nothing.

Usage: tools/.venv/bin/python tools/make_tiny_models.py
"""
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from transformers import BertConfig, BertForSequenceClassification

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentiment_data as sd  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    torch.manual_seed(1234)
    base = sd.minilm_dir()
    config = BertConfig(vocab_size=30522, hidden_size=12, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=24, max_position_embeddings=512, initializer_range=0.2,
                        num_labels=2, id2label={0: "negative", 1: "positive"},
                        label2id={"negative": 0, "positive": 1})
    model = BertForSequenceClassification(config).eval()
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        for f in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copy(os.path.join(base, f), tmp)
        for task in ("sentiment", "embedding"):
            out = os.path.join(ROOT, "tests", "data", f"tiny-{task}")
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export_model.py"), "--hf", tmp,
                            "--out", out, "--task", task, "--name", f"tiny-{task}", "--max-length", "64",
                            "--languages", "en", "--license", "Apache-2.0",
                            "--source", "random initialisation (tools/make_tiny_models.py, seed 1234); "
                                        "vocabulary of all-MiniLM-L6-v2",
                            "--check-count", "200"], check=True)


if __name__ == "__main__":
    main()
