#!/usr/bin/env python3
"""Reading JSON: avrec against Python's json module (its C parser), side by
side on the same files in one run, with the ratio.

Two workloads, both built here from the bundled sample (nothing from
../shared): (1) a night's recommendation lists as JSON Lines, every user with
ten items and their reasons and explanations (avrec's own output on the
sample, its users copied under new ids up to --users), scored against a
truth file: `avrec evaluate` against a Python loop that reads each line with
json.loads and computes hit@10 and ndcg@10; (2) reviews as JSON Lines (the
sample's, copied up to --reviews): `avrec validate` against a Python loop
that reads each line with json.loads and checks its fields' types. The
Python loops do less than avrec (no duplicate keys, depth or UTF-8 checks,
fewer metrics), so the ratio is a lower bound of avrec's lead.

Usage: python3 bench/json_bench.py [--avrec build/avrec] [--users 40000]
       [--reviews 400000] [--runs 3] [--work DIR]
"""
import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SAMPLE = os.path.join(ROOT, "data", "sample")


def make_inputs(avrec, work, users, reviews):
    lists1 = os.path.join(work, "sample_lists.jsonl")
    subprocess.run([avrec, "--log-level", "warn", "recommend", "--reviews", os.path.join(SAMPLE, "reviews.csv"),
                    "--items", os.path.join(SAMPLE, "items.csv"), "--algorithm", "ease", "--text-model", "none",
                    "--no-sentiment", "-o", lists1], check=True)
    with open(lists1, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header, records = lines[0], [json.loads(x) for x in lines[1:]]
    with open(os.path.join(SAMPLE, "reviews.csv"), encoding="utf-8", newline="") as f:
        sample = list(csv.DictReader(f))
    lists, truth, rj = (os.path.join(work, n) for n in ("lists.jsonl", "truth.csv", "reviews.jsonl"))
    with open(lists, "w", encoding="utf-8") as out, open(truth, "w", encoding="utf-8", newline="") as t:
        out.write(header + "\n")
        w = csv.writer(t)
        w.writerow(["user_id", "item_id", "rating"])
        for n in range(users):
            r = dict(records[n % len(records)])
            copy = n // len(records)
            r["user_id"] = f"{r['user_id']}-{copy}"
            out.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
            s = sample[(n * 7) % len(sample)]
            w.writerow([r["user_id"], s["item_id"], s["rating"]])
    with open(rj, "w", encoding="utf-8") as out:
        for n in range(reviews):
            s = dict(sample[n % len(sample)])
            s["review_id"] = f"{s['review_id']}-{n // len(sample)}"
            s["rating"] = int(s["rating"]) if s["rating"] else None
            out.write(json.dumps(s, ensure_ascii=False) + "\n")
    return lists, truth, rj


def python_evaluate(lists, truth):
    held = {}
    with open(truth, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            held.setdefault(row["user_id"], set()).add(row["item_id"])
    hits = ndcg = 0.0
    with open(lists, encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            if "user_id" not in j:
                continue
            items = [x["item_id"] for x in j["items"]][:10]
            t = held.get(j["user_id"], set())
            if not t:
                continue
            hits += any(i in t for i in items)
            dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(items) if i in t)
            ndcg += dcg / sum(1 / math.log2(r + 2) for r in range(min(len(t), 10)))
    return hits, ndcg


def python_validate(path):
    bad = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            ok = all(isinstance(j.get(k), str) for k in ("review_id", "user_id", "item_id", "text"))
            ok = ok and (j.get("rating") is None or isinstance(j["rating"], (int, float)))
            bad += not ok
    return bad


def timed(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--users", type=int, default=40000)
    ap.add_argument("--reviews", type=int, default=400000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", help="folder for the generated files (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        lists, truth, rj = make_inputs(args.avrec, work, args.users, args.reviews)
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        cases = [
            ("recommendation lists: evaluate", lists,
             lambda: subprocess.run([args.avrec, "evaluate", "--recs", lists, "--truth", truth], **quiet),
             lambda: python_evaluate(lists, truth)),
            ("reviews: validate", rj, lambda: subprocess.run([args.avrec, "validate", "--reviews", rj], **quiet),
             lambda: python_validate(rj)),
        ]
        for name, path, ours, peer in cases:
            mb = os.path.getsize(path) / 1e6
            # Alternated, so both see the same state of a noisy machine.
            t_ours, t_peer = [], []
            for _ in range(args.runs):
                t_ours.append(timed(ours, 1))
                t_peer.append(timed(peer, 1))
            a, p = statistics.median(t_ours), statistics.median(t_peer)
            print(json.dumps({"workload": name, "mb": round(mb, 1), "avrec_s": round(a, 2),
                              "avrec_mb_per_s": round(mb / a, 1), "python_json_s": round(p, 2),
                              "python_mb_per_s": round(mb / p, 1), "ratio": round(p / a, 2)}))


if __name__ == "__main__":
    main()
