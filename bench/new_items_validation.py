#!/usr/bin/env python3
"""Items nobody has reviewed yet, on validation splits only: what the tag
terms of EASE, ALS (docs/model.md section 6) and item-knn (section 5) give a
catalogue's new items. A nightly job sees albums added since the last run,
with tags but no reviews; without a tag term these models score them 0.

Simulated on a validation split: a share of the items reviewed in the
validation file (seeded sample) lose every review in the fit file, so they
are new to the model. avrec's EASE, ALS or item-knn (--algorithm, the options after
--) ranks fit.csv twice: with the items file as it is (the new items join
the model through their tags) and with the new items' tags blanked (they
cannot join: what the model does without the term). Both lists are scored
by `avrec evaluate` on the whole validation file and on its reviews of the
new items alone. Needs --ease-tag-weight, --als-tag-weight or
--knn-tag-weight among the options.

  python3 bench/new_items_validation.py --dir bench/work/amazon --seed 11 -- \\
      --ease-lambda 50 --half-life-reviews 5 --ease-tag-weight 3 --ease-session-weight 0.5 \\
      --no-sentiment --no-rating
  python3 bench/new_items_validation.py --dir bench/work/amazon --algorithm als --seed 11 -- \\
      --als-factors 128 --als-tag-weight 1 --no-sentiment --no-rating
  (add --fold 2 for fit2.csv / val2.csv, which bench/validation_folds.py writes)
"""
import argparse
import csv
import json
import os
import random
import subprocess
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


def write(path, rows, fields):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--dir", required=True, help="a dataset folder of bench/work (fit.csv, val.csv, items.csv)")
    ap.add_argument("--fold", default="", help="'2' for fit2.csv / val2.csv")
    ap.add_argument("--share", type=float, default=0.1, help="share of the validation file's items made new")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--algorithm", choices=["ease", "als", "item-knn"], default="ease")
    ap.add_argument("options", nargs="*", help="avrec recommend options (after --)")
    args = ap.parse_args()
    fit = read(os.path.join(args.dir, f"fit{args.fold}.csv"))
    val_path = os.path.join(args.dir, f"val{args.fold}.csv")
    val = read(val_path)
    items = read(os.path.join(args.dir, "items.csv"))
    val_items = sorted({r["item_id"] for r in val})
    new = set(random.Random(args.seed).sample(val_items, int(len(val_items) * args.share)))
    with tempfile.TemporaryDirectory() as tmp:
        fit_new = os.path.join(tmp, "fit.csv")
        write(fit_new, [r for r in fit if r["item_id"] not in new], list(fit[0].keys()))
        untagged = os.path.join(tmp, "items_untagged.csv")
        write(untagged, [dict(r, tags="") if r["item_id"] in new else r for r in items], list(items[0].keys()))
        val_new = os.path.join(tmp, "val_new.csv")
        write(val_new, [r for r in val if r["item_id"] in new], list(val[0].keys()))
        print(f"fold {args.fold or '1'}, seed {args.seed}: {len(new)} of {len(val_items)} validation items made new "
              f"({sum(r['item_id'] in new for r in val)} of {len(val)} validation reviews)")
        for label, items_path in (("tags of new items kept (they join)", os.path.join(args.dir, "items.csv")),
                                  ("tags of new items blanked", untagged)):
            recs = os.path.join(tmp, "recs.jsonl")
            subprocess.run([args.avrec, "recommend", "--reviews", fit_new, "--items", items_path, "--algorithm",
                            args.algorithm, "--top-n", "20", "--out", recs, "--no-explain", "--log-level", "warn"] +
                           args.options, check=True)
            cells = []
            for truth in (val_path, val_new):
                m = json.loads(subprocess.run([args.avrec, "evaluate", "--recs", recs, "--truth", truth, "--k", "10",
                                               "--no-graded", "--log-level", "warn"], capture_output=True, text=True,
                                              check=True).stdout)
                cells.append(f"ndcg@10 {m['ndcg@10']:.4f} recall@10 {m['recall@10']:.4f}")
            print(f"  {label}: all validation {cells[0]}; new items' reviews {cells[1]}")


if __name__ == "__main__":
    main()
