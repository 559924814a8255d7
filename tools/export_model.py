#!/usr/bin/env python3
"""Exports a BERT-family model in Hugging Face format to an avrec model
directory (docs/models.md): a traced TorchScript file, the tokenizer files
and avrec-model.json.

  --task sentiment   a sequence classifier: (input_ids, attention_mask) -> logits
  --task embedding   a sentence encoder: mean pooling over the attention mask,
                     L2-normalised, as sentence-transformers does it

The graph is traced with the eager attention implementation (only operators
libtorch 1.13 knows) in eval mode, with torch 1.13 (the version avrec links).
It is traced in bfloat16, so that it runs in bfloat16 or, converted at load
time, in float32; the weights are stored as float16 (half the size of
float32, more mantissa than bfloat16). avrec converts them to its computing
precision when it loads the model.

Unless --no-check, the export checks itself: it runs --check-count texts
through this TorchScript file in Python (one text at a time, no padding) and
through `avrec score`/`avrec embed --precision fp32`, and fails if any
probability (or embedding component) differs by more than --tolerance.

Usage:
  tools/.venv/bin/python tools/export_model.py --hf DIR --out models/NAME --task sentiment \
      --name NAME --languages en zh --license Apache-2.0 --source "..."
"""
import argparse
import copy
import datetime
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentiment_data as sd  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


class Classifier(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, input_ids, attention_mask):
        return self.m(input_ids=input_ids, attention_mask=attention_mask).logits


class MeanPooledEncoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, input_ids, attention_mask):
        hidden = self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * mask).sum(1)
        counts = mask.sum(1).clamp(min=1e-9)
        pooled = (summed / counts).float()
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)


def load_hf(hf_dir, task):
    from transformers import AutoModel, AutoModelForSequenceClassification
    if task == "sentiment":
        model = AutoModelForSequenceClassification.from_pretrained(hf_dir, attn_implementation="eager")
        return Classifier(model.eval()).eval(), model.config
    model = AutoModel.from_pretrained(hf_dir, attn_implementation="eager", add_pooling_layer=False)
    return MeanPooledEncoder(model.eval()).eval(), model.config


def tokenizer_settings(hf_dir):
    cfg_path = os.path.join(hf_dir, "tokenizer_config.json")
    cfg = json.load(open(cfg_path)) if os.path.exists(cfg_path) else {}
    lower = bool(cfg.get("do_lower_case", True))
    strip = cfg.get("strip_accents")
    return {
        "kind": "wordpiece",
        "vocab": "vocab.txt",
        "clean_text": True,
        "handle_chinese_chars": bool(cfg.get("tokenize_chinese_chars", True)),
        "lowercase": lower,
        "strip_accents": lower if strip is None else bool(strip),
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
        "cls_token": cfg.get("cls_token", "[CLS]"),
        "sep_token": cfg.get("sep_token", "[SEP]"),
        "pad_token": cfg.get("pad_token", "[PAD]"),
        "unk_token": cfg.get("unk_token", "[UNK]"),
        "added_tokens": [cfg.get(k, d) for k, d in (("pad_token", "[PAD]"), ("unk_token", "[UNK]"),
                                                       ("cls_token", "[CLS]"), ("sep_token", "[SEP]"),
                                                       ("mask_token", "[MASK]"))],
    }


def reference_tokenizer(hf_dir, out_dir):
    """The Hugging Face fast tokenizer for the exported vocabulary."""
    from transformers import BertTokenizerFast
    settings = tokenizer_settings(hf_dir)
    return BertTokenizerFast(vocab_file=os.path.join(out_dir, "vocab.txt"), do_lower_case=settings["lowercase"],
                             tokenize_chinese_chars=settings["handle_chinese_chars"],
                             strip_accents=settings["strip_accents"])


def head_tail(ids, budget):
    """avrec's default truncation (docs/models.md): first quarter + last three quarters."""
    if len(ids) <= budget:
        return ids
    head = budget // 4
    return ids[:head] + ids[len(ids) - (budget - head):]


def trace(wrapper, vocab_size):
    example_ids = torch.randint(1000, min(vocab_size, 5000), (2, 12))
    example_mask = torch.ones_like(example_ids)
    example_mask[1, 7:] = 0
    bf16 = copy.deepcopy(wrapper).to(torch.bfloat16).eval()
    with torch.no_grad():
        traced = torch.jit.trace(bf16, (example_ids, example_mask), check_trace=False)
    traced.half()  # stored weights: float16
    return traced


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_texts(count):
    """Texts for the self-check: real ones from ../shared/data when present
    (short and long, English and Chinese), else the bundled sample reviews."""
    texts = []
    data = sd.default_data_dir()
    if os.path.isdir(os.path.join(data, "sst2")):
        texts += [e.text for e in sd.load_sst2(data, "test")][: count // 2]
        texts += [e.text for e in sd.load_chnsenticorp(data, "test")][: count - len(texts)]
    if len(texts) < count:
        import csv
        with open(os.path.join(ROOT, "data", "sample", "reviews.csv"), encoding="utf-8") as f:
            texts += [r["text"] for r in csv.DictReader(f)][: count - len(texts)]
    # A few long ones, so truncation is exercised.
    texts[:3] = [" ".join(texts[3:40]), "很好" * 400, "word " * 2000]
    return texts[:count]


def self_check(out_dir, manifest, hf_dir, avrec, count, tolerance):
    tok = reference_tokenizer(hf_dir, out_dir)
    model = torch.jit.load(os.path.join(out_dir, manifest["torchscript"])).float().eval()
    texts = check_texts(count)
    max_len = manifest["max_length"]
    expected = []
    with torch.no_grad():
        for t in texts:
            ids = tok(t, add_special_tokens=False)["input_ids"]
            ids = head_tail(ids, max_len - 2) if manifest["truncation"] == "head+tail" else ids[:max_len - 2]
            ids = [tok.cls_token_id] + ids + [tok.sep_token_id]
            x = torch.tensor([ids])
            y = model(x, torch.ones_like(x))
            if manifest["task"] == "sentiment":
                y = torch.softmax(y.float(), -1)
            expected.append(y[0].tolist())
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "texts.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                row = {"review_id": str(i), "user_id": "u", "item_id": "i", "text": t} \
                    if manifest["task"] == "sentiment" else {"id": str(i), "text": t}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        out = os.path.join(tmp, "out.jsonl")
        verb = "score" if manifest["task"] == "sentiment" else "embed"
        cmd = [avrec, verb, "--model", out_dir, "--reviews" if verb == "score" else "--input", src,
               "--out", out, "--precision", "fp32", "--log-level", "warn"]
        subprocess.run(cmd, check=True)
        got = {}
        with open(out, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if verb == "score":
                    got[r["review_id"]] = [r["probs"][l] for l in manifest["labels"]]
                else:
                    got[r["id"]] = r["embedding"]
    worst = 0.0
    for i, e in enumerate(expected):
        g = got[str(i)]
        worst = max(worst, max(abs(a - b) for a, b in zip(e, g)))
    print(f"self-check: {len(texts)} texts, largest difference Python vs avrec {worst:.2e} "
          f"(tolerance {tolerance:.0e})", flush=True)
    if worst > tolerance:
        sys.exit(f"self-check FAILED: {worst:.2e} > {tolerance:.0e}")
    return {"texts": len(texts), "max_abs_diff": float(f"{worst:.3e}"), "tolerance": tolerance}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hf", required=True, help="Hugging Face model directory")
    ap.add_argument("--out", required=True, help="avrec model directory to write")
    ap.add_argument("--task", choices=["sentiment", "embedding"])
    ap.add_argument("--name")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--labels", nargs="*", help="label names in logit order (default: from the config)")
    ap.add_argument("--label-scores", nargs="*", type=float,
                    help="score in [-1, 1] of each label (default: evenly spaced from -1 to 1)")
    ap.add_argument("--languages", nargs="*", default=["en"])
    ap.add_argument("--license", default="Apache-2.0")
    ap.add_argument("--source", default="")
    ap.add_argument("--extra", default=None, help="JSON file merged into the manifest (accuracy, training)")
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--no-check", dest="check", action="store_false")
    ap.add_argument("--check-only", action="store_true", help="only re-run the self-check of --out")
    ap.add_argument("--check-count", type=int, default=1000)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    if args.check_only:
        # Re-run the self-check of an exported directory without re-tracing
        # (tracing is not byte-reproducible, and the weights are committed).
        manifest = json.load(open(os.path.join(args.out, "avrec-model.json")))
        manifest["export"]["self_check"] = self_check(args.out, manifest, args.hf, args.avrec, args.check_count,
                                                      args.tolerance)
        write_manifest(args.out, manifest)
        return
    os.makedirs(args.out, exist_ok=True)
    wrapper, config = load_hf(args.hf, args.task)
    with open(os.path.join(args.hf, "vocab.txt"), "rb") as src, open(os.path.join(args.out, "vocab.txt"), "wb") as dst:
        dst.write(src.read())
    traced = trace(wrapper, config.vocab_size)
    ts_name = "model.pt"
    ts_path = os.path.join(args.out, ts_name)
    torch.jit.save(traced, ts_path)

    manifest = {
        "format": "avrec-model/1",
        "name": args.name,
        "task": args.task,
        "torchscript": ts_name,
        "sha256": sha256(ts_path),
        "inputs": ["input_ids int64 [batch, seq]", "attention_mask int64 [batch, seq]"],
        "precision": {"stored": "float16", "traced": "bfloat16",
                      "compute": "float32 or bfloat16, chosen at load (avrec --precision)"},
        "max_length": args.max_length,
        # Long texts: sentiment keeps head and tail (docs/models.md); embeddings
        # keep the head, as sentence-transformers does.
        "truncation": "head+tail" if args.task == "sentiment" else "head",
        "tokenizer": tokenizer_settings(args.hf),
        "languages": args.languages,
        "license": args.license,
        "source": args.source,
        "architecture": {k: getattr(config, k) for k in ("model_type", "num_hidden_layers", "hidden_size",
                                                         "num_attention_heads", "intermediate_size",
                                                         "vocab_size", "max_position_embeddings")},
        "export": {"command": " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
                   "torch": torch.__version__, "date": datetime.date.today().isoformat()},
    }
    if args.task == "sentiment":
        labels = args.labels or [config.id2label[i] for i in range(config.num_labels)]
        n = len(labels)
        scores = args.label_scores or [(-1 + 2 * i / (n - 1)) for i in range(n)]
        manifest["labels"] = labels
        manifest["label_scores"] = {l: s for l, s in zip(labels, scores)}
        manifest["outputs"] = {"logits": f"float [batch, {n}]"}
    else:
        manifest["embedding"] = {"dim": config.hidden_size, "pooling": "mean over attention mask",
                                 "normalized": "L2"}
        manifest["outputs"] = {"embedding": f"float [batch, {config.hidden_size}], unit length"}
    if args.extra:
        manifest.update(json.load(open(args.extra)))
    write_manifest(args.out, manifest)
    size = os.path.getsize(ts_path) / 1e6
    print(f"wrote {args.out}: {ts_name} {size:.1f} MB, sha256 {manifest['sha256'][:16]}...", flush=True)
    if args.check:
        manifest["export"]["self_check"] = self_check(args.out, manifest, args.hf, args.avrec, args.check_count,
                                                      args.tolerance)
        write_manifest(args.out, manifest)


def write_manifest(out, manifest):
    with open(os.path.join(out, "avrec-model.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
