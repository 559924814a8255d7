#!/usr/bin/env python3
"""A time-local popularity prior beside avrec's EASE, on validation splits
only: a prototype to decide whether it is worth building (figures in
bench/results/README.md). Test reviews on Amazon come later after a user's
previous review than validation ones do; if what people review depends on
what was being reviewed at the time, the items reviewed around the user's
last review (or in the data's last days) should rank higher.

For each user, avrec's EASE (the options after --) ranks the top 300 of
fit.csv; each candidate's score s is blended with its local popularity

  lp(i) = sum over the reviews r of i in fit.csv of exp(-|t_r - t_u| / tau)

(t_u: the user's last review in fit.csv, or with --mode end the last review
of all) as s / max s + g * lp / max lp, and the new top 20 is scored by
`avrec evaluate` on the split's validation file. Prints a row per tau,
a column per g.

  tools/.venv/bin/python bench/local_popularity_validation.py --dir bench/work/amazon -- \\
      --ease-lambda 50 --half-life-reviews 5 --no-sentiment --no-rating --ease-session-weight 1
  (add --fold 2 for fit2.csv / val2.csv, which bench/validation_folds.py writes)
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DAY = 86400.0


def evaluate(avrec, recs, truth):
    out = subprocess.run([avrec, "evaluate", "--recs", recs, "--truth", truth, "--k", "10", "--no-graded",
                          "--log-level", "warn"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["ndcg@10"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="a dataset folder bench/offline_eval.py prepared")
    ap.add_argument("--fold", default="", help="'' (fit.csv / val.csv) or 2 (fit2.csv / val2.csv)")
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--taus", default="30,180,730", help="days")
    ap.add_argument("--weights", default="0.05,0.1,0.2,0.4")
    ap.add_argument("ease", nargs=argparse.REMAINDER, help="-- then avrec recommend options for EASE")
    a = ap.parse_args()
    ease = [x for x in a.ease if x != "--"]
    fit, val = os.path.join(a.dir, f"fit{a.fold}.csv"), os.path.join(a.dir, f"val{a.fold}.csv")
    tmp = tempfile.mkdtemp()
    base = os.path.join(tmp, "ease.json")
    subprocess.run([a.avrec, "recommend", "--reviews", fit, "--items", os.path.join(a.dir, "items.csv"),
                    "--algorithm", "ease", "--top-n", "300", "--out", base, "--no-explain", "--log-level", "warn"]
                   + ease, check=True)
    times, last = {}, {}
    with open(fit, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if not r["timestamp"]:
                continue
            t = float(r["timestamp"]) / DAY
            times.setdefault(r["item_id"], []).append(t)
            last[r["user_id"]] = max(last.get(r["user_id"], t), t)
    times = {i: np.array(v) for i, v in times.items()}
    end = max(last.values())
    with open(base, encoding="utf-8") as f:
        users = json.load(f)["users"]
    print(f"EASE alone: {evaluate(a.avrec, base, val):.4f}")
    weights = [float(g) for g in a.weights.split(",")]
    print("| mode | tau (days) | " + " | ".join(f"g {g}" for g in weights) + " |")
    print("|---|---|" + "---|" * len(weights))
    for mode in ("user", "end"):
        for tau in (float(t) for t in a.taus.split(",")):
            cells = []
            for g in weights:
                path = os.path.join(tmp, "blend.jsonl")
                with open(path, "w", encoding="utf-8") as out:
                    for u in users:
                        cand = [x["item_id"] for x in u["items"]]
                        s = np.array([x["score"] for x in u["items"]])
                        if cand and s.max() > 0:
                            t_u = last.get(u["user_id"], end) if mode == "user" else end
                            lp = np.array([np.exp(-np.abs(times[i] - t_u) / tau).sum() if i in times else 0.0
                                           for i in cand])
                            z = s / s.max() + (g * lp / lp.max() if lp.max() > 0 else 0.0)
                        else:
                            z = s
                        order = np.lexsort((np.arange(len(cand)), -z))[:20]
                        items = [{"item_id": cand[i], "rank": r + 1, "score": float(z[i])} for r, i in enumerate(order)]
                        out.write(json.dumps({"user_id": u["user_id"], "items": items}) + "\n")
                cells.append(f"{evaluate(a.avrec, path, val):.4f}")
            print(f"| {mode} | {tau:g} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
