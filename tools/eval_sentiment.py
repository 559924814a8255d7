#!/usr/bin/env python3
"""Measures sentiment models through `avrec score` (the C++ path users run)
on held-out review sets, side by side, and records the figures in the
model's manifest (field "accuracy").

Sets (none is used for training or model selection; tools/sentiment_data.py):
  imdb_test          IMDB official test half (25,000 film reviews, 1-10 stars)
  amazon_music       Amazon Digital Music, all 6,908 reviews (1-5 stars): the
                     recommendation benchmark, never trained on
  sst2_test          SST-2 test (1,821 film sentences)
  chnsenticorp_test  ChnSentiCorp seeded test split (hotel reviews, Chinese)
  waimai_test        waimai_10k seeded test split (delivery comments, Chinese)
  challenge          tests/data/sentiment_challenge (203 sentences we wrote:
                     slang, danmaku, negation, sarcasm, mixed; EN and ZH)

Figures: accuracy; balanced accuracy where classes are unbalanced (Amazon
1-2 vs 4-5 stars, waimai); for starred sets the mean score and the share
labelled positive per star, and Spearman's rho between score and stars;
for the challenge set accuracy per language and kind. A plain lexicon
scorer (VADER / HowNet word lists) and the majority class are given beside
the binary sets.

Usage:
  tools/.venv/bin/python tools/eval_sentiment.py --model models/sentiment-minilm-en-zh \\
      --compare /tmp/old-model --names "previous default,new default" --report docs/sentiment_eval.md --write
  tools/.venv/bin/python tools/eval_sentiment.py --quick --min imdb_test=0.91 ...   (CI's realdata check)
  tools/.venv/bin/python tools/eval_sentiment.py --sweep-max-length 128,256,384,512  (IMDB dev: accuracy vs speed)
"""
import argparse
import json
import math
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentiment_data as sd  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
QUICK_IMDB = 2000  # --quick: a seeded sample of the IMDB test half


# ---- data ----------------------------------------------------------------------------

def load_sets(data, quick):
    imdb = sd.load_imdb(data, "test")
    if quick:
        imdb = random.Random(20261201).sample(imdb, QUICK_IMDB)
    return {
        "imdb_test": imdb,
        "amazon_music": sd.load_amazon_music(data),
        "sst2_test": sd.load_sst2(data, "test"),
        "chnsenticorp_test": sd.load_chnsenticorp(data, "test"),
        "waimai_test": sd.load_waimai(data, "test"),
    }


# ---- scoring through avrec -------------------------------------------------------------

def avrec_score(avrec, model, texts, threads, extra=()):
    """-> (list of (label, score), seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                f.write(json.dumps({"review_id": str(i), "user_id": "u", "item_id": "i", "text": t},
                                   ensure_ascii=False) + "\n")
        out = os.path.join(tmp, "out.jsonl")
        t0 = time.time()
        subprocess.run([avrec, "score", "--model", model, "--reviews", src, "--out", out, "--threads", str(threads),
                        "--log-level", "warn", *extra], check=True)
        secs = time.time() - t0
        got = {}
        with open(out, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                got[int(r["review_id"])] = (r["label"], r["score"])
    return [got[i] for i in range(len(texts))], secs


# ---- metrics ---------------------------------------------------------------------------

def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0
        i = j + 1
    return r


def spearman(xs, ys):
    rx, ry = ranks(xs), ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / math.sqrt(vx * vy) if vx > 0 and vy > 0 else 0.0


def binary_figures(rows, preds):
    gold = [e.label for e in rows]
    pred = [1 if label == "positive" else 0 for label, _ in preds]
    acc = sum(int(p == g) for p, g in zip(pred, gold)) / len(gold)
    tpr = [sum(1 for p, g in zip(pred, gold) if g == c and p == c) / max(1, gold.count(c)) for c in (0, 1)]
    return {"examples": len(gold), "accuracy": round(acc, 4), "balanced_accuracy": round(sum(tpr) / 2, 4)}


def star_figures(rows, preds):
    """Per star: count, mean score, share positive; Spearman's rho; and for
    5-star scales the balanced accuracy of 1-2 vs 4-5 stars."""
    per = {}
    for e, (label, score) in zip(rows, preds):
        per.setdefault(e.stars, []).append((score, label == "positive"))
    out = {"spearman_stars": round(spearman([p[1] for p in preds], [e.stars for e in rows]), 4), "per_star": {}}
    for s in sorted(per):
        v = per[s]
        out["per_star"][str(s)] = {"reviews": len(v), "mean_score": round(sum(x for x, _ in v) / len(v), 3),
                                   "share_positive": round(sum(1 for _, p in v if p) / len(v), 3)}
    means = [out["per_star"][str(s)]["mean_score"] for s in sorted(per)]
    out["monotone"] = all(a < b for a, b in zip(means, means[1:]))
    if rows and rows[0].scale == 5:
        neg = [p for e, (l, _) in zip(rows, preds) if e.stars <= 2 for p in [l == "negative"]]
        pos = [p for e, (l, _) in zip(rows, preds) if e.stars >= 4 for p in [l == "positive"]]
        out["balanced_accuracy_12_vs_45"] = round((sum(neg) / len(neg) + sum(pos) / len(pos)) / 2, 4)
    return out


def challenge_figures(rows, preds):
    out = {"examples": len(rows)}
    polar = [(r, p) for r, p in zip(rows, preds) if r["label"] != "neutral"]
    ok = lambda r, p: (p[0] == "positive") == (r["label"] == "positive")  # noqa: E731
    out["accuracy"] = round(sum(ok(r, p) for r, p in polar) / len(polar), 4)
    for key in ("lang", "kind"):
        for v in sorted({r[key] for r, _ in polar}):
            sub = [(r, p) for r, p in polar if r[key] == v]
            out[f"{key}_{v}"] = round(sum(ok(r, p) for r, p in sub) / len(sub), 4)
    neutral = [p for r, p in zip(rows, preds) if r["label"] == "neutral"]
    out["neutral_within_0.33"] = f"{sum(1 for _, s in neutral if abs(s) <= 0.33)}/{len(neutral)}"
    return out


# ---- lexicon baseline ------------------------------------------------------------------

def lexicon_predict(texts, lang):
    if lang == "en":
        lex = dict(sd.read_vader())
        return [1 if sum(lex.get(w, 0.0) for w in re.findall(r"[a-z']+", t.lower())) >= 0 else 0 for t in texts]
    pos, neg = (set(x) for x in sd.read_hownet())
    words, longest = pos | neg, max(len(w) for w in pos | neg)
    out = []
    for t in texts:
        i, s = 0, 0
        while i < len(t):
            for n in range(min(longest, len(t) - i), 0, -1):
                if t[i:i + n] in words:
                    s += 1 if t[i:i + n] in pos else -1
                    i += n
                    break
            else:
                i += 1
        out.append(1 if s >= 0 else 0)
    return out


# ---- reports ---------------------------------------------------------------------------

def evaluate_model(args, model, sets, challenge):
    res = {}
    for name, rows in sets.items():
        preds, secs = avrec_score(args.avrec, model, [e.text for e in rows], args.threads)
        r = binary_figures(rows, preds)
        r["seconds"] = round(secs, 1)
        r["texts_per_second"] = round(len(rows) / secs, 1)
        if rows[0].stars is not None:
            r.update(star_figures(rows, preds))
        res[name] = r
        print(f"{os.path.basename(model)} {name}: {json.dumps({k: v for k, v in r.items() if k != 'per_star'})}",
              flush=True)
    preds, _ = avrec_score(args.avrec, model, [r["text"] for r in challenge], args.threads)
    res["challenge"] = challenge_figures(challenge, preds)
    print(f"{os.path.basename(model)} challenge: {json.dumps(res['challenge'])}", flush=True)
    return res


def baselines(sets):
    """Lexicon and majority-class figures, on the measure each set's row
    reports (balanced accuracy for amazon_music, accuracy elsewhere)."""
    out = {}
    for name, rows in sets.items():
        lang = "zh" if name in ("chnsenticorp_test", "waimai_test") else "en"
        gold = [e.label for e in rows]
        lex = lexicon_predict([e.text for e in rows], lang)
        major = 1 if gold.count(1) >= gold.count(0) else 0
        key = "balanced_accuracy" if name == "amazon_music" else "accuracy"
        as_preds = lambda labels: [("positive" if p == 1 else "negative", 0.0) for p in labels]  # noqa: E731
        out[name] = {"lexicon": binary_figures(rows, as_preds(lex))[key],
                     "majority_class": binary_figures(rows, as_preds([major] * len(gold)))[key]}
    return out


def markdown(results, base, command):
    names = list(results)
    lines = [f"Measured by `{command}` (avrec score, default precision, {results[names[-1]]['_threads']} threads).", ""]
    head = "| figure | " + " | ".join(names) + " | lexicon | majority |"
    lines += [head, "|" + "---|" * (len(names) + 3)]
    sets = [s for s in results[names[-1]] if not s.startswith("_") and s != "challenge"]
    for s in sets:
        key = "balanced_accuracy_12_vs_45" if s == "amazon_music" else "accuracy"
        label = f"{s} {'balanced accuracy 1-2 vs 4-5 stars' if s == 'amazon_music' else 'accuracy'}"
        vals = [str(results[n].get(s, {}).get(key, "")) for n in names]
        lines.append(f"| {label} | " + " | ".join(vals) + f" | {base.get(s, {}).get('lexicon', '')} | "
                     f"{base.get(s, {}).get('majority_class', '')} |")
        if s == "waimai_test":
            lines.append("| waimai_test balanced accuracy | " +
                         " | ".join(str(results[n][s]["balanced_accuracy"]) for n in names) + " | | |")
        if "spearman_stars" in results[names[-1]].get(s, {}):
            lines.append(f"| {s} Spearman rho (score, stars) | " +
                         " | ".join(str(results[n][s]["spearman_stars"]) for n in names) + " | | |")
    for k in results[names[-1]]["challenge"]:
        if k == "examples":
            continue
        lines.append(f"| challenge {k} | " + " | ".join(str(results[n]["challenge"].get(k, "")) for n in names) +
                     " | | |")
    for s in ("amazon_music", "imdb_test"):
        lines += ["", f"Mean score and share labelled positive per star, {s}:", "",
                  "| stars | reviews | " + " | ".join(f"{n} mean | {n} positive" for n in names) + " |",
                  "|" + "---|" * (2 + 2 * len(names))]
        stars = results[names[-1]][s]["per_star"]
        for st in stars:
            cells = []
            for n in names:
                p = results[n][s]["per_star"].get(st, {})
                cells += [str(p.get("mean_score", "")), str(p.get("share_positive", ""))]
            lines.append(f"| {st} | {stars[st]['reviews']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def sweep_max_length(args):
    """Accuracy and speed by max_length on IMDB dev (never test)."""
    rows = sd.load_imdb(args.data, "dev")
    texts = [e.text for e in rows]
    out = []
    for L in [int(x) for x in args.sweep_max_length.split(",")]:
        preds, secs = avrec_score(args.avrec, args.model, texts, args.threads, ("--max-length", str(L)))
        r = binary_figures(rows, preds)
        r.update({"max_length": L, "seconds": round(secs, 1), "texts_per_second": round(len(rows) / secs, 1)})
        out.append(r)
        print(json.dumps(r), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "sentiment-minilm-en-zh"))
    ap.add_argument("--compare", action="append", default=[], help="another model directory to measure beside it")
    ap.add_argument("--names", help="column names, comma-separated: the --compare models', then --model's "
                                    "(default: their directory names)")
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--data", default=sd.default_data_dir())
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help=f"IMDB test: a seeded sample of {QUICK_IMDB}")
    ap.add_argument("--write", action="store_true", help="record the figures in the model's manifest")
    ap.add_argument("--report", help="write the side-by-side table (markdown) here")
    ap.add_argument("--min", action="append", default=[], help="SET=ACCURACY: fail below (e.g. imdb_test=0.91)")
    ap.add_argument("--sweep-max-length", help="comma-separated max lengths: accuracy and speed on IMDB dev")
    args = ap.parse_args()
    if args.sweep_max_length:
        print(json.dumps(sweep_max_length(args), indent=2))
        return 0

    sets = load_sets(args.data, args.quick)
    challenge = sd.load_challenge()
    models = args.compare + [args.model]
    names = args.names.split(",") if args.names else [os.path.basename(os.path.normpath(m)) for m in models]
    if len(names) != len(models):
        sys.exit(f"--names: {len(names)} names for {len(models)} models")
    results = {}
    for model, name in zip(models, names):
        if name in results:
            name += "-" + str(len(results))
        results[name] = evaluate_model(args, model, sets, challenge)
        results[name]["_threads"] = args.threads
    base = baselines(sets)
    command = " ".join(shlex.quote(a) for a in ["tools/eval_sentiment.py"] + sys.argv[1:])
    table = markdown(results, base, command)
    print(table)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write("# Sentiment models on held-out review sets\n\n" + table)
    new = results[list(results)[-1]]
    if args.write:
        path = os.path.join(args.model, "avrec-model.json")
        manifest = json.load(open(path, encoding="utf-8"))
        manifest["accuracy"] = {"measured_by": command, "results": {k: v for k, v in new.items() if k != "_threads"},
                                "baselines": base}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"recorded in {path}")
    failed = []
    for m in args.min:
        key, threshold = m.split("=")
        figure = new[key].get("balanced_accuracy_12_vs_45", new[key]["accuracy"]) if key in new else None
        if figure is None or figure < float(threshold):
            failed.append(f"{key} {figure} < {threshold}")
    for f in failed:
        print("FAIL:", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
