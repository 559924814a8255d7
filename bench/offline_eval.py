#!/usr/bin/env python3
"""First offline results on real data: every algorithm of `avrec recommend`
on three datasets from ../shared/data, evaluated by `avrec evaluate`, written
to bench/results/offline_eval.md with the exact commands.

  Amazon Digital Music  leave-last split; review text, ratings, times; also
                        varies the sentiment weighting (off, sentiment only,
                        rating only, both).
  Last.fm + Spotify     random per-user split (20 %, seed 42) of the pairs
                        matched to audio features; log(1 + plays) as rating;
                        no text.
  MovieLens small       temporal split (80 % quantile); genres and tags as
                        content; no review text.

Everything runs through the built binary (build/avrec) on files converted by
bench/convert_data.py into bench/work/ (ignored by git).

Usage: python3 bench/offline_eval.py [--avrec build/avrec] [--datasets amazon lastfm movielens]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
METRICS = ["precision", "recall", "ndcg", "map", "mrr", "hit", "coverage", "novelty", "arp", "ild"]
ALGORITHMS = ["sentiment-content", "content", "popular", "item-knn", "hybrid"]


class Runner:
    def __init__(self, avrec, work):
        self.avrec = avrec
        self.work = work
        self.commands = []

    def run(self, args, capture=False, record=True):
        cmd = [self.avrec] + args
        shown = " ".join(shlex.quote(os.path.relpath(a, ROOT) if os.path.isabs(a) else a)
                         for a in ["build/avrec"] + args)
        if record:
            self.commands.append(shown)
        res = subprocess.run(cmd + ["--log-level", "warn"], cwd=self.work, text=True,
                             stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
        if res.returncode != 0:
            sys.exit(f"failed ({res.returncode}): {shown}")
        return res.stdout


def evaluate(r, recs, relevant_min=None):
    args = ["evaluate", "--recs", recs, "--truth", "test.csv", "--k", "10", "--k", "20",
            "--train", "train.csv", "--items", "items.csv"]
    if relevant_min is not None:
        args += ["--relevant-min-rating", str(relevant_min)]
    return json.loads(r.run(args, capture=True))


GRIDS = {
    # Tuned on a validation split carved out of train (same method), never on test.
    "sentiment-content": [["--interaction-weight", str(b), "--popularity-weight", str(p)]
                          for b in (0, 0.5) for p in (0, 1, 3)],
    "hybrid": [["--hybrid-content", str(l), "--interaction-weight", str(b), "--popularity-weight", str(p)]
               for l in (0.2, 0.5, 0.8) for b in (0, 0.5) for p in (0, 1)],
}


def tune(name, r, split_args, recommend_extra, algo):
    best = None
    for extra in GRIDS[algo]:
        r.run(["recommend", "--reviews", "fit.csv", "--items", "items.csv", "--scores", "train.scores.jsonl",
               "--algorithm", algo, "--top-n", "10", "--out", "val.recs.json"] + recommend_extra + extra,
              record=False)
        m = json.loads(r.run(["evaluate", "--recs", "val.recs.json", "--truth", "val.csv", "--k", "10"],
                             capture=True, record=False))
        if best is None or m["ndcg@10"] > best[0]:
            best = (m["ndcg@10"], extra)
    print(name, algo, "validation ndcg@10", best[0], "with", " ".join(best[1]), flush=True)
    return best


def dataset(name, r, split_args, recommend_extra, variants, relevant_views):
    r.run(["split", "--reviews", "reviews.csv", "--train", "train.csv", "--test", "test.csv", "--allow-empty-text"]
          + split_args)
    # Validation: the same split applied to train.
    r.run(["split", "--reviews", "train.csv", "--train", "fit.csv", "--test", "val.csv", "--allow-empty-text"]
          + split_args)
    t0 = time.time()
    r.run(["score", "--reviews", "train.csv", "--out", "train.scores.jsonl"])
    score_secs = time.time() - t0
    tuned, best_extra = [], {}
    for algo in GRIDS:
        val, extra = tune(name, r, split_args, recommend_extra, algo)
        best_extra[algo] = extra
        tuned.append((f"{algo}, tuned ({' '.join(extra)}; validation ndcg@10 {val:.4f})", algo, extra))
    # Sentiment-weighting variants: under the default settings, and under the
    # settings tuned for sentiment-content (same everything but the weighting).
    expanded = []
    for label, algo, extra in variants:
        expanded.append((label, algo, extra))
    for label, algo, extra in variants:
        expanded.append((label + ", tuned settings", algo, best_extra["sentiment-content"] + extra))
    rows = []
    for label, algo, extra in [(a, a, []) for a in ALGORITHMS] + tuned + expanded:
        out = "recs." + "".join(c if c.isalnum() or c == "-" else "_" for c in label.split(" (")[0]) + ".json"
        t0 = time.time()
        r.run(["recommend", "--reviews", "train.csv", "--items", "items.csv", "--scores", "train.scores.jsonl",
               "--algorithm", algo, "--top-n", "20", "--out", out] + recommend_extra + extra)
        secs = time.time() - t0
        views = {view: evaluate(r, out, rmin) for view, rmin in relevant_views}
        rows.append({"label": label, "algorithm": algo, "extra": extra, "seconds": round(secs, 1), "views": views})
        print(name, label, json.dumps({v: m["ndcg@10"] for v, m in views.items()}), flush=True)
    return {"rows": rows, "score_seconds": round(score_secs, 1)}


def table(rows, view, k):
    cols = [f"{m}@{k}" for m in METRICS]
    present = [c for c in cols if c in rows[0]["views"][view]]
    lines = ["| algorithm | " + " | ".join(present) + " |", "|---|" + "---|" * len(present)]
    best = {c: max(r["views"][view][c] for r in rows) for c in present}
    for r in rows:
        cells = []
        for c in present:
            v = r["views"][view][c]
            s = f"{v:.4f}" if not c.startswith("arp") else f"{v:.1f}"
            if v == best[c] and not c.startswith(("arp", "novelty", "coverage", "ild")):
                s = f"**{s}**"
            cells.append(s)
        lines.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--datasets", nargs="*", default=["amazon", "lastfm", "movielens"])
    ap.add_argument("--out", default=os.path.join(HERE, "results", "offline_eval.md"))
    args = ap.parse_args()
    subprocess.run([sys.executable, os.path.join(HERE, "convert_data.py"), "--out", args.work] + args.datasets,
                   check=True)
    results = {}
    commands = {}
    for name in args.datasets:
        r = Runner(os.path.abspath(args.avrec), os.path.join(args.work, name))
        cache = ["--embedding-cache", "embeddings.avrec"]
        if name == "amazon":
            variants = [("sentiment weighting: off (uniform)", "sentiment-content", ["--no-sentiment", "--no-rating"]),
                        ("sentiment weighting: sentiment only", "sentiment-content", ["--no-rating"]),
                        ("sentiment weighting: rating only", "sentiment-content", ["--no-sentiment"]),
                        ("sentiment weighting: both (default)", "sentiment-content", [])]
            results[name] = dataset(name, r, ["--method", "leave-last"], cache, variants,
                                    [("all test reviews relevant", None), ("relevant = rating >= 4", 4)])
        elif name == "lastfm":
            with open(os.path.join(args.work, name, "reviews.csv"), encoding="utf-8") as f:
                next(f)
                top = max(float(line.rsplit(",", 2)[1]) for line in f)
            # log(1 + plays) in [0, top] mapped to [0, 1] (never a negative weight).
            scale = ["--rating-min", str(-top), "--rating-max", str(top), "--text-model", "none"]
            results[name] = dataset(name, r, ["--method", "random", "--fraction", "0.2", "--seed", "42"], scale, [],
                                    [("all test pairs relevant", None)])
        elif name == "movielens":
            results[name] = dataset(name, r, ["--method", "temporal", "--quantile", "0.8"], cache, [],
                                    [("all test ratings relevant", None), ("relevant = rating >= 4", 4)])
        commands[name] = r.commands
    # Datasets not re-run keep their earlier results (bench/results/offline_eval.json).
    store = os.path.splitext(args.out)[0] + ".json"
    saved = json.load(open(store)) if os.path.exists(store) else {}
    for name in results:
        saved[name] = {"result": results[name], "commands": commands[name]}
    with open(store, "w") as f:
        json.dump(saved, f, indent=1)
    order = [n for n in ("amazon", "lastfm", "movielens") if n in saved]
    write_page(args.out, {n: saved[n]["result"] for n in order}, {n: saved[n]["commands"] for n in order})
    print(f"wrote {args.out}")


TITLES = {"amazon": "Amazon Digital Music (leave-last)", "lastfm": "Last.fm + Spotify audio features (random 20 % per user)",
          "movielens": "MovieLens latest-small (temporal, 80 % quantile)"}


def write_page(path, results, commands):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    out = ["# Offline evaluation on real data", "",
           "Regenerate: `python3 bench/offline_eval.py` (needs `build/avrec` and `../shared/data`). "
           "Metric definitions: docs/metrics.md. Best accuracy value per column in bold. "
           "Top-20 lists per user; metrics at k = 10 and k = 20. \"tuned\" rows take the settings that won on a "
           "validation split carved out of train with the same method (grid in the script); test data never "
           "chose anything.", ""]
    # Summary: ndcg@10 (first relevance view) of every algorithm on every dataset.
    labels = [r["label"] for r in next(iter(results.values()))["rows"]][:len(ALGORITHMS) + len(GRIDS)]
    out += ["## Summary: ndcg@10", "", "| algorithm | " + " | ".join(TITLES[n].split(" (")[0] for n in results) + " |",
            "|---|" + "---|" * len(results)]
    for i in range(len(labels)):
        cells = []
        for n, res in results.items():
            row = res["rows"][i]
            view = next(iter(row["views"]))
            cells.append(f"{row['views'][view]['ndcg@10']:.4f}")
        out.append(f"| {labels[i].split(' (')[0]} | " + " | ".join(cells) + " |")
    out.append("")
    for name, res in results.items():
        out += [f"## {TITLES[name]}", ""]
        rows = res["rows"]
        for view in rows[0]["views"]:
            m = rows[0]["views"][view]
            out += [f"### {view} ({int(m['users_evaluated'])} users evaluated)", ""]
            for k in (10, 20):
                out += [f"k = {k}:", "", table(rows, view, k), ""]
        out += [f"Scoring the training reviews took {res['score_seconds']} s; "
                "recommendation runs: " + ", ".join(f"{r['label']} {r['seconds']} s" for r in rows) + ".", "",
                "Commands (run in bench/work/" + name + "):", "", "```sh"] + commands[name] + ["```", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
