#!/usr/bin/env python3
"""Offline evaluation on real data: avrec's algorithms and well-known peers
(bench/peers.py: EASE in NumPy, implicit's ALS, BPR and BM25 item-kNN,
LightFM WARP) on the same splits, every list scored by `avrec evaluate`.
Writes bench/results/offline_eval.md (+ .json) with the commands.

  Amazon Digital Music  leave-last split; review text, ratings, times. Also
                        the sentiment study (uniform / rating / sentiment /
                        both weightings) and a ratings-free run (ratings
                        hidden; graded relevance from the test reviews'
                        sentiment).
  Last.fm + Spotify     random 20 % of each user's pairs (seed 42); log plays
                        as rating; no text.
  MovieLens small       per-user temporal split: each user's latest 20 % of
                        ratings (at least one) are test.

Every hyperparameter is chosen on a validation split carved out of train by
the same method (fit / val); the chosen setting is then trained on all of
train and evaluated once on test. Confidence intervals: paired bootstrap over
the evaluated users (2,000 resamples, 95 %).

Usage:
  bench/setup.sh                       # tools/.venv, bench/.venv (peers), build
  python3 bench/offline_eval.py [--datasets amazon lastfm movielens]
"""
import argparse
import csv
import json
import os
import random
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
PEERS_PY = os.path.join(HERE, ".venv", "bin", "python")

DATASETS = {
    "amazon": {"title": "Amazon Digital Music (leave-last)", "split": ["--method", "leave-last"],
               "evaluate": [], "text": True, "times": True},
    "lastfm": {"title": "Last.fm + Spotify audio features (random 20 % per user)",
               "split": ["--method", "random", "--fraction", "0.2", "--seed", "42"], "evaluate": ["--no-graded"],
               "text": False},
    "movielens": {"title": "MovieLens latest-small (per-user temporal, latest 20 %)",
                  "split": ["--method", "user-temporal", "--fraction", "0.2"],
                  "evaluate": ["--grade-rating-min", "0.5", "--grade-rating-max", "5"], "text": False,
                  "times": True},
}


def grid(**axes):
    """Cartesian product of option axes -> list of extra-argument lists."""
    out = [[]]
    for flag, values in axes.items():
        out = [o + [flag, str(v)] for o in out for v in values]
    return out


def with_weightings(candidates, text):
    """Each candidate with and without preference weights (chosen on validation like any setting)."""
    off = ["--no-sentiment", "--no-rating"] if text else ["--no-rating"]
    return candidates + [c + off for c in candidates]


def avrec_methods(text, weighting_axis=True):
    methods = [
        ("popular", "popular", [[]]),
        ("item-knn", "item-knn", grid(**{"--knn-neighbors": [10, 20, 50, 100, 200]})),
        ("content", "content", grid(**{"--popularity-weight": [0, 1, 3]})),
        ("sentiment-content", "sentiment-content",
         grid(**{"--interaction-weight": [0, 0.5], "--popularity-weight": [0, 1, 3]})),
        ("ease", "ease", grid(**{"--ease-lambda": [10, 50, 200, 500, 1000], "--ease-min-support": [1, 3, 5, 10]})),
        ("als", "als", grid(**{"--als-factors": [64, 128], "--als-regularization": [0.1, 1.0],
                               "--als-alpha": [1, 10, 40], "--als-cg-steps": [1, 3]})),
    ]
    if not text:
        methods = [m for m in methods if m[0] != "sentiment-content"]
    if weighting_axis:
        methods = [(label, algo, with_weightings(c, text) if algo in ("item-knn", "ease", "als") else c)
                   for label, algo, c in methods]
    return methods


LIGHTFM_GRID = [[f"components={c}", f"epochs={e}"] for c in (32, 64) for e in (20, 50)]
PEER_GRIDS = {
    "ease": [["lambda=" + str(v)] for v in (10, 50, 200, 500, 1000)],
    "als": [[f"factors={f}", f"regularization={r}", f"alpha={a}"] for f in (64, 128) for r in (0.01, 0.1)
            for a in (1, 10, 40)],
    "bpr": [[f"factors={f}", f"learning_rate={lr}"] for f in (64, 128) for lr in (0.01, 0.05)],
    "bm25": [[f"K={k}"] for k in (20, 50, 100, 200)],
    "lightfm": LIGHTFM_GRID,
    # LightFM with the items' tags as features, where items have tags (avrec's EASE reads them too).
    "lightfm-tags": LIGHTFM_GRID,
}


class Runner:
    """Runs avrec and the peers in a dataset's work folder, recording commands."""

    def __init__(self, avrec, work):
        self.avrec, self.work, self.commands = avrec, work, []

    def _run(self, cmd, shown, capture, record):
        if record:
            self.commands.append(shown)
        res = subprocess.run(cmd, cwd=self.work, text=True, stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
        if res.returncode != 0:
            sys.exit(f"failed ({res.returncode}): {shown}")
        return res.stdout

    def avrec_cmd(self, args, capture=False, record=True):
        shown = " ".join(shlex.quote(a) for a in ["build/avrec"] + args)
        return self._run([self.avrec] + args + ["--log-level", "warn"], shown, capture, record)

    def peer(self, args, record=True):
        shown = " ".join(shlex.quote(a) for a in ["bench/.venv/bin/python", "bench/peers.py"] + args)
        return self._run([PEERS_PY, os.path.join(HERE, "peers.py")] + args, shown, True, record)

    def evaluate(self, recs, truth, train, extra, per_user=None, record=True):
        args = ["evaluate", "--recs", recs, "--truth", truth, "--k", "10", "--k", "20", "--train", train,
                "--items", "items.csv"] + extra
        if per_user:
            args += ["--per-user", per_user]
        return json.loads(self.avrec_cmd(args, capture=True, record=record))


def bootstrap(a, b, seed=7, n=2000):
    """Paired bootstrap of mean(b) - mean(a) over users: (diff, lo, hi)."""
    users = sorted(set(a) & set(b))
    d = [b[u] - a[u] for u in users]
    if not d:
        return 0.0, 0.0, 0.0
    rng = random.Random(seed)
    means = sorted(sum(d[rng.randrange(len(d))] for _ in d) / len(d) for _ in range(n))
    return sum(d) / len(d), means[int(0.025 * n)], means[int(0.975 * n) - 1]


def bootstrap_relative(a, b, seed=7, n=2000):
    """Paired bootstrap of the relative change of the mean, 100 (mean(b) / mean(a) - 1) %, over users: (change, lo,
    hi); resamples where mean(a) is 0 are left out. For metrics where a few users decide (disliked@k)."""
    users = sorted(set(a) & set(b))
    pairs = [(a[u], b[u]) for u in users]
    if not pairs or sum(x for x, _ in pairs) == 0:
        return 0.0, 0.0, 0.0
    rng = random.Random(seed)
    changes = []
    for _ in range(n):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        base = sum(x for x, _ in sample)
        if base > 0:
            changes.append(100.0 * (sum(y for _, y in sample) / base - 1))
    changes.sort()
    k = len(changes)
    change = 100.0 * (sum(y for _, y in pairs) / sum(x for x, _ in pairs) - 1)
    return change, changes[int(0.025 * k)], changes[int(0.975 * k) - 1]


def paired(work, ref, row, metric):
    """bootstrap() of `row` minus `ref` (two result rows) on a per-user metric."""
    return bootstrap(per_user(os.path.join(work, ref["per_user"]), metric),
                     per_user(os.path.join(work, row["per_user"]), metric))


def paired_relative(work, ref, row, metric):
    """bootstrap_relative() of `row` against `ref` (two result rows) on a per-user metric."""
    return bootstrap_relative(per_user(os.path.join(work, ref["per_user"]), metric),
                              per_user(os.path.join(work, row["per_user"]), metric))


def same_algorithm(study, row, weighting="uniform"):
    """The row of `row`'s algorithm with `weighting` in a weighting study."""
    return next(x for x in study if x["algorithm"] == row["algorithm"] and x["weighting"] == weighting)


def per_user(path, metric):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get(metric) is not None:
                out[r["user_id"]] = r[metric]
    return out


# Recency (--half-life-reviews, docs/model.md section 2), tuned as a second
# stage on top of the grid's three best settings where the reviews have
# times: a full product with every grid would multiply the runs by four.
RECENCY = (2, 5, 10)
# The quality term's weight (docs/model.md section 3): what every reviewer
# felt about an item scales its score by 1 + q x their mean feeling.
QUALITY = (0.5, 1, 2)
# EASE's session term (docs/model.md section 6): pairs of items one user
# reviewed close together in time, this much against the model's own weights.
SESSION = (0.25, 0.5, 1)
# The tag terms of EASE and ALS (docs/model.md section 6): each tag of the
# items file counts as this many users who reviewed every item carrying it
# (EASE), or as a pseudo-user who reviewed them with this value (ALS).
TAGS = (0.3, 1, 3)
# Predicted dislikes (docs/model.md section 3): candidates whose predicted
# feeling mu + b_u + b_i is below this rank after the others.
AVOID = (0.1, 0.2, 0.3)
STAGE_ALGOS = ("item-knn", "content", "sentiment-content", "ease", "als", "hybrid")
STAGE_FLAGS = {"--half-life-reviews", "--quality-weight", "--ease-session-weight", "--ease-tag-weight",
               "--als-tag-weight", "--knn-tag-weight", "--avoid-below"}


class Dataset:
    def __init__(self, name, runner, recommend_extra, evaluate_extra, times, text, tags):
        self.name, self.r = name, runner
        self.rec_extra, self.eval_extra = recommend_extra, evaluate_extra
        self.times, self.text, self.tags = times, text, tags
        self.metric = "ndcg@10"  # what validation maximises

    def split(self, split_args, reviews="reviews.csv", prefix=""):
        self.r.avrec_cmd(["split", "--reviews", reviews, "--train", prefix + "train.csv", "--test",
                          prefix + "test.csv", "--allow-empty-text"] + split_args)
        self.r.avrec_cmd(["split", "--reviews", prefix + "train.csv", "--train", prefix + "fit.csv", "--test",
                          prefix + "val.csv", "--allow-empty-text"] + split_args)

    def run_avrec(self, algo, extra, train, out, scores, record):
        args = ["recommend", "--reviews", train, "--items", "items.csv", "--algorithm", algo, "--top-n", "20",
                "--out", out, "--no-explain"] + self.rec_extra + extra
        if scores:
            args += ["--scores", scores]
        t0 = time.time()
        self.r.avrec_cmd(args, record=record)
        return time.time() - t0

    def run_peer(self, method, params, train, out, record):
        args = ["--train", train, "--items", "items.csv", "--method", method, "--top-n", "20", "--out", out]
        for p in params:
            args += ["--param", p]
        t0 = time.time()
        self.r.peer(args, record=record)
        return time.time() - t0

    def ranked(self, run, candidates, scores, truth="val.csv", train="fit.csv"):
        """Every candidate as (validation metric, extra), best first (ties in candidate order)."""
        out = []
        for k, extra in enumerate(candidates):
            run(extra, train, "val.recs.jsonl", scores, False)
            m = self.r.evaluate("val.recs.jsonl", truth, train, self.eval_extra, record=False)
            out.append((-m[self.metric], k, extra))
        return [(-v, extra) for v, _, extra in sorted(out)]

    def tune(self, run, candidates, scores, truth="val.csv", train="fit.csv"):
        """The candidate with the best validation ndcg@10: (ndcg@10, extra)."""
        return self.ranked(run, candidates, scores, truth, train)[0]

    def tune_stages(self, algo, run, candidates, scores, truth="val.csv", train="fit.csv", convert_uniform=False):
        """tune(), then stages on validation on top of the best settings so far (a full product with every
        grid would multiply the runs many times): recency (--half-life-reviews) on the grid's three best, where
        the reviews have times (the best of one setting need not be the best with a decay: on MovieLens,
        uniform EASE gains more from it than star-weighted EASE); where items have tags, EASE's tag term
        (--ease-tag-weight) on the three best EASE settings so far, ALS's (--als-tag-weight) on the three
        best ALS settings so far and item-knn's (--knn-tag-weight) on the three best item-knn settings so far;
        where reviews have times, EASE's session
        term (--ease-session-weight) on the three best EASE settings so far; then the crowd's feeling (--quality-weight,
        docs/model.md section 3) on the three best of those, for settings that read feelings, each also with
        the user's own reviews counted uniformly (--interaction-weight 1); last, predicted dislikes held back
        (--avoid-below, docs/model.md section 3) on the three best so far that read feelings. With
        `convert_uniform` (the method rows, which choose the weighting too), a uniform setting is also tried
        with feelings read only by the quality term or the rule. Returns (validation ndcg@10, extra, the grid's choice without the stages and its
        validation ndcg@10)."""
        pool = self.ranked(run, candidates, scores, truth, train)
        plain = pool[0]
        if algo not in STAGE_ALGOS or any(STAGE_FLAGS & set(c) for c in candidates):
            return plain[0], plain[1], plain
        pool = pool[:3]

        def best_of(flag):
            return [e for _, e in sorted(pool, key=lambda p: -p[0]) if flag in e][:3]

        if self.times:
            pool += self.ranked(run, [e + ["--half-life-reviews", str(h)] for _, e in pool for h in RECENCY],
                                scores, truth, train)
        if self.tags:
            pool += self.ranked(run, [e + ["--ease-tag-weight", str(t)] for e in best_of("--ease-lambda")
                                      for t in TAGS] +
                                [e + ["--als-tag-weight", str(t)] for e in best_of("--als-factors") for t in TAGS] +
                                [e + ["--knn-tag-weight", str(t)] for e in best_of("--knn-neighbors") for t in TAGS],
                                scores, truth, train)
        if self.times:
            pool += self.ranked(run, [e + ["--ease-session-weight", str(w)] for e in best_of("--ease-lambda")
                                      for w in SESSION],
                                scores, truth, train)
        top = sorted(pool, key=lambda p: -p[0])[:3]
        felt = [v for _, e in top for v in self.feeling_variants(e, convert_uniform)]
        pool += self.ranked(run, [e + ["--quality-weight", str(q)] for e in felt for q in QUALITY], scores, truth,
                            train)
        top = sorted(pool, key=lambda p: -p[0])[:3]
        felt = [v for _, e in top for v in (self.feeling_variants(e, convert_uniform)[:1] if self.reads_feelings(e)
                                            else self.feeling_variants(e, convert_uniform))]
        pool += self.ranked(run, [e + ["--avoid-below", str(t)] for e in felt for t in AVOID], scores, truth, train)
        best = max(pool, key=lambda p: p[0])  # the first of equals: the grid's choice wins a tie
        return best[0], best[1], plain

    def reads_feelings(self, extra):
        """Whether the reviews of setting `extra` carry a feeling (sentiment or rating not both off)."""
        feelings = ("--no-sentiment", "--no-rating") if self.text else ("--no-rating",)
        return not all(f in extra for f in feelings)

    def feeling_variants(self, extra, convert_uniform):
        """`extra` as settings whose reviews carry a feeling for the quality term: itself where it reads one,
        and with uniform interactions (--interaction-weight 1, replacing any other); a uniform setting, only
        with `convert_uniform`, as each feeling read by the quality term alone."""
        feelings = ("--no-sentiment", "--no-rating") if self.text else ("--no-rating",)
        if not self.reads_feelings(extra):
            if not convert_uniform:
                return []
            rest = without_option([a for a in extra if a not in feelings], "--interaction-weight")
            keep = [[f for f in feelings if f != on] for on in feelings] + ([[]] if self.text else [])
            return [rest + k + ["--interaction-weight", "1"] for k in keep]
        return [extra, without_option(extra, "--interaction-weight") + ["--interaction-weight", "1"]]

    def final(self, label, run, extra, scores, prefix=""):
        out = f"recs.{label}.jsonl"
        secs = run(extra, prefix + "train.csv", out, scores, True)
        pu = f"per_user.{label}.jsonl"
        m = self.r.evaluate(out, prefix + "test.csv", prefix + "train.csv", self.eval_extra, per_user=pu)
        return {"label": label, "extra": extra, "seconds": round(secs, 2), "metrics": m, "per_user": pu}


def without_option(extra, flag):
    """`extra` less `flag` and its value."""
    out, skip = [], False
    for a in extra:
        if not skip and a == flag:
            skip = True
            continue
        if not skip:
            out.append(a)
        skip = False
    return out


def stage_row(ds, label, run, plain, row, scores):
    """The same method without the stages, when they changed the choice (for the page)."""
    if plain[1] == row["extra"]:
        return None
    out = ds.final(label + "-grid", run, plain[1], scores)
    out["validation_ndcg@10"] = plain[0]
    out["with_stages"] = row["label"]
    return out


def method_rows(ds, text, scores):
    rows, stages = [], []
    fit_scores = scores.replace("train", "fit") if scores else None

    def method(label, algo, candidates):
        run = lambda e, t, o, s, rec: ds.run_avrec(algo, e, t, o, s, rec)  # noqa: E731
        val, extra, plain = ds.tune_stages(algo, run, candidates, fit_scores, convert_uniform=True)
        row = ds.final("avrec-" + label, run, extra, scores)
        row["validation_ndcg@10"], row["grid_extra"] = val, plain[1]
        rows.append(row)
        stages.append(stage_row(ds, "avrec-" + label, run, plain, row, scores))
        print(ds.name, row["label"], extra, round(row["metrics"]["ndcg@10"], 4), flush=True)

    for label, algo, candidates in avrec_methods(text):
        method(label, algo, candidates)
    # hybrid: content plus the collaborative part, as the grid chose them
    # (the stages are tuned on top of the hybrid's own grid, as for every method).
    best_collab = {r["label"][6:]: r["grid_extra"] for r in rows if r["label"] in ("avrec-item-knn", "avrec-ease")}
    base = "sentiment-content" if text else "content"
    content_extra = next(r["grid_extra"] for r in rows if r["label"] == "avrec-" + base)
    candidates = [content_extra + best_collab[w] + ["--hybrid-with", w, "--hybrid-content", str(l)]
                  for w in best_collab for l in (0.1, 0.3, 0.5)]
    if not text:
        candidates = [c + ["--no-sentiment"] for c in candidates]
    method("hybrid", "hybrid", candidates)
    # The sentiment study weighs the hybrid's both parts alike: its grid without the weighting options.
    ds.hybrid_grid = [without_option([a for a in c if a not in ("--no-sentiment", "--no-rating")],
                                     "--interaction-weight") for c in candidates]
    for method, candidates in PEER_GRIDS.items():
        if method == "lightfm-tags" and not ds.tags:
            continue
        run = lambda e, t, o, s, rec, m=method: ds.run_peer(m, e, t, o, rec)  # noqa: E731
        val, extra = ds.tune(run, candidates, None)
        row = ds.final("peer-" + method, run, extra, None)
        row["validation_ndcg@10"] = val
        rows.append(row)
        print(ds.name, row["label"], extra, round(row["metrics"]["ndcg@10"], 4), flush=True)
    return rows, [r for r in stages if r]


# β of p_k <- β + (1 - β) p_k in the preference-weighted rows (0: the
# preference alone; uniform weights are β = 1).
INTERACTION_WEIGHTS = (0, 0.5, 0.9)
WEIGHTINGS = [("uniform", ["--no-sentiment", "--no-rating"]), ("rating only", ["--no-sentiment"]),
              ("sentiment only", ["--no-rating"]), ("sentiment + rating", [])]


def sentiment_study(ds, algos, scores, prefix="", weightings=WEIGHTINGS, truth_scores=None, metric="ndcg@10",
                    label=""):
    """Each algorithm under each weighting, each tuned on validation `metric`."""
    out = []
    eval_extra = ds.eval_extra
    ds.metric = metric
    if truth_scores:
        ds.eval_extra = eval_extra + ["--truth-scores", truth_scores]
    for name, algo, candidates in algos:
        for wname, wargs in weightings:
            run = lambda e, t, o, s, rec, a=algo: ds.run_avrec(a, e, t, o, s, rec)  # noqa: E731
            cands = [c + wargs for c in candidates]
            if wargs != WEIGHTINGS[0][1] and not any("--interaction-weight" in c for c in candidates):
                # How much a review's preference counts against the mere
                # interaction (docs/model.md section 2), chosen like any setting.
                # (On MovieLens the uniform row is only --no-rating, so it gets
                # β too; without text or ratings every β gives the same lists.)
                cands = [c + ["--interaction-weight", str(b)] for c in cands for b in INTERACTION_WEIGHTS]
            val, extra, _ = ds.tune_stages(algo, run, cands, scores.replace("train", "fit") if scores else None,
                                           truth=prefix + "val.csv", train=prefix + "fit.csv")
            tag = f"{label}{prefix}{name}-{wname.replace(' ', '').replace('+', '-')}"
            row = ds.final(tag, run, extra, scores, prefix=prefix)
            row.update({"algorithm": name, "weighting": wname, "validation_" + metric: val})
            out.append(row)
            m = row["metrics"]
            print(ds.name, tag, round(m["ndcg@10"], 4), round(m.get("ndcg_graded@10") or 0, 4),
                  round(m.get("disliked@10") or 0, 4), flush=True)
    ds.eval_extra = eval_extra
    ds.metric = "ndcg@10"
    return out


def strip_ratings(src, dst):
    with open(src, encoding="utf-8", newline="") as f, open(dst, "w", encoding="utf-8", newline="") as g:
        rd = csv.DictReader(f)
        fields = [c for c in rd.fieldnames if c != "rating"]
        w = csv.DictWriter(g, fields)
        w.writeheader()
        for row in rd:
            w.writerow({k: row[k] for k in fields})


def run_dataset(name, avrec, work):
    spec = DATASETS[name]
    r = Runner(avrec, os.path.join(work, name))
    rec_extra = ["--embedding-cache", "embeddings.avrec"] if name != "lastfm" else ["--text-model", "none"]
    if name == "lastfm":
        with open(os.path.join(work, name, "reviews.csv"), encoding="utf-8") as f:
            next(f)
            top = max(float(line.rsplit(",", 2)[1]) for line in f)
        rec_extra += ["--rating-min", str(-top), "--rating-max", str(top)]
    with open(os.path.join(work, name, "items.csv"), encoding="utf-8", newline="") as f:
        tags = any(row.get("tags") for row in csv.DictReader(f))
    ds = Dataset(name, r, rec_extra, spec["evaluate"], spec.get("times", False), spec["text"], tags)
    ds.split(spec["split"])
    result = {"title": spec["title"]}
    scores = None
    if spec["text"]:
        t0 = time.time()
        r.avrec_cmd(["score", "--reviews", "train.csv", "--out", "train.scores.jsonl"])
        r.avrec_cmd(["score", "--reviews", "fit.csv", "--out", "fit.scores.jsonl"])
        result["score_seconds"] = round(time.time() - t0, 1)
        scores = "train.scores.jsonl"
    result["rows"], result["stages"] = method_rows(ds, spec["text"], scores)
    if name == "amazon":
        studied = [m for m in avrec_methods(True, weighting_axis=False)
                   if m[0] in ("sentiment-content", "item-knn", "ease", "als")]
        studied.append(("hybrid", "hybrid", ds.hybrid_grid))
        result["sentiment"] = sentiment_study(ds, studied, scores)
        # The same study tuned on what the target is about: validation
        # ndcg_graded@10 (stars grade the validation reviews).
        result["sentiment_graded"] = sentiment_study(ds, studied, scores, metric="ndcg_graded@10", label="g-",
                                                     weightings=[WEIGHTINGS[0], WEIGHTINGS[2], WEIGHTINGS[3]])
        # Ratings-free: no stars anywhere; graded relevance from the test
        # reviews' sentiment.
        for f in ("train", "test", "fit", "val"):
            strip_ratings(os.path.join(r.work, f + ".csv"), os.path.join(r.work, "nr-" + f + ".csv"))
        r.avrec_cmd(["score", "--reviews", "nr-test.csv", "--out", "nr-test.scores.jsonl"])
        result["ratings_free"] = sentiment_study(
            ds, studied, scores, prefix="nr-", weightings=[WEIGHTINGS[0], WEIGHTINGS[2]],
            truth_scores="nr-test.scores.jsonl")
    if name == "movielens":
        # Stars as the preference (no text here): the same mechanism that
        # carries sentiment, on data where users often rate what they watch
        # low.
        studied = [m for m in avrec_methods(False, weighting_axis=False) if m[0] in ("item-knn", "ease", "als")]
        result["rating_study"] = sentiment_study(ds, studied, None,
                                                 weightings=[("uniform", ["--no-rating"]), ("rating", [])])
    result["commands"] = r.commands
    return result


# ---- the page ----------------------------------------------------------------------------

def fmt(v, digits=4):
    return "" if v is None else f"{v:.{digits}f}"


def graded_cells(m):
    """ndcg_graded@10, disliked@10 and pairwise_auc; a metric no user qualifies for is n/a, not 0."""
    auc = fmt(m.get("pairwise_auc")) if m.get("users_auc", 1) else "n/a"
    dis = fmt(m.get("disliked@10")) if m.get("users_with_disliked", 1) else "n/a"
    return [fmt(m.get("ndcg_graded@10")), dis, auc]


def comparison_table(res, work):
    rows = res["rows"]
    best_peer = max((r for r in rows if r["label"].startswith("peer-")), key=lambda r: r["metrics"]["ndcg@10"])
    graded = "ndcg_graded@10" in rows[0]["metrics"]
    head = "| method | chosen on validation | ndcg@10 | recall@10 | ndcg@10 vs best peer (95 % CI)"
    head += " | ndcg_graded@10 | disliked@10 | pairwise_auc" if graded else ""
    head += " | train + recommend s |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        m = r["metrics"]
        d, lo, hi = paired(work, best_peer, r, "ndcg@10")
        cells = [r["label"], " ".join(r["extra"]) or "-", fmt(m["ndcg@10"]), fmt(m["recall@10"]),
                 "(reference)" if r is best_peer else f"{d:+.4f} ({lo:+.4f} .. {hi:+.4f})"]
        if graded:
            cells += graded_cells(m)
        cells.append(f"{r['seconds']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return best_peer, "\n".join(lines)


def study_table(rows, work):
    lines = ["| algorithm | weighting | ndcg@10 | ndcg_graded@10 (vs uniform, 95 % CI) | disliked@10 | pairwise_auc |"
             " chosen on validation |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["metrics"]
        uni = same_algorithm(rows, r)
        d, lo, hi = paired(work, uni, r, "ndcg_graded@10")
        vs = "" if r is uni else f" ({d:+.4f}, {lo:+.4f} .. {hi:+.4f})"
        graded, dis, auc = graded_cells(m)
        lines.append(f"| {r['algorithm']} | {r['weighting']} | {fmt(m['ndcg@10'])} | {graded}{vs} | {dis} | {auc} | "
                     f"{' '.join(r['extra'])} |")
    return "\n".join(lines)


def options(extra):
    """An argument list as {flag: value}; a flag without a value maps to None."""
    out, k = {}, 0
    while k < len(extra):
        has_value = k + 1 < len(extra) and not extra[k + 1].startswith("--")
        out[extra[k]] = extra[k + 1] if has_value else None
        k += 2 if has_value else 1
    return out


def stage_change(plain, final):
    """What the stages changed in a grid setting, as options: added or changed ones, then 'without' removed ones."""
    a, b = options(plain), options(final)
    added = [f if v is None else f"{f} {v}" for f, v in b.items() if f not in a or a[f] != v]
    return " ".join(added + [f"without {f}" for f in a if f not in b])


def stages_table(res, work):
    """Each method whose validation chose a stage setting, against its grid choice without the stages."""
    by_label = {r["label"]: r for r in res["rows"]}
    lines = ["| method | the stages added | validation ndcg@10 grid / with stages | test ndcg@10 grid / with stages "
             "| change (95 % CI) |", "|---|---|---|---|---|"]
    for plain in res.get("stages", []):
        row = by_label[plain["with_stages"]]
        d, lo, hi = paired(work, plain, row, "ndcg@10")
        lines.append(f"| {row['label']} | {stage_change(plain['extra'], row['extra'])} | "
                     f"{plain['validation_ndcg@10']:.4f} / {row['validation_ndcg@10']:.4f} | "
                     f"{fmt(plain['metrics']['ndcg@10'])} / {fmt(row['metrics']['ndcg@10'])} | "
                     f"{d:+.4f} ({lo:+.4f} .. {hi:+.4f}) |")
    return "\n".join(lines)


def pct(new, old):
    return 100.0 * (new - old) / old if old else 0.0


def targets_section(results, work):
    """The issue's targets, each with its figures: avrec's best (chosen on validation) against the best peer, and
    on Amazon, preference weighting against uniform weights."""
    lines = ["## Targets", "",
             "avrec's best: of every avrec row below (weightings included), the one with the highest validation "
             "ndcg@10; best peer: the peer row with the highest test ndcg@10 (the hardest reference).", "",
             "| dataset | avrec's best (validation ndcg@10) | test ndcg@10 | best peer, test ndcg@10 | avrec - peer "
             "(95 % CI) | reached | avrec s | fastest peer s | time ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        wdir = os.path.join(work, name)
        rows = [r for r in res["rows"] if r["label"].startswith("avrec-")] + res.get("sentiment", []) + \
            res.get("rating_study", [])
        rows = [r for r in rows if r.get("validation_ndcg@10") is not None]
        peers = [r for r in res["rows"] if r["label"].startswith("peer-")]
        if not rows or not peers:
            continue
        best = max(rows, key=lambda r: r["validation_ndcg@10"])
        peer = max(peers, key=lambda r: r["metrics"]["ndcg@10"])
        fastest = min(peers, key=lambda r: r["seconds"])
        d, lo, hi = paired(wdir, peer, best, "ndcg@10")
        a, p = best["metrics"]["ndcg@10"], peer["metrics"]["ndcg@10"]
        lines.append(f"| {name} | {best['label']} {' '.join(best['extra'])} ({best['validation_ndcg@10']:.4f}) | "
                     f"{a:.4f} | {peer['label']} {p:.4f} | {d:+.4f} ({lo:+.4f} .. {hi:+.4f}) | "
                     f"{'yes' if a >= p else 'no'} | {best['seconds']:.2f} | {fastest['label']} "
                     f"{fastest['seconds']:.2f} | {best['seconds'] / max(fastest['seconds'], 1e-9):.2f} |")
    lines += ["", "Preference weighting against uniform weights, same algorithm, each tuned on validation "
              "(target, on Amazon: ndcg_graded@10 higher, disliked@10 at least 20 % lower, ndcg@10 at most 1 % "
              "lower; ratings-free: ndcg_graded@10 higher; MovieLens, stars as the preference, for comparison):", "",
              "| dataset, run | algorithm | weighting | ndcg@10 change | ndcg_graded@10 change (95 % CI) | "
              "disliked@10 change (95 % CI) | met |", "|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        wdir = os.path.join(work, name)
        for run, key, weightings in (("with stars", "sentiment", ("sentiment + rating", "sentiment only")),
                                     ("with stars, tuned on graded", "sentiment_graded",
                                      ("sentiment + rating", "sentiment only")),
                                     ("ratings-free", "ratings_free", ("sentiment only",)),
                                     ("stars", "rating_study", ("rating",))):
            if key not in res:
                continue
            run = f"{name}, {run}"
            study = res[key]
            for r in study:
                if r["weighting"] not in weightings:
                    continue
                uni = same_algorithm(study, r)
                m, u = r["metrics"], uni["metrics"]
                d, lo, hi = paired(wdir, uni, r, "ndcg_graded@10")
                dn, dd = pct(m["ndcg@10"], u["ndcg@10"]), pct(m.get("disliked@10") or 0, u.get("disliked@10") or 0)
                _, dlo, dhi = paired_relative(wdir, uni, r, "disliked@10")
                if key != "ratings_free":
                    met = d > 0 and dd <= -20 and dn >= -1
                else:
                    met = d > 0
                lines.append(f"| {run} | {r['algorithm']} | {r['weighting']} | {dn:+.1f} % | {d:+.4f} ({lo:+.4f} .. "
                             f"{hi:+.4f}) | {dd:+.1f} % ({dlo:+.0f} .. {dhi:+.0f} %) | {'yes' if met else 'no'} |")
    # Where the reviews have both stars and text: what the text's sentiment
    # adds to the stars (sentiment + rating against rating only).
    added = []
    for name, res in results.items():
        wdir = os.path.join(work, name)
        study = res.get("sentiment", [])
        for r in study:
            if r["weighting"] != "sentiment + rating":
                continue
            base = same_algorithm(study, r, "rating only")
            m, b = r["metrics"], base["metrics"]
            dn, lon, hin = paired(wdir, base, r, "ndcg@10")
            d, lo, hi = paired(wdir, base, r, "ndcg_graded@10")
            added.append(f"| {name} | {r['algorithm']} | {pct(m['ndcg@10'], b['ndcg@10']):+.1f} % ({dn:+.4f}, "
                         f"{lon:+.4f} .. {hin:+.4f}) | {d:+.4f} ({lo:+.4f} .. {hi:+.4f}) | "
                         f"{pct(m.get('disliked@10', 0), b.get('disliked@10', 0)):+.1f} % |")
    if added:
        lines += ["", "What the reviews' sentiment adds to their stars: sentiment + rating against rating only, "
                  "same algorithm, each tuned on validation:", "",
                  "| dataset | algorithm | ndcg@10 change (95 % CI) | ndcg_graded@10 change (95 % CI) | "
                  "disliked@10 change |", "|---|---|---|---|---|"] + added
    return lines + [""]


def write_page(path, results, work):
    out = ["# Offline evaluation on real data", "",
           "Regenerate: `bench/setup.sh && python3 bench/offline_eval.py` (needs `../shared/data`). Metric "
           "definitions: docs/metrics.md. Top-20 lists; every setting chosen on a validation split carved out of "
           "train with the same method, then trained on all of train and evaluated once on test. Intervals: "
           "paired bootstrap over evaluated users (2,000 resamples, 95 %); for a relative change (disliked@10), of "
           "the ratio of the two means over the users the metric evaluates. Times: one run of train + recommend on "
           "this machine (2 cores), avrec's including process start and file I/O; avrec's lists are written with "
           "`--no-explain` (the peers write no reasons either).", ""]
    out += targets_section(results, work)
    for name, res in results.items():
        wdir = os.path.join(work, name)
        best_peer, table = comparison_table(res, wdir)
        users = int(res["rows"][0]["metrics"]["users_evaluated"])
        m0 = res["rows"][0]["metrics"]
        counts = (f" Of them {int(m0['users_graded'])} have a test item with positive gain (ndcg_graded), "
                  f"{int(m0['users_with_disliked'])} one they disliked (disliked@k), {int(m0['users_auc'])} both a "
                  "liked and a disliked one (pairwise_auc).") if "users_graded" in m0 else ""
        out += [f"## {res['title']}", "", f"{users} users evaluated; best peer by test ndcg@10: "
                f"{best_peer['label']}.{counts}", "", table, ""]
        if res.get("stages"):
            out += ["### Stages tuned on top of the grid: recency, tags, sessions and the crowd's feeling", "",
                    "On validation, on top of each method's three best grid settings: `--half-life-reviews` "
                    "2 / 5 / 10 where reviews have times; for EASE and the hybrid built on it, on the three best "
                    "EASE settings so far, `--ease-tag-weight` 0.3 / 1 / 3 where items have tags (each tag a "
                    "pseudo-user who reviewed the items carrying it), and for ALS and the hybrid built on it, on "
                    "the three best ALS settings so far, `--als-tag-weight` 0.3 / 1 / 3 (the same pseudo-users, "
                    "with that value), and for item-knn and the hybrid built on it, on the three best item-knn "
                    "settings so far, `--knn-tag-weight` 0.3 / 1 / 3 (the same pseudo-users in the items' "
                    "cosine); then, where reviews have times, "
                    "`--ease-session-weight` 0.25 / 0.5 / 1 (pairs of "
                    "items one user reviewed close together in time; docs/model.md section 6); then, on the "
                    "three best so far, `--quality-weight` "
                    "0.5 / 1 / 2 (an item's score times 1 + q x the mean feeling of its reviews, sentiment and/or "
                    "stars; docs/model.md section 3), each also with the user's own reviews counted alike "
                    "(`--interaction-weight 1`); last, on the three best so far that read feelings, "
                    "`--avoid-below` 0.1 / 0.2 / 0.3 (candidates the user is predicted to feel less than that "
                    "about, μ + b_user + b_item of the reviews' feelings, rank after the others; docs/model.md "
                    "section 3). The peers read neither review times nor feelings. Each method "
                    "whose validation chose a stage setting, against the grid's choice without one (the stage "
                    "setting may build on another of the three):", "", stages_table(res, wdir), ""]
        if "sentiment" in res:
            out += ["### Sentiment weighting (each row tuned on validation)", "", study_table(res["sentiment"], wdir),
                    "", "### Ratings-free run (no stars in train or test; graded relevance from the test reviews' "
                    "sentiment)", "", study_table(res["ratings_free"], wdir), ""]
        if "sentiment_graded" in res:
            out += ["### Sentiment weighting, each row tuned on validation ndcg_graded@10", "",
                    "The same grids and stages as above, each row's setting chosen by validation ndcg_graded@10 "
                    "(the validation reviews' stars as grades) instead of ndcg@10: the target compares graded "
                    "relevance and dislikes, which ndcg@10 does not see.", "",
                    study_table(res["sentiment_graded"], wdir), ""]
        if "rating_study" in res:
            out += ["### Rating weighting (stars as the preference; each row tuned on validation)", "",
                    study_table(res["rating_study"], wdir), ""]
        out += ["<details><summary>Commands (run in bench/work/" + name + ")</summary>", "", "```sh"] + \
               res["commands"] + ["```", "", "</details>", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--datasets", nargs="*", default=["amazon", "lastfm", "movielens"])
    ap.add_argument("--out", default=os.path.join(HERE, "results", "offline_eval.md"))
    ap.add_argument("--page-only", action="store_true", help="rewrite the page from the saved JSON, run nothing")
    args = ap.parse_args()
    if not args.page_only:
        subprocess.run([sys.executable, os.path.join(HERE, "convert_data.py"), "--out", args.work] + args.datasets,
                       check=True)
    store = os.path.splitext(args.out)[0] + ".json"
    saved = json.load(open(store)) if os.path.exists(store) else {}
    saved = {k: v for k, v in saved.items() if isinstance(v, dict) and "rows" in v}  # earlier formats dropped
    for name in [] if args.page_only else args.datasets:
        t0 = time.time()
        saved[name] = run_dataset(name, os.path.abspath(args.avrec), args.work)
        saved[name]["seconds"] = round(time.time() - t0)
        with open(store, "w") as f:
            json.dump(saved, f, indent=1)
    order = {n: saved[n] for n in ("amazon", "lastfm", "movielens") if n in saved}
    write_page(args.out, order, args.work)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
