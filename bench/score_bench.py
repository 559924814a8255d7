#!/usr/bin/env python3
"""Sentiment scoring speed, in one run, same model, same thread count:

  (a) avrec: TextEncoder::Run (bench/avrec_bench score): tokenization, length
      sorted batches under a token budget, worker threads; at fp32 and at the
      precision `auto` picks on this CPU.
  (b) the seed article's way in Python: the model through transformers/torch,
      every text padded to the longest one, fixed batches of 32.
  (c) the best plain Python loop on the same runtime: the same TorchScript
      file, batches of 32 sorted by length, each padded to its own longest,
      no autograd; at fp32 and at bf16.
  (d) onnxruntime on the same weights (exported to ONNX here), sorted
      batches, when onnxruntime is installed.

Tokenization is inside every timing. Prints reviews per second, the ratios
a/b and a/c, and avrec's useful floating-point rate: encoder FLOPs of the real
(unpadded) tokens over time, as a fraction of this machine's matmul peak
measured here (2048 x 2048, same threads).

Texts: --count texts, half SST-2 test sentences, half Amazon review texts
(short and long mixed), or the sample reviews without ../shared/data.

Usage: tools/.venv/bin/python bench/score_bench.py [--threads 2] [--count 1000]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))


def texts(count):
    data = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
    if os.path.isdir(data):
        import sentiment_data as sd
        short = [e.text for e in sd.load_sst2(data, "test")][: count // 2]
        long_ = []
        path = os.path.join(data, "amazon_digital_music", "reviews_Digital_Music_5.complete_lines.json.gz")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                t = json.loads(line).get("reviewText", "")
                if t.strip():
                    long_.append(" ".join(t.splitlines()))
                if len(long_) >= count - len(short):
                    break
        return short + long_, "SST-2 test sentences + Amazon Digital Music review texts"
    import csv
    with open(os.path.join(ROOT, "data", "sample", "reviews.csv"), encoding="utf-8") as f:
        rows = [" ".join(r["text"].splitlines()) for r in csv.DictReader(f)]
    return rows[:count], "data/sample reviews"


def peak(dtype, threads):
    torch.set_num_threads(threads)
    a, b = torch.randn(2048, 2048, dtype=dtype), torch.randn(2048, 2048, dtype=dtype)
    for _ in range(2):
        a @ b
    t0, n = time.perf_counter(), 6
    for _ in range(n):
        a @ b
    return 2 * 2048 ** 3 * n / (time.perf_counter() - t0)


def hf_model(ts, manifest):
    from transformers import BertConfig, BertForSequenceClassification
    arch = manifest["architecture"]
    cfg = BertConfig(vocab_size=arch["vocab_size"], hidden_size=arch["hidden_size"],
                     num_hidden_layers=arch["num_hidden_layers"], num_attention_heads=arch["num_attention_heads"],
                     intermediate_size=arch["intermediate_size"], max_position_embeddings=arch["max_position_embeddings"],
                     num_labels=len(manifest["labels"]), attn_implementation="eager")
    model = BertForSequenceClassification(cfg).eval()
    state = {k[2:]: v.float() if v.is_floating_point() else v for k, v in ts.state_dict().items() if k.startswith("m.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not [k for k in missing if "position_ids" not in k], missing
    return model


def run_seed(model, tok, texts, max_len, batch):
    t0 = time.perf_counter()
    enc = tok(texts, padding="longest", truncation=True, max_length=max_len, return_tensors="pt")
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            model(input_ids=enc["input_ids"][i:i + batch], attention_mask=enc["attention_mask"][i:i + batch])
    return time.perf_counter() - t0


def sorted_batches(tok, texts, max_len, batch):
    ids = tok(texts, truncation=True, max_length=max_len)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for i in range(0, len(order), batch):
        part = [ids[j] for j in order[i:i + batch]]
        longest = max(len(x) for x in part)
        x = torch.zeros(len(part), longest, dtype=torch.long)
        m = torch.zeros(len(part), longest, dtype=torch.long)
        for r, seq in enumerate(part):
            x[r, :len(seq)] = torch.tensor(seq)
            m[r, :len(seq)] = 1
        yield x, m


def run_sorted(module, tok, texts, max_len, batch):
    t0 = time.perf_counter()
    with torch.inference_mode():
        for x, m in sorted_batches(tok, texts, max_len, batch):
            module(x, m)
    return time.perf_counter() - t0


def run_onnx(model, tok, texts, max_len, batch, threads):
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        x = torch.ones(2, 8, dtype=torch.long)

        class Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, ids, mask):
                return self.m(input_ids=ids, attention_mask=mask).logits
        torch.onnx.export(Wrap(model), (x, x), path, input_names=["ids", "mask"], output_names=["logits"],
                          dynamic_axes={"ids": {0: "b", 1: "s"}, "mask": {0: "b", 1: "s"}}, opset_version=14)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        t0 = time.perf_counter()
        for ids, m in sorted_batches(tok, texts, max_len, batch):
            sess.run(None, {"ids": ids.numpy(), "mask": m.numpy()})
        return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "sentiment-minilm-en-zh"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "avrec_bench"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--skip-seed", action="store_true", help="skip (b), the slowest")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from transformers import BertTokenizerFast
    manifest = json.load(open(os.path.join(args.model, "avrec-model.json")))
    t = manifest["tokenizer"]
    tok = BertTokenizerFast(vocab_file=os.path.join(args.model, t["vocab"]), do_lower_case=t["lowercase"],
                            tokenize_chinese_chars=t["handle_chinese_chars"], strip_accents=t["strip_accents"])
    data, source = texts(args.count)
    max_len = manifest["max_length"]
    real_tokens = sum(len(x) for x in tok(data, truncation=True, max_length=max_len)["input_ids"])
    flop_per_token = 2 * (4 * 384 * 384 + 2 * 384 * 1536) * 6  # matmuls of the 6 encoder layers
    result = {"texts": len(data), "source": source, "threads": args.threads, "real_tokens": real_tokens,
              "longest": max(len(x) for x in tok(data, truncation=True, max_length=max_len)["input_ids"])}

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(data) + "\n")
        path = f.name
    avrec = {}
    try:
        for precision in ("fp32", "auto"):
            res = subprocess.run([args.bench, "score", "--model", args.model, "--input", path, "--threads",
                                  str(args.threads), "--precision", precision], check=True, capture_output=True,
                                 text=True)
            avrec[precision] = json.loads(res.stdout)
    finally:
        os.unlink(path)
    ts = torch.jit.load(os.path.join(args.model, manifest["torchscript"])).eval()
    model = hf_model(ts, manifest)
    ts32 = torch.jit.freeze(torch.jit.load(os.path.join(args.model, manifest["torchscript"])).float().eval())
    tsbf = torch.jit.freeze(torch.jit.load(os.path.join(args.model, manifest["torchscript"])).to(torch.bfloat16).eval())
    run_sorted(ts32, tok, data[:64], max_len, args.batch)  # warm-up
    run_sorted(tsbf, tok, data[:64], max_len, args.batch)
    secs = {"c_fp32": run_sorted(ts32, tok, data, max_len, args.batch),
            "c_bf16": run_sorted(tsbf, tok, data, max_len, args.batch)}
    if not args.skip_seed:
        secs["b_seed"] = run_seed(model, tok, data, max_len, args.batch)
    onnx = run_onnx(model, tok, data, max_len, args.batch, args.threads)
    if onnx is not None:
        secs["d_onnxruntime_fp32"] = onnx
    rate = {k: len(data) / v for k, v in secs.items()}
    a_auto = avrec["auto"]["texts_per_second"]
    a_fp32 = avrec["fp32"]["texts_per_second"]
    result["reviews_per_second"] = {"a_avrec_fp32": round(a_fp32, 1),
                                    f"a_avrec_auto({avrec['auto']['precision']})": round(a_auto, 1),
                                    **{k: round(v, 1) for k, v in rate.items()}}
    if "b_seed" in rate:
        result["a_over_b"] = round(a_auto / rate["b_seed"], 2)
        result["a_fp32_over_b"] = round(a_fp32 / rate["b_seed"], 2)
    result["a_over_c_same_precision"] = {"fp32": round(a_fp32 / rate["c_fp32"], 2),
                                         "bf16": round(a_auto / rate["c_bf16"], 2)}
    result["a_auto_over_c_fp32"] = round(a_auto / rate["c_fp32"], 2)
    p32, pbf = peak(torch.float32, args.threads), peak(torch.bfloat16, args.threads)
    for name, r in (("fp32", avrec["fp32"]), ("auto", avrec["auto"])):
        useful = real_tokens * flop_per_token / r["seconds"]
        pk = pbf if r["precision"] == "bf16" else p32
        result[f"avrec_{name}_useful_gflops"] = round(useful / 1e9, 1)
        result[f"avrec_{name}_fraction_of_{r['precision']}_matmul_peak"] = round(useful / pk, 3)
    result["matmul_peak_gflops"] = {"fp32": round(p32 / 1e9), "bf16": round(pbf / 1e9)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
