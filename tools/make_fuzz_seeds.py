#!/usr/bin/env python3
"""Writes the seed inputs of the libFuzzer targets into tests/fuzz/corpus/
(csv, jsonl, gzip, config), from data/sample and hand-written edge cases;
tools/fuzz.sh TARGET SECONDS --merge then grows and minimises them.
Standard library only."""
import gzip
import hashlib
import json
import os

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    sample = os.path.join(ROOT, "data", "sample")
    rev = open(os.path.join(sample, "reviews.csv"), encoding="utf-8").read().split("\n")
    items = open(os.path.join(sample, "items.csv"), encoding="utf-8").read().split("\n")
    csv_seeds = [
        "\n".join(rev[:6]) + "\n", "\n".join(items[:4]) + "\n",
        'review_id,user_id,item_id,text,rating,timestamp\r\nr1,u1,i1,"a ""quoted""\r\nline",4.5,2024-01-02T03:04:05+08:00\r\n',
        "\ufeffuser_id,item_id,text\nu,i,\u597d\u542c\n",
        'item_id,title,tags,audio.tempo,visual.colour\ni1,T,"a|b",120,red\ni2,,,nan,\n',
        'user_id,item_id,text\nu,i,"unterminated\n', "user_id,item_id\n"]
    for c in csv_seeds:
        put("csv", c)
    for c in csv_seeds[:4]:
        put("gzip", gzip.compress(c.encode(), mtime=0))
    put("gzip", gzip.compress(csv_seeds[0].encode(), mtime=0) + gzip.compress(b"r9,u9,i9,x,1,5\n", mtime=0))
    for c in [
        '{"review_id":"r1","user_id":"u1","item_id":"i1","text":"great","rating":5,"timestamp":1700000000}\n'
        '{"user_id":"u2","item_id":"i1","text":"meh","rating":"3"}\n',
        '{"item_id":"i1","title":"T","tags":["rock","live"],"audio.tempo":120.5,"visual.colour":"red"}\n{"item_id":2}\n',
        '{"user_id":"u","item_id":"i","text":null}\n[1,2]\n{"a":{"b":[1,{"c":2}]}}\n',
        '{"user_id":"u","user_id":"v"}\n{"x":1e308}\n']:
        put("jsonl", c)
    for c in [
        open(os.path.join(sample, "pipeline.json")).read(),
        json.dumps({"workspace": "w.avrec", "threads": 2,
                    "recommend": {"top_n": 5, "algorithm": "hybrid", "popularity_weight": 0.5},
                    "profile": {"half_life_days": 30, "rating_min": 1, "rating_max": 5, "now": "2024-01-01"}}),
        json.dumps({"items": {"categorical": ["a.b"], "numeric": {"x": "audio"}, "tag_separator": ";"},
                    "features": {"modality_weights": {"audio": 2}}}),
        '{"score":{"precision":"bf16","batch_size":8,"long_text":"split-average"}}', '{"reviews":"r.csv"}']:
        put("config", c)


if __name__ == "__main__":
    main()
