#!/usr/bin/env python3
"""Start-up time of avrec: the median wall time of `avrec --version` and of
`avrec validate` on a ten-line reviews file, over --runs runs each, beside
`avrec score` on the same file (which loads the model runtime, libtorch).
Prints one JSON object per command and the ratio to the 50 ms target.

Usage: python3 bench/startup_bench.py [--avrec build/avrec] [--runs 30]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def median_ms(cmd, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reviews = os.path.join(tmp, "ten.csv")
        with open(os.path.join(ROOT, "data", "sample", "reviews.csv"), encoding="utf-8") as f:
            lines = f.read().split("\n")[:11]
        with open(reviews, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        cases = [("avrec --version", [args.avrec, "--version"], args.runs),
                 ("avrec validate (10 reviews)", [args.avrec, "validate", "--reviews", reviews], args.runs),
                 ("avrec score (10 reviews, loads libtorch)",
                  [args.avrec, "score", "--reviews", reviews, "--out", os.path.join(tmp, "s.jsonl")], 5)]
        for name, cmd, runs in cases:
            med, lo, hi = median_ms(cmd, runs)
            print(json.dumps({"command": name, "runs": runs, "median_ms": round(med, 1), "min_ms": round(lo, 1),
                              "max_ms": round(hi, 1), "target_ms": 50 if "score" not in name else None}))


if __name__ == "__main__":
    main()
