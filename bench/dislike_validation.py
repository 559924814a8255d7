#!/usr/bin/env python3
"""How well can a user's dislike of an item be predicted, and does a softer
way of acting on the prediction than `--avoid-below` lower disliked@10?
Validation splits only (fit.csv -> val.csv, and fit2.csv -> val2.csv when
bench/validation_folds.py wrote them): a prototype study behind the
"Sentiment" part of bench/results/README.md; nothing here reads test data.

Part 1, predictors. Each validation review rated 1-2 stars (disliked) or
4-5 (liked) is scored by:
  - baseline: mu + b_user + b_item fit on the fit reviews' stars (biases
    shrunk by 3 pseudo-reviews, 10 alternating passes), as `--avoid-below`
    does; and the same on the reviews' sentiment (fit.scores.jsonl);
  - a logistic regression (L2, plain gradient descent) on 13 features of
    the user's and the item's fit reviews: shrunk mean stars, shares of 1-2
    stars, shrunk mean sentiment, counts, the user's last and lowest star,
    the user's mean star on items sharing tags with the candidate (minus
    their mean), the product of the two means, the price. It is trained on
    every fit review rated 1-2 or 4-5 with the user's earlier fit reviews as
    history and the item's other fit reviews (leave one out).
Printed: each predictor's AUC, disliked against liked.

Part 2, a soft penalty (with -- and avrec recommend options for EASE): the
EASE top 100 of each user is re-ranked by
  s_ui - lam * S_u * sigmoid((tau - r_ui) / T)
(S_u the user's top score, r_ui = mu + b_u + b_i on feelings in [-1, 1]:
stars (r - 3) / 2, or the sentiment), which reorders most for the users
whose predicted feeling is near tau, and scored by `avrec evaluate`.

  tools/.venv/bin/python bench/dislike_validation.py --dir bench/work/amazon -- \\
      --ease-lambda 50 --ease-min-support 1 --no-rating --half-life-reviews 5 --ease-tag-weight 1 \\
      --ease-session-weight 0.25 --interaction-weight 1 --quality-weight 0.5
"""
import argparse
import collections
import csv
import datetime
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHRINK = 3.0
FEATURES = ["user mean star", "user share 1-2", "item mean star", "item share 1-2", "user mean sentiment",
            "item mean sentiment", "log user reviews", "log item reviews", "user last star", "user lowest star",
            "user star on shared tags", "user x item mean", "log price"]


def seconds(stamp):
    try:
        return float(stamp)
    except ValueError:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def read_reviews(path, sentiment):
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if not r["rating"]:
                continue
            out.append({"u": r["user_id"], "i": r["item_id"], "id": r["review_id"], "star": float(r["rating"]),
                        "t": seconds(r["timestamp"]), "s": sentiment.get(r["review_id"])})
    return out


def auc(scores, disliked):
    """P(score of a disliked review > score of a liked one), ties half."""
    scores, disliked = np.asarray(scores, float), np.asarray(disliked, bool)
    order = np.sort(scores)
    lo, hi = np.searchsorted(order, scores, "left"), np.searchsorted(order, scores, "right")
    ranks = (lo + hi + 1) / 2.0  # average 1-based ranks
    n_pos, n_neg = disliked.sum(), (~disliked).sum()
    return (ranks[disliked].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def biases(reviews, value):
    """mu, b_user, b_item of value(review), shrunk by SHRINK pseudo-reviews."""
    pairs = [(r["u"], r["i"], value(r)) for r in reviews if value(r) is not None]
    mu = sum(v for _, _, v in pairs) / len(pairs)
    bu, bi = collections.defaultdict(float), collections.defaultdict(float)
    for _ in range(10):
        acc = collections.defaultdict(list)
        for u, i, v in pairs:
            acc[i].append(v - mu - bu[u])
        bi = collections.defaultdict(float, {i: sum(x) / (len(x) + SHRINK) for i, x in acc.items()})
        acc = collections.defaultdict(list)
        for u, i, v in pairs:
            acc[u].append(v - mu - bi[i])
        bu = collections.defaultdict(float, {u: sum(x) / (len(x) + SHRINK) for u, x in acc.items()})
    return lambda u, i: mu + bu[u] + bi[i]


def shrunk_mean(values, prior):
    return (sum(values) + SHRINK * prior) / (len(values) + SHRINK)


def features(history, others, item, items, prior):
    """The user's earlier reviews `history`, the item's other reviews `others`."""
    mu, mu_s, low = prior
    stars = [h["star"] for h in history]
    item_stars = [h["star"] for h in others]
    user_mean = shrunk_mean(stars, mu)
    item_mean = shrunk_mean(item_stars, mu)
    tags = items.get(item, {}).get("tags", set())
    overlap = [(h["star"], len(tags & items.get(h["i"], {}).get("tags", set())) /
                max(1, len(tags | items.get(h["i"], {}).get("tags", set())))) for h in history]
    on_tags = (sum(s * w for s, w in overlap) + SHRINK * user_mean) / (sum(w for _, w in overlap) + SHRINK)
    price = items.get(item, {}).get("price", 0.0)
    return [user_mean, shrunk_mean([s <= 2 for s in stars], low), item_mean,
            shrunk_mean([s <= 2 for s in item_stars], low),
            shrunk_mean([h["s"] for h in history if h["s"] is not None], mu_s),
            shrunk_mean([h["s"] for h in others if h["s"] is not None], mu_s),
            math.log1p(len(stars)), math.log1p(len(item_stars)), stars[-1] if stars else mu,
            min(stars) if stars else mu, on_tags - user_mean, user_mean * item_mean,
            math.log1p(price) if price > 0 else 0.0]


def logistic(x, y, l2, steps=3000, rate=1.0):
    """Weights of an L2 logistic regression on standardised x (intercept unpenalised)."""
    mean, sd = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mean) / sd, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= rate * (z.T @ (p - y) + l2 * np.r_[w[:-1], 0]) / len(y)
    return lambda xn: np.hstack([(xn - mean) / sd, np.ones((len(xn), 1))]) @ w


def predictors(fit, val, items):
    """AUC of each predictor on val's disliked (1-2) against liked (4-5) reviews."""
    mu = np.mean([r["star"] for r in fit])
    mu_s = np.mean([r["s"] for r in fit if r["s"] is not None])
    prior = (mu, mu_s, np.mean([r["star"] <= 2 for r in fit]))
    by_user, by_item = collections.defaultdict(list), collections.defaultdict(list)
    for r in fit:
        by_user[r["u"]].append(r)
        by_item[r["i"]].append(r)
    for history in by_user.values():
        history.sort(key=lambda r: (r["t"], r["id"]))
    x, y = [], []
    for history in by_user.values():
        for k, r in enumerate(history):
            if r["star"] <= 2 or r["star"] >= 4:
                others = [o for o in by_item[r["i"]] if o is not r]
                x.append(features(history[:k], others, r["i"], items, prior))
                y.append(float(r["star"] <= 2))
    held = [r for r in val if r["star"] <= 2 or r["star"] >= 4]
    disliked = [r["star"] <= 2 for r in held]
    xv = np.array([features(by_user[r["u"]], by_item[r["i"]], r["i"], items, prior) for r in held])
    star = biases(fit, lambda r: r["star"])
    feel = biases(fit, lambda r: r["s"])
    rows = [("baseline on stars", auc([-star(r["u"], r["i"]) for r in held], disliked)),
            ("baseline on sentiment", auc([-feel(r["u"], r["i"]) for r in held], disliked))]
    for l2 in (0.1, 10, 100):
        model = logistic(np.array(x), np.array(y), l2)
        rows.append((f"logistic regression, L2 {l2}", auc(model(xv), disliked)))
    # each feature alone, its direction taken from the training examples
    xt = np.array(x)
    for j, name in enumerate(FEATURES):
        sign = -1.0 if auc(-xt[:, j], np.array(y) > 0) >= 0.5 else 1.0
        rows.append((f"feature alone: {name} ({'low' if sign < 0 else 'high'} = dislike)", auc(sign * xv[:, j], disliked)))
    return rows, len(held), sum(disliked), len(y), int(sum(y))


def evaluate(avrec, recs, truth):
    out = subprocess.run([avrec, "evaluate", "--recs", recs, "--truth", truth, "--k", "10", "--log-level", "warn"],
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    return d["ndcg@10"], d["ndcg_graded@10"], d["disliked@10"]


def write_lists(path, lists):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"header": {"format": "avrec-recommendations/1", "algorithm": "ease", "top_n": 10}}) + "\n")
        for user, ranked in lists:
            f.write(json.dumps({"user_id": user, "cold_start": False, "items": [
                {"item_id": i, "rank": k + 1, "score": 0.0} for k, i in enumerate(ranked[:10])]}) + "\n")


def soft_penalty(a, fit_path, val_path, fit, ease, tmp):
    """Rows (predictor, T, tau, lam, ndcg, graded, disliked), the first the EASE lists as they are."""
    base = os.path.join(tmp, "ease.jsonl")
    subprocess.run([a.avrec, "recommend", "--reviews", fit_path, "--items", os.path.join(a.dir, "items.csv"),
                    "--scores", os.path.join(a.dir, "fit.scores.jsonl"), "--algorithm", "ease", "--top-n", "100",
                    "--format", "jsonl", "--no-explain", "--text-model", "none", "--log-level", "error", "--out",
                    base] + ease, check=True)
    users = []
    with open(base, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if "user_id" in d:
                users.append((d["user_id"], [(x["item_id"], x["score"]) for x in d["items"]]))
    out = os.path.join(tmp, "lists.jsonl")
    write_lists(out, [(u, [i for i, _ in ranked]) for u, ranked in users])
    rows = [("EASE as is", "", "", "") + evaluate(a.avrec, out, val_path)]
    for name, value in (("sentiment", lambda r: r["s"]), ("stars", lambda r: (r["star"] - 3) / 2)):
        feel = biases(fit, value)
        for temp, tau, lam in itertools.product((0.1, 0.25), (0.0, 0.2, 0.4), (0.05, 0.1, 0.2, 0.4)):
            lists = []
            for u, ranked in users:
                top = max(abs(ranked[0][1]), 1e-9) if ranked else 1.0
                scored = sorted(((s - lam * top / (1 + math.exp(-(tau - feel(u, i)) / temp)), -k, i)
                                 for k, (i, s) in enumerate(ranked)), reverse=True)
                lists.append((u, [i for _, _, i in scored]))
            write_lists(out, lists)
            rows.append((name, temp, tau, lam) + evaluate(a.avrec, out, val_path))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="a dataset folder bench/offline_eval.py prepared (Amazon)")
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("ease", nargs=argparse.REMAINDER, help="-- then avrec recommend options for EASE (part 2)")
    a = ap.parse_args()
    ease = [x for x in a.ease if x != "--"]
    sentiment = {}
    with open(os.path.join(a.dir, "fit.scores.jsonl"), encoding="utf-8") as f:  # fit2 is a part of fit
        for line in f:
            d = json.loads(line)
            sentiment[d["review_id"]] = d.get("score")
    items = {}
    with open(os.path.join(a.dir, "items.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            price = r.get("meta.price") or ""
            items[r["item_id"]] = {"tags": {t.lower() for t in r["tags"].split("|") if t and t != "CDs & Vinyl"},
                                   "price": float(price) if price else 0.0}
    tmp = tempfile.mkdtemp()
    for fold in ("", "2"):
        fit_path, val_path = os.path.join(a.dir, f"fit{fold}.csv"), os.path.join(a.dir, f"val{fold}.csv")
        if not os.path.exists(val_path):
            continue
        fit, val = read_reviews(fit_path, sentiment), read_reviews(val_path, sentiment)
        rows, n, n_dis, n_train, n_train_dis = predictors(fit, val, items)
        print(f"\n## Fold {fold or 1}: {n} validation reviews rated 1-2 or 4-5 ({n_dis} disliked); "
              f"the regression trained on {n_train} fit reviews ({n_train_dis} disliked)\n")
        print("| predictor | AUC, disliked against liked |\n|---|---|")
        for name, value in rows:
            print(f"| {name} | {value:.3f} |")
        if ease:
            rows = soft_penalty(a, fit_path, val_path, fit, ease, tmp)
            base = rows[0][4:]
            print("\n| predictor | T | tau | lam | ndcg@10 | ndcg_graded@10 | disliked@10 |\n|---|---|---|---|---|---|---|")
            for name, temp, tau, lam, ndcg, graded, disliked in rows:
                print(f"| {name} | {temp} | {tau} | {lam} | {ndcg:.4f} ({100 * (ndcg / base[0] - 1):+.1f} %) | "
                      f"{graded:.4f} ({graded - base[1]:+.4f}) | {disliked:.4f} "
                      f"({100 * (disliked / base[2] - 1) if base[2] else 0:+.0f} %) |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
