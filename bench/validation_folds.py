#!/usr/bin/env python3
"""How far can one validation split be trusted to choose? A validation-only
check for bench/offline_eval.py's choices (no test data is read).

offline_eval.py chooses every setting on one validation split (fit / val,
carved out of train by the dataset's own split method) and reports the
choice's test figure once. When the leading settings differ by less than
that split's noise, the choice is a draw. This script measures the noise:
it carves a second, earlier validation fold out of fit the same way
(fit2 / val2: on a leave-last dataset, each user's second-to-last training
review), scores the settings offline_eval.py finally chose (its saved JSON)
on both folds, and prints for each its validation ndcg@10 on each fold, its
rank on each, and the paired-bootstrap difference to fold 1's winner with
its 95 % interval on each fold.

Run offline_eval.py first (it leaves the splits and scores in bench/work):
  python3 bench/validation_folds.py --dataset amazon --out bench/results/validation_folds.md
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import offline_eval as oe  # noqa: E402

FOLDS = (("fit.csv", "val.csv"), ("fit2.csv", "val2.csv"))


def settings(saved):
    """(label, algorithm or peer method, extra) of every row offline_eval chose, without duplicates."""
    rows = saved["rows"] + saved.get("sentiment", [])
    out, seen = [], set()
    for r in rows:
        label = r["label"]
        peer = label.startswith("peer-")
        algo = label[5:] if peer else r.get("algorithm") or label[6:]
        if algo == "popular" or label.startswith("nr-"):
            continue
        key = (peer, algo, tuple(r["extra"]))
        if key not in seen:
            seen.add(key)
            out.append((label, peer, algo, r["extra"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--avrec", default=os.path.join(oe.ROOT, "build", "avrec"))
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--dataset", default="amazon", choices=sorted(oe.DATASETS))
    ap.add_argument("--results", default=os.path.join(HERE, "results", "offline_eval.json"))
    ap.add_argument("--out", help="also write the table here (markdown)")
    args = ap.parse_args()
    spec = oe.DATASETS[args.dataset]
    saved = json.load(open(args.results))[args.dataset]
    work = os.path.join(args.work, args.dataset)
    r = oe.Runner(os.path.abspath(args.avrec), work)
    if args.dataset == "lastfm":
        sys.exit("lastfm: its rating range flags are set by offline_eval.run_dataset; not supported here")
    extra = ["--embedding-cache", "embeddings.avrec"]
    ds = oe.Dataset(args.dataset, r, extra, spec["evaluate"], spec.get("times", False), spec["text"], False)
    r.avrec_cmd(["split", "--reviews", "fit.csv", "--train", "fit2.csv", "--test", "val2.csv", "--allow-empty-text"] +
                spec["split"])
    scores = "fit.scores.jsonl" if spec["text"] else None  # fit2 is a part of fit: its scores are there
    table = []
    for label, peer, algo, ex in settings(saved):
        if peer:
            run = lambda e, t, o, s, rec, m=algo: ds.run_peer(m, e, t, o, rec)  # noqa: E731
        else:
            run = lambda e, t, o, s, rec, a=algo: ds.run_avrec(a, e, t, o, s, rec)  # noqa: E731
        folds = []
        for k, (train, truth) in enumerate(FOLDS):
            run(ex, train, "folds.recs.jsonl", scores, False)
            pu = f"folds.per_user.{k}.jsonl"
            m = r.evaluate("folds.recs.jsonl", truth, train, ds.eval_extra, per_user=pu, record=False)
            folds.append((m["ndcg@10"], oe.per_user(os.path.join(work, pu), "ndcg@10")))
        table.append((label, ex, folds))
        print(label, " ".join(f"{f[0]:.4f}" for f in folds), flush=True)
    users = [len(table[0][2][k][1]) for k in range(len(FOLDS))]
    both = [sum(users[k] * folds[k][0] for k in range(len(FOLDS))) / sum(users) for _, _, folds in table]
    best = max(range(len(table)), key=lambda i: table[i][2][0][0])
    ranks = [sorted(range(len(table)), key=lambda i: -table[i][2][k][0]) for k in range(len(FOLDS))]
    ranks.append(sorted(range(len(table)), key=lambda i: -both[i]))
    out = [f"# Validation folds: {spec['title']}", "",
           "Written by `python3 bench/validation_folds.py --dataset " + args.dataset +
           (" --out " + os.path.relpath(args.out, oe.ROOT) if args.out else "") +
           "` from the settings offline_eval.py chose (offline_eval.json); validation data only, no test data "
           "is read. LightFM is not bit-reproducible (several threads), so its figures move between runs.", "",
           f"Fold 1 is offline_eval.py's validation split ({users[0]} users); fold 2 is carved out of fold 1's "
           f"training part the same way, one review earlier ({users[1]} users). \"Both\": the user-weighted mean "
           "of the two. Differences: paired bootstrap over users (2,000 resamples, 95 %) against fold 1's "
           "winner, the setting offline_eval.py would choose among these.", "",
           "| setting | fold 1 ndcg@10 (rank) | fold 2 ndcg@10 (rank) | both (rank) | fold 1 − winner (95 % CI) "
           "| fold 2 − fold 1's winner (95 % CI) |",
           "|---|---|---|---|---|---|"]
    for i in ranks[0]:
        label, ex, folds = table[i]
        cells = [f"{folds[k][0]:.4f} ({ranks[k].index(i) + 1})" for k in range(len(FOLDS))]
        cells.append(f"{both[i]:.4f} ({ranks[-1].index(i) + 1})")
        for k in range(len(FOLDS)):
            d, lo, hi = oe.bootstrap(table[best][2][k][1], folds[k][1])
            cells.append("—" if i == best else f"{d:+.4f} ({lo:+.4f} .. {hi:+.4f})")
        out.append(f"| {label}: `{' '.join(ex)}` | " + " | ".join(cells) + " |")
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        with open(args.out + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
