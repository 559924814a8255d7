#!/usr/bin/env python3
"""Converts the real datasets in ../shared/data to avrec's input formats
(docs/formats.md), in a work folder outside the repository's tracked files
(default bench/work/, ignored by git). The data never enters the project.

  amazon   Amazon Digital Music: reviews (text = summary + review text,
           rating, time) and items (title, categories as tags, description,
           genre and year from with_genres.csv, price).
  lastfm   Last.fm user-artist play counts joined to Spotify audio features by
           case-insensitive artist name: an artist's vector is the mean of its
           tracks' features. Only matched pairs. No text; the rating is
           log(1 + plays).
  movielens MovieLens latest-small: ratings with times; items with genres
           (one 0/1 column per genre) and user tags as text.

Standard library only. Usage: python3 bench/convert_data.py [--out bench/work] [amazon lastfm movielens]
"""
import argparse
import ast
import csv
import gzip
import json
import math
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))


def write_csv(path, fields, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def amazon(out):
    src = os.path.join(DATA, "amazon_digital_music")
    reviews, asins = [], set()
    with gzip.open(os.path.join(src, "reviews_Digital_Music_5.complete_lines.json.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text = " ".join(x for x in (r.get("summary", "").strip(), r.get("reviewText", "").strip()) if x)
            if r.get("summary", "").strip() and r.get("reviewText", "").strip():
                text = r["summary"].strip().rstrip(".!?") + ". " + r["reviewText"].strip()
            reviews.append({"user_id": r["reviewerID"], "item_id": r["asin"], "rating": r["overall"],
                            "timestamp": r["unixReviewTime"], "text": text})
            asins.add(r["asin"])
    genres = {}
    with open(os.path.join(src, "with_genres.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            year = row["year"] if row["year"].isdigit() else ""  # "NA" in the file: missing
            genres[row["asin"]] = (row["genre"], year)
    items = {}
    with gzip.open(os.path.join(src, "meta_Digital_Music.complete_lines.json.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            m = ast.literal_eval(line)
            if m["asin"] not in asins:
                continue
            tags = sorted({c for cats in m.get("categories", []) for c in cats if c != "Digital Music"})
            genre, year = genres.get(m["asin"], ("", ""))
            items[m["asin"]] = {"item_id": m["asin"], "kind": "album", "title": m.get("title", ""),
                                "tags": "|".join(t.replace("|", "/") for t in tags),
                                "description": m.get("description", "")[:2000],
                                "meta.genre": genre, "meta.year": year,
                                "meta.price": m.get("price", "")}
    for a in asins - set(items):
        items[a] = {"item_id": a, "kind": "album"}
    d = os.path.join(out, "amazon")
    os.makedirs(d, exist_ok=True)
    write_csv(os.path.join(d, "reviews.csv"), ["user_id", "item_id", "rating", "timestamp", "text"], reviews)
    write_csv(os.path.join(d, "items.csv"), ["item_id", "kind", "title", "tags", "description", "meta.genre",
                                             "meta.year", "meta.price"], [items[a] for a in sorted(items)])
    return {"reviews": len(reviews), "items": len(items), "users": len({r["user_id"] for r in reviews})}


AUDIO = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness", "instrumentalness",
         "liveness", "valence", "tempo", "duration_ms"]


def lastfm(out):
    tracks = defaultdict(list)
    sp = os.path.join(DATA, "spotify_hit_predictor")
    for name in sorted(os.listdir(sp)):
        if not name.endswith(".csv"):
            continue
        with open(os.path.join(sp, name), encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                tracks[row["artist"].strip().lower()].append([float(row[a]) for a in AUDIO])
    lf = os.path.join(DATA, "lastfm_hetrec2011_2k")
    names = {}
    with open(os.path.join(lf, "artists.dat"), encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\r\n").split("\t")
            names[parts[0]] = parts[1]
    pairs = []
    with open(os.path.join(lf, "user_artists.dat"), encoding="utf-8") as f:
        next(f)
        for line in f:
            u, a, w = line.rstrip("\r\n").split("\t")
            key = names.get(a, "").strip().lower()
            if key in tracks:
                pairs.append((u, a, int(w)))
    artists = sorted({a for _, a, _ in pairs}, key=int)
    items = []
    for a in artists:
        feats = tracks[names[a].strip().lower()]
        mean = [sum(col) / len(col) for col in zip(*feats)]
        row = {"item_id": "a" + a, "kind": "artist", "title": names[a]}
        row.update({f"audio.{k}": round(v, 6) for k, v in zip(AUDIO, mean)})
        items.append(row)
    reviews = [{"review_id": f"u{u}-a{a}", "user_id": "u" + u, "item_id": "a" + a,
                "rating": round(math.log1p(w), 6), "text": ""} for u, a, w in pairs]
    d = os.path.join(out, "lastfm")
    os.makedirs(d, exist_ok=True)
    write_csv(os.path.join(d, "reviews.csv"), ["review_id", "user_id", "item_id", "rating", "text"], reviews)
    write_csv(os.path.join(d, "items.csv"), ["item_id", "kind", "title"] + [f"audio.{k}" for k in AUDIO], items)
    return {"reviews": len(reviews), "items": len(items), "users": len({r["user_id"] for r in reviews}),
            "max_rating": max(r["rating"] for r in reviews)}


def movielens(out):
    src = os.path.join(DATA, "movielens_latest_small")
    tags = defaultdict(set)
    with open(os.path.join(src, "tags.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            tags[row["movieId"]].add(row["tag"].strip().lower().replace("|", "/"))
    movies, all_genres = [], set()
    with open(os.path.join(src, "movies.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            g = [x for x in row["genres"].split("|") if x != "(no genres listed)"]
            all_genres.update(g)
            movies.append((row["movieId"], row["title"], g))
    genre_cols = [f"genre.{g.lower().replace(' ', '_').replace('-', '_')}" for g in sorted(all_genres)]
    items = []
    for mid, title, g in movies:
        row = {"item_id": "m" + mid, "kind": "movie", "title": title,
               "tags": "|".join(sorted(tags.get(mid, ()))), "description": ", ".join(g)}
        for name, col in zip(sorted(all_genres), genre_cols):
            row[col] = 1 if name in g else 0
        items.append(row)
    reviews = []
    with open(os.path.join(src, "ratings.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            reviews.append({"review_id": f"u{row['userId']}-m{row['movieId']}", "user_id": "u" + row["userId"],
                            "item_id": "m" + row["movieId"], "rating": row["rating"],
                            "timestamp": row["timestamp"], "text": ""})
    d = os.path.join(out, "movielens")
    os.makedirs(d, exist_ok=True)
    write_csv(os.path.join(d, "reviews.csv"), ["review_id", "user_id", "item_id", "rating", "timestamp", "text"], reviews)
    write_csv(os.path.join(d, "items.csv"), ["item_id", "kind", "title", "tags", "description"] + genre_cols, items)
    return {"reviews": len(reviews), "items": len(items), "users": len({r["user_id"] for r in reviews})}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "work"))
    ap.add_argument("datasets", nargs="*", default=["amazon", "lastfm", "movielens"])
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        sys.exit(f"{DATA} not found: the real data lives beside the project, in ../shared/data")
    for name in args.datasets:
        print(name, json.dumps(globals()[name](args.out)), flush=True)


if __name__ == "__main__":
    main()
