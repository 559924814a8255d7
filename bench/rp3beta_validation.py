#!/usr/bin/env python3
"""RP3beta (Paudel et al. 2016; the random walk user -> item -> user -> item,
its transition probabilities raised to alpha, divided by the end item's
popularity^beta, optionally cut to each item's k strongest neighbours) beside
EASE, on the validation split only: a prototype in NumPy to decide whether the
graph recommender is worth a place in avrec (docs and figures in
bench/results/README.md). It reads fit.csv, val.csv and items.csv of a
dataset folder that bench/offline_eval.py has prepared, writes each list in
avrec's JSON Lines format and scores it with `avrec evaluate`, so the figures
are the page's validation figures. Binary interactions, as the peers see them.

  tools/.venv/bin/python bench/rp3beta_validation.py --dir bench/work/amazon
  tools/.venv/bin/python bench/rp3beta_validation.py --dir bench/work/lastfm --lambdas 50,100,200,500
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def interactions(d):
    with open(os.path.join(d, "items.csv"), encoding="utf-8", newline="") as f:
        items = sorted({r["item_id"] for r in csv.DictReader(f)})
    index, users, pairs = {x: k for k, x in enumerate(items)}, {}, set()
    with open(os.path.join(d, "fit.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["item_id"] in index:
                pairs.add((users.setdefault(r["user_id"], len(users)), index[r["item_id"]]))
    x = np.zeros((len(users), len(items)))
    for u, i in pairs:
        x[u, i] = 1.0
    return x, sorted(users, key=users.get), items


def ease(x, lam):
    g = x.T @ x
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return x @ b


def rp3beta(x, alpha, beta, k):
    p_ui = x / np.maximum(x.sum(1, keepdims=True), 1)
    p_iu = x.T / np.maximum(x.T.sum(1, keepdims=True), 1)
    w = (p_iu @ p_ui) ** alpha / np.power(np.maximum(x.sum(0), 1), beta)[None, :]
    np.fill_diagonal(w, 0.0)
    if k:
        w = np.where(w >= -np.sort(-w, 1)[:, k - 1:k], w, 0.0)
    return x @ (w / np.maximum(w.sum(1, keepdims=True), 1e-12))


def ndcg10(scores, x, users, items, d, avrec, tmp):
    scores = np.where(x > 0, -np.inf, scores)
    path = os.path.join(tmp, "recs.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for u, row in enumerate(scores):
            top = [i for i in np.lexsort((np.arange(len(row)), -row))[:20] if np.isfinite(row[i])]
            f.write(json.dumps({"user_id": users[u], "items": [
                {"item_id": items[i], "rank": r + 1, "score": float(row[i])} for r, i in enumerate(top)]}) + "\n")
    out = subprocess.run([avrec, "evaluate", "--recs", path, "--truth", os.path.join(d, "val.csv"), "--k", "10",
                          "--no-graded", "--log-level", "warn"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["ndcg@10"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="a dataset folder of bench/work with fit.csv, val.csv, items.csv")
    ap.add_argument("--lambdas", default="20,50,100", help="EASE's lambdas, comma-separated")
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    args = ap.parse_args()
    x, users, items = interactions(args.dir)
    # One score matrix at a time (users x items each; a list of them all
    # held 3.5 GB on Last.fm).
    rows = [("EASE", f"lambda {lam:g}", lambda lam=lam: ease(x, lam)) for lam in map(float, args.lambdas.split(","))]
    rows += [("RP3beta", f"alpha {a}, beta {b}, k {k or 'all'}", lambda a=a, b=b, k=k: rp3beta(x, a, b, k))
             for a in (0.5, 0.8, 1.0, 1.3, 1.6, 2.0) for b in (-0.2, 0.0, 0.2, 0.4) for k in (0, 20, 50)]
    print("| method | setting | validation ndcg@10 |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, setting, scores in rows:
            print(f"| {name} | {setting} | {ndcg10(scores(), x, users, items, args.dir, args.avrec, tmp):.4f} |",
                  flush=True)


if __name__ == "__main__":
    main()
