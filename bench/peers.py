#!/usr/bin/env python3
"""Well-known recommenders run on avrec's splits, writing their top-N lists
in avrec's JSON Lines format, so that `avrec evaluate` scores them exactly as
it scores avrec (bench/offline_eval.py drives both).

Methods:
  ease      EASE (Steck 2019), closed form in NumPy: B = I - P/diag(P),
            P = (X^T X + lambda I)^-1 on the binary user x item matrix
  als       implicit's AlternatingLeastSquares (confidence-weighted MF)
  bpr       implicit's BayesianPersonalizedRanking
  bm25      implicit's BM25-weighted item-kNN (BM25Recommender)
  lightfm   LightFM with the WARP loss
  lightfm-tags
            LightFM with the WARP loss and item features (Kula 2015): each
            item is the sum of its own embedding and those of its tags in
            the items file (case-folded, as avrec reads them)

Every method sees what avrec's collaborative algorithms see: who reviewed
what in the training file (binary; no text, ratings or features), and
lightfm-tags also the items' tags, as avrec's EASE does with
--ease-tag-weight. Seen items are excluded; users are the training file's.

Usage (bench/.venv, made by bench/setup.sh):
  bench/.venv/bin/python bench/peers.py --train train.csv --items items.csv \\
      --method ease --param lambda=500 --top-n 20 --out recs.ease.jsonl
"""
import argparse
import csv
import json
import os
import time

import numpy as np
import scipy.sparse as sp

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def read_tags(items_path, item_ids):
    """Item features for LightFM: identity columns, then one per tag (ASCII case-folded), rows in item_ids order."""
    tags = {}
    with open(items_path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            tags[row["item_id"]] = {t.strip().translate(ASCII_LOWER) for t in (row.get("tags") or "").split("|")
                                    if t.strip()}
    names = sorted(set().union(*tags.values())) if tags else []
    col = {t: len(item_ids) + k for k, t in enumerate(names)}
    rows, cols = list(range(len(item_ids))), list(range(len(item_ids)))
    for r, i in enumerate(item_ids):
        for t in sorted(tags.get(i, ())):
            rows.append(r)
            cols.append(col[t])
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                         shape=(len(item_ids), len(item_ids) + len(names)))


def read_interactions(train, items_path):
    items = []
    with open(items_path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            items.append(row["item_id"])
    item_index = {i: k for k, i in enumerate(sorted(set(items)))}
    users, pairs = {}, set()
    with open(train, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            i = item_index.get(row["item_id"])
            if i is None:
                continue
            u = users.setdefault(row["user_id"], len(users))
            pairs.add((u, i))
    rows = [u for u, _ in sorted(pairs)]
    cols = [i for _, i in sorted(pairs)]
    x = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(item_index)))
    return x, sorted(users, key=users.get), sorted(item_index, key=item_index.get)


def ease(x, p):
    g = (x.T @ x).toarray().astype(np.float64)
    g[np.diag_indices_from(g)] += float(p.get("lambda", 500))
    inv = np.linalg.inv(g)
    b = -inv / np.diag(inv)
    np.fill_diagonal(b, 0.0)
    return np.asarray(x @ b)


def implicit_model(method, x, p, seed):
    import implicit
    threads = int(p.get("threads", 2))
    if method == "als":
        model = implicit.als.AlternatingLeastSquares(
            factors=int(p.get("factors", 64)), regularization=float(p.get("regularization", 0.01)),
            alpha=float(p.get("alpha", 1.0)), iterations=int(p.get("iterations", 15)), random_state=seed,
            num_threads=threads)
    elif method == "bpr":
        model = implicit.bpr.BayesianPersonalizedRanking(
            factors=int(p.get("factors", 64)), learning_rate=float(p.get("learning_rate", 0.01)),
            regularization=float(p.get("regularization", 0.01)), iterations=int(p.get("iterations", 100)),
            random_state=seed, num_threads=threads)
    else:
        model = implicit.nearest_neighbours.BM25Recommender(K=int(p.get("K", 100)), num_threads=threads)
    model.fit(x, show_progress=False)
    return model


def lightfm_scores(x, p, seed, item_features=None):
    from lightfm import LightFM
    model = LightFM(no_components=int(p.get("components", 64)), loss="warp", random_state=seed)
    model.fit(x.tocoo(), item_features=item_features, epochs=int(p.get("epochs", 30)),
              num_threads=int(p.get("threads", 2)))
    n_users, n_items = x.shape
    out = np.zeros((n_users, n_items), dtype=np.float64)
    items = np.arange(n_items, dtype=np.int32)
    for u in range(n_users):
        out[u] = model.predict(u, items, item_features=item_features, num_threads=1)
    return out


def top_n_from_scores(scores, x, n):
    scores = np.array(scores, dtype=np.float64)
    scores[x.nonzero()] = -np.inf  # seen items
    lists = []
    for u in range(scores.shape[0]):
        row = scores[u]
        k = min(n, int(np.isfinite(row).sum()))
        idx = np.argpartition(-row, k - 1)[:k] if k > 0 else np.array([], dtype=int)
        idx = idx[np.lexsort((idx, -row[idx]))]
        lists.append([(int(i), float(row[i])) for i in idx])
    return lists


def recommend(method, x, p, n, seed, item_features=None):
    if method == "ease":
        return top_n_from_scores(ease(x, p), x, n)
    if method in ("lightfm", "lightfm-tags"):
        return top_n_from_scores(lightfm_scores(x, p, seed, item_features), x, n)
    # implicit runs its own threads; a BLAS thread pool under them slows it
    # down (its own warning), so BLAS gets one thread here.
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, "blas"):
        model = implicit_model(method, x, p, seed)
        ids, scores = model.recommend(np.arange(x.shape[0]), x, N=n, filter_already_liked_items=True)
    return [[(int(i), float(s)) for i, s in zip(ids[u], scores[u]) if i >= 0 and np.isfinite(s)]
            for u in range(x.shape[0])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True)
    ap.add_argument("--items", required=True)
    ap.add_argument("--method", required=True, choices=["ease", "als", "bpr", "bm25", "lightfm", "lightfm-tags"])
    ap.add_argument("--param", action="append", default=[], help="NAME=VALUE")
    ap.add_argument("--top-n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    params = dict(p.split("=", 1) for p in args.param)
    x, users, items = read_interactions(args.train, args.items)
    t0 = time.time()
    features = read_tags(args.items, items) if args.method == "lightfm-tags" else None
    lists = recommend(args.method, x, params, args.top_n, args.seed, features)
    secs = time.time() - t0
    with open(args.out + ".tmp", "w", encoding="utf-8") as f:
        f.write(json.dumps({"header": {"format": "avrec-recommendations/1", "algorithm": "peer:" + args.method,
                                       "params": params, "seconds": round(secs, 3)}}) + "\n")
        for u, lst in enumerate(lists):
            f.write(json.dumps({"user_id": users[u], "items": [
                {"item_id": items[i], "rank": r + 1, "score": round(s, 6)} for r, (i, s) in enumerate(lst)]}) + "\n")
    os.replace(args.out + ".tmp", args.out)
    print(json.dumps({"method": args.method, "params": params, "seconds": round(secs, 3)}))


if __name__ == "__main__":
    main()
