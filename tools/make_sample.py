#!/usr/bin/env python3
"""Generates avrec's bundled sample catalogue (data/sample/) from a fixed seed.

Everything here is made up by this script; no external data is used.

The world: 8 latent styles. Each media item (songs and videos) has a main
style and a secondary one; its audio and visual features and its text (title,
tags, description) are drawn from per-style distributions, so content carries
the style. Each user has a taste over the styles and a language (English or
Chinese, a few write both). Users pick items partly by taste, partly by
popularity and partly at random; how much they like an item follows from
taste x style plus item quality plus noise, and both the rating and the review
text (its wording and polarity) follow from that affinity. A recommender that
reads content and sentiment can therefore beat a random one on this data.

Usage: python3 tools/make_sample.py [--out data/sample] [--seed 7]
Standard library only; the output is byte-identical for the same seed.
"""
import argparse
import csv
import datetime
import io
import json
import math
import os
import random

STYLES = [
    # name, zh name, tempo, loudness, energy, dance, acoustic, valence, brightness, motion, colourful, cut_rate, colours, tags
    ("rock", "摇滚", 128, -6, 0.85, 0.50, 0.10, 0.55, 0.45, 0.70, 0.55, 0.9, ["red", "black"],
     ["rock", "guitar", "live", "band", "loud"]),
    ("electronic", "电子", 126, -5, 0.90, 0.85, 0.05, 0.60, 0.40, 0.80, 0.85, 1.4, ["blue", "purple"],
     ["electronic", "dance", "synth", "club", "edm"]),
    ("jazz", "爵士", 100, -12, 0.40, 0.55, 0.70, 0.55, 0.35, 0.30, 0.40, 0.4, ["brown", "black"],
     ["jazz", "saxophone", "swing", "smooth", "live"]),
    ("classical", "古典", 80, -18, 0.20, 0.20, 0.95, 0.35, 0.60, 0.15, 0.30, 0.2, ["white", "brown"],
     ["classical", "orchestra", "piano", "symphony", "calm"]),
    ("hiphop", "嘻哈", 92, -6, 0.75, 0.85, 0.10, 0.50, 0.50, 0.65, 0.70, 1.2, ["yellow", "black"],
     ["hip hop", "rap", "beats", "urban", "flow"]),
    ("folk", "民谣", 96, -11, 0.35, 0.45, 0.85, 0.50, 0.70, 0.25, 0.45, 0.3, ["green", "brown"],
     ["folk", "acoustic", "storytelling", "guitar", "indie"]),
    ("pop", "流行", 118, -5, 0.70, 0.75, 0.20, 0.80, 0.80, 0.55, 0.90, 1.0, ["pink", "yellow"],
     ["pop", "catchy", "chart", "vocals", "upbeat"]),
    ("ambient", "氛围", 70, -20, 0.15, 0.25, 0.60, 0.40, 0.30, 0.10, 0.35, 0.1, ["blue", "white"],
     ["ambient", "chill", "relaxing", "atmospheric", "sleep"]),
]

TITLE_WORDS = {
    "rock": ["Thunder", "Highway", "Broken", "Fire", "Rebel", "Steel", "Midnight", "Riot"],
    "electronic": ["Pulse", "Neon", "Circuit", "Voltage", "Echo", "Laser", "Drift", "Signal"],
    "jazz": ["Blue", "Velvet", "Smoke", "Moonlight", "Swing", "Cafe", "Late", "Brass"],
    "classical": ["Sonata", "Nocturne", "Prelude", "Adagio", "Winter", "Requiem", "Aria", "Elegy"],
    "hiphop": ["Street", "Crown", "Hustle", "Block", "Gold", "Flow", "Concrete", "Cipher"],
    "folk": ["River", "Valley", "Home", "Harvest", "Wander", "Lantern", "Meadow", "Porch"],
    "pop": ["Heart", "Summer", "Sugar", "Dance", "Starlight", "Forever", "Kiss", "Shine"],
    "ambient": ["Drift", "Horizon", "Still", "Cloud", "Tide", "Aurora", "Silence", "Glow"],
}
ZH_TITLE_WORDS = {
    "rock": ["怒火", "公路", "狂野"], "electronic": ["霓虹", "脉冲", "电流"], "jazz": ["蓝调", "夜色", "咖啡馆"],
    "classical": ["夜曲", "序曲", "冬日"], "hiphop": ["街头", "王冠", "节奏"], "folk": ["河流", "故乡", "山谷"],
    "pop": ["心跳", "夏天", "星光"], "ambient": ["云端", "潮汐", "静谧"],
}
VIDEO_FORMATS = ["live session", "music video", "documentary", "concert film", "behind the scenes", "tutorial"]

# Review wording. Aspects differ for songs and videos.
ASPECTS_EN = {"song": ["melody", "production", "vocals", "lyrics", "beat", "arrangement"],
              "video": ["visuals", "editing", "cinematography", "story", "soundtrack", "colour grading"]}
ASPECTS_ZH = {"song": ["旋律", "编曲", "唱功", "歌词", "节奏", "制作"],
              "video": ["画面", "剪辑", "摄影", "故事", "配乐", "色调"]}
POS_EN = ["wonderful", "beautiful", "brilliant", "fantastic", "gorgeous", "superb", "moving", "excellent"]
NEG_EN = ["boring", "dull", "awful", "terrible", "bland", "annoying", "disappointing", "weak"]
POS_ZH = ["很棒", "非常好", "太美了", "很出色", "令人感动", "很精彩", "很喜欢"]
NEG_ZH = ["很差", "太无聊", "令人失望", "很糟糕", "很平淡", "不好", "很难听"]

EN_STRONG_POS = [
    "I absolutely loved {t}. The {a} is {p} and I keep coming back to it.",
    "{t} is one of the best things I have found this year, {p} {a} from start to finish.",
    "Wow. {t} blew me away; the {a} is simply {p}.",
    "Five stars for {t}. {P} {a}, and it only gets better with every play.",
    "This is exactly my kind of thing: {t} has a {p} {a} and a great mood.",
]
EN_MILD_POS = [
    "{t} is pretty good. The {a} is {p}, though a bit long.",
    "I enjoyed {t}. Nice {a}, worth a listen.",
    "Solid work. The {a} of {t} is {p}, even if not everything lands.",
]
EN_MIXED = [
    "{t} has a {p} {a}, but the {a2} is {n}. Mixed feelings.",
    "Not sure about {t}. Some parts are {p}, others are {n}.",
    "It's okay, I guess. The {a} is fine but nothing special.",
]
EN_MILD_NEG = [
    "{t} didn't do much for me. The {a} felt {n}.",
    "I wanted to like {t}, but the {a} is {n} and it drags.",
    "Meh. {t} is {n}; I skipped it halfway through.",
]
EN_STRONG_NEG = [
    "I really disliked {t}. The {a} is {n} and the whole thing is a waste of time.",
    "{t} is {n}. Terrible {a}, I will never play it again.",
    "One of the worst I have heard: {t} is {n} from the first minute.",
    "Avoid {t}. {N} {a}, no soul at all.",
]
ZH_STRONG_POS = ["太喜欢《{t}》了，{a}{p}，单曲循环了好几天！", "《{t}》真的{p}，{a}让人难忘，强烈推荐。",
                 "五星好评！《{t}》的{a}{p}，越听越有味道。"]
ZH_MILD_POS = ["《{t}》还不错，{a}{p}，值得一听。", "整体挺好的，《{t}》的{a}可以。"]
ZH_MIXED = ["《{t}》的{a}{p}，但是{a2}{n}，感觉一般。", "说不上好坏，《{t}》有亮点也有不足。"]
ZH_MILD_NEG = ["《{t}》不太适合我，{a}{n}。", "有点失望，《{t}》的{a}{n}，听了一半就关了。"]
ZH_STRONG_NEG = ["《{t}》{n}，{a}完全不行，浪费时间。", "非常不喜欢《{t}》，{a}{n}，再也不想听了。",
                 "差评！《{t}》的{a}{n}，太让人失望了。"]


def article(word):
    return "An" if word[0] in "aeiou" else "A"


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def make_items(rng, n_items):
    items = []
    for i in range(n_items):
        kind = "song" if i % 3 != 2 else "video"
        main = rng.randrange(len(STYLES))
        second = rng.randrange(len(STYLES))
        mix = 0.75 if second != main else 1.0
        style = [0.0] * len(STYLES)
        style[main] += mix
        style[second] += 1 - mix
        s_main, s_second = STYLES[main], STYLES[second]

        def blend(k):
            return mix * s_main[k] + (1 - mix) * s_second[k]

        quality = rng.gauss(0, 0.6)
        name = s_main[0]
        words = TITLE_WORDS[name]
        if rng.random() < 0.2:
            title = "".join(rng.sample(ZH_TITLE_WORDS[name], 2))
        else:
            first, second_word = rng.sample(words + ["Song", "Dream", "Road", "Night"], 2)
            title = f"{rng.choice(words)} {second_word}" if first in words else f"{first} {second_word}"
            if title.split()[0] == title.split()[-1]:
                title = f"{words[0]} {second_word}"
            if rng.random() < 0.25:
                title += f" ({rng.choice(['Live', 'Remix', 'Acoustic', 'Extended'])})"
        tags = rng.sample(s_main[13], 3) + ([rng.choice(s_second[13])] if second != main else [])
        if kind == "video":
            fmt = rng.choice(VIDEO_FORMATS)
            tags.append(fmt)
            desc = f"{article(fmt)} {fmt} in a {name} style" + (f" with {s_second[0]} touches" if second != main else "") + "."
        else:
            desc = f"{article(name)} {name} track" + (f" with {s_second[0]} influences" if second != main else "") + \
                   f", {rng.choice(['recorded live', 'studio recording', 'debut single', 'album cut', 'B-side'])}."
        row = {
            "item_id": f"{'s' if kind == 'song' else 'v'}{i + 1:04d}",
            "kind": kind,
            "title": title,
            "tags": "|".join(dict.fromkeys(tags)),
            "description": desc,
            "audio.tempo": round(max(50.0, rng.gauss(blend(2), 8)), 1),
            "audio.loudness": round(min(-1.0, rng.gauss(blend(3), 2)), 2),
            "audio.energy": round(min(1, max(0, rng.gauss(blend(4), 0.08))), 3),
            "audio.danceability": round(min(1, max(0, rng.gauss(blend(5), 0.08))), 3),
            "audio.acousticness": round(min(1, max(0, rng.gauss(blend(6), 0.08))), 3),
            "audio.valence": round(min(1, max(0, rng.gauss(blend(7), 0.1))), 3),
            "visual.brightness": round(min(1, max(0, rng.gauss(blend(8), 0.08))), 3),
            "visual.motion": round(min(1, max(0, rng.gauss(blend(9), 0.08))), 3),
            "visual.colourfulness": round(min(1, max(0, rng.gauss(blend(10), 0.08))), 3),
            "visual.cut_rate": round(max(0.0, rng.gauss(blend(11), 0.15)), 3),
            "visual.dominant_colour": rng.choice(s_main[12]) if rng.random() < 0.85 else rng.choice(s_second[12]),
        }
        # Songs often have no video: their visual features (from cover art)
        # are sometimes missing, to exercise imputation.
        if kind == "song" and rng.random() < 0.08:
            row["visual.motion"] = ""
            row["visual.cut_rate"] = ""
        items.append({"row": row, "style": style, "quality": quality, "kind": kind, "title": title,
                      "popularity": rng.paretovariate(1.6)})
    return items


def make_users(rng, n_users):
    users = []
    for u in range(n_users):
        taste = [rng.gauss(0, 0.4) for _ in STYLES]
        for s in rng.sample(range(len(STYLES)), rng.choice([1, 2, 2, 3])):
            taste[s] += rng.uniform(1.2, 2.2)
        dislike = rng.randrange(len(STYLES))
        if taste[dislike] < 1:
            taste[dislike] -= 1.2
        r = rng.random()
        lang = "en" if r < 0.62 else ("zh" if r < 0.92 else "both")
        activity = min(60, max(3, int(rng.lognormvariate(2.4, 0.75))))
        users.append({"user_id": f"u{u + 1:03d}", "taste": taste, "lang": lang, "activity": activity,
                      "bias": rng.gauss(0, 0.3)})
    return users


def affinity(user, item):
    return sum(t * s for t, s in zip(user["taste"], item["style"])) + 0.5 * item["quality"] + user["bias"]


def review_text(rng, lang, kind, title, level):
    aspects = ASPECTS_EN[kind] if lang == "en" else ASPECTS_ZH[kind]
    a, a2 = rng.sample(aspects, 2)
    if lang == "en":
        bank = [EN_STRONG_NEG, EN_MILD_NEG, EN_MIXED, EN_MILD_POS, EN_STRONG_POS][level]
        p, n = rng.choice(POS_EN), rng.choice(NEG_EN)
        text = rng.choice(bank).format(t=title, a=a, a2=a2, p=p, n=n, P=p.capitalize(), N=n.capitalize())
        if rng.random() < 0.08:
            text += "\n" + rng.choice(["Edit: still listening to it, weeks later.", "Update: my friends agree.",
                                       'As the chorus says, "hold on".'])
    else:
        bank = [ZH_STRONG_NEG, ZH_MILD_NEG, ZH_MIXED, ZH_MILD_POS, ZH_STRONG_POS][level]
        text = rng.choice(bank).format(t=title, a=a, a2=a2, p=rng.choice(POS_ZH), n=rng.choice(NEG_ZH))
    return text


def make_reviews(rng, users, items, target):
    reviews = []
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    pop_total = sum(it["popularity"] for it in items)
    for user in users:
        n = user["activity"]
        chosen = set()
        scored = sorted(range(len(items)), key=lambda i: -affinity(user, items[i]))
        liked_pool = scored[:60]
        while len(chosen) < n:
            r = rng.random()
            if r < 0.55:
                i = rng.choice(liked_pool)
            elif r < 0.8:
                x = rng.uniform(0, pop_total)
                acc = 0
                for i, it in enumerate(items):
                    acc += it["popularity"]
                    if acc >= x:
                        break
            else:
                i = rng.randrange(len(items))
            chosen.add(i)
        t0 = start + datetime.timedelta(days=rng.uniform(0, 500))
        for k, i in enumerate(sorted(chosen, key=lambda _: rng.random())):
            item = items[i]
            a = affinity(user, item) + rng.gauss(0, 0.5)
            p_like = sigmoid(2.0 * (a - 0.6))
            level = min(4, max(0, int(p_like * 5)))
            stars = min(5, max(1, round(1 + 4 * p_like + rng.gauss(0, 0.5))))
            lang = user["lang"] if user["lang"] != "both" else rng.choice(["en", "zh"])
            when = t0 + datetime.timedelta(days=k * rng.uniform(0.5, 6), seconds=rng.randrange(86400))
            reviews.append({
                "user_id": user["user_id"],
                "item_id": item["row"]["item_id"],
                "rating": "" if rng.random() < 0.1 else str(stars),
                "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "text": review_text(rng, lang, item["kind"], item["title"], level),
            })
    reviews.sort(key=lambda r: (r["timestamp"], r["user_id"], r["item_id"]))
    for k, r in enumerate(reviews):
        r["review_id"] = f"r{k + 1:05d}"
    return reviews


def write_csv(path, fieldnames, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fieldnames, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sample"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--users", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    items = make_items(rng, args.items)
    users = make_users(rng, args.users)
    reviews = make_reviews(rng, users, items, 3000)
    os.makedirs(args.out, exist_ok=True)
    item_fields = list(items[0]["row"].keys())
    write_csv(os.path.join(args.out, "items.csv"), item_fields, [it["row"] for it in items])
    write_csv(os.path.join(args.out, "reviews.csv"),
              ["review_id", "user_id", "item_id", "rating", "timestamp", "text"], reviews)
    langs = {}
    for u in users:
        langs[u["lang"]] = langs.get(u["lang"], 0) + 1
    print(json.dumps({"items": len(items), "users": len(users), "reviews": len(reviews), "languages": langs}))


if __name__ == "__main__":
    main()
