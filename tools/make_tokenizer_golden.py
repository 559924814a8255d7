#!/usr/bin/env python3
"""Generates the tokenizer golden files: input texts and the ids the
reference tokenizer (Hugging Face `tokenizers`, the fast BERT tokenizer)
gives them, for a model directory's vocabulary and settings.

Each output line is JSON: {"text": ...} or, for generated long inputs,
{"gen": {"repeat": S, "times": N}}; then "max_len" (ids kept, special
tokens included) and "ids". The C++ test (tests/tokenizer_test.cpp) checks
avrec against every line.

The slow Python BertTokenizer is run too; where it disagrees with the fast one
the line records it ("slow_differs": true): the fast tokenizer is the
reference avrec follows (it is what the models were trained with).

Usage: tools/.venv/bin/python tools/make_tokenizer_golden.py --model models/all-minilm-l6-v2 \
          --out tests/data/tokenizer/minilm.golden.jsonl
"""
import argparse
import json
import os
import random

CASES = [
    # Plain English, punctuation, numbers.
    "Hello, world!",
    "This album is AMAZING... I can't stop listening to it!!!",
    "It's a 10/10 from me -- the best $9.99 I've spent in 2024.",
    "Don't you think the ending was (slightly) rushed?",
    "e-mail me at fan@example.com or visit https://example.com/a?b=c&d=e#f",
    "#nowplaying @artist #1 hit_song ~tilde~ `code` [brackets] {braces} <angle> |pipe| ^caret^",
    "3.14159 1,234,567.89 -42 +7 1e10 0xFF 007",
    "The quick brown fox jumps over the lazy dog.",
    "unaffable unbelievable antidisestablishmentarianism supercalifragilisticexpialidocious",
    "lower UPPER MiXeD camelCase snake_case kebab-case",
    "rock'n'roll isn't dead; it's just resting.",
    "Tabs\tand\nnewlines\r\nand  multiple   spaces",
    # Accents and case.
    "naïve café résumé façade jalapeño Ångström",
    "NAÏVE CAFÉ RÉSUMÉ ÜBER STRASSE Straße",
    "İstanbul ıspanak DİYARBAKIR",
    "ΟΔΟΣ ΣΟΦΟΣ σοφός Σ",
    "Москва МОСКВА ёлка Ёлка",
    "Ǆ ǅ ǆ ﬀ ﬁ ﬂ ŉ",
    "e\u0301 a\u0308 o\u0302\u0323 n\u0303",
    "\u0301leading combining mark",
    "Z\u0335\u0321\u0334a\u0337\u0322l\u0336\u0327g\u0338o\u0335 text",
    "Ⅰ Ⅱ Ⅻ ① ② ⑩ ㎏ ㎡",
    # Chinese, Japanese, Korean.
    "这首歌太好听了，旋律非常优美！",
    "酒店位置很好，但是房间太小了。服务员态度一般。",
    "我爱NLP和BERT模型2024年",
    "iPhone15 Pro価格は高い",
    "日本語のテキスト、カタカナとひらがな。",
    "한국어 텍스트입니다",
    "豈 更 車 賈 滑",
    "\U00020000\U0002A6DF\U0002B820\U0002B920\U0002CEAF\U0002F800",
    "中文English混合123数字",
    "「引号」『书名号』（括号）【方括号】〈尖括号〉",
    "全角，标点！问号？冒号：分号；省略号……破折号——",
    "ＡＢＣ１２３ｘｙｚ",
    # Punctuation and symbols from other scripts.
    "¿Qué tal? ¡Muy bien!",
    "“smart quotes” ‘single’ «guillemets» ‹single›",
    "em—dash en–dash … ellipsis · middle dot • bullet",
    "© ® ™ € £ ¥ ₹ ° ± × ÷ ∞ ≈ ≠ √ ∑",
    "Arabic: مرحبا بالعالم، كيف حالك؟",
    "Hebrew: שלום עולם",
    "Hindi: नमस्ते दुनिया",
    "Thai: สวัสดีชาวโลก",
    # Emoji and sequences.
    "I love this song 🎵🎶❤️",
    "family 👨‍👩‍👧‍👦 and couple 👩‍❤️‍👨",
    "thumbs 👍🏽 👍🏿 flags 🇫🇷🇨🇳 keycap 1️⃣ #️⃣",
    "emoji-only: 😀😃😄😁😆",
    "text🙂between🙃words",
    # Zero-width and format characters.
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060joiner",
    "soft\u00adhyphen",
    "bidi \u202etext\u202c marks \u200e\u200f",
    "private use \ue000\uf8ff done",
    "unassigned \u0378 \U000E0001 noncharacter \uffff",
    # Whitespace variants.
    "non\u00a0breaking\u3000ideographic\u2003em\u2009thin",
    "line\u2028separator\u2029paragraph\u0085next",
    "",
    "   ",
    "\t\t",
    "\u3000\u00a0",
    # Control characters.
    "bell\x07 escape\x1b[31mred\x1b[0m del\x7f",
    "nul\x00char",
    "c1 \x80\x85\x9f controls",
    "replacement \ufffd char",
    "form\x0cfeed vertical\x0btab",
    "unit\x1fseparator",
    # Special tokens in text.
    "[CLS] hello [SEP] world [PAD] [MASK] [UNK]",
    "lower [sep] and [cls] are not special",
    "glued[SEP]together[MASK]",
    "[[SEP]] [SEP[SEP]]",
    # Long words.
    "a" * 100,
    "a" * 101,
    "x" * 99 + "é",
    "abc☃def",
    "unbelievably" * 8,
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "http://" + "a" * 120 + ".com",
]


def generated_cases():
    yield {"repeat": "z", "times": 10000}                 # a 10,000-character word
    yield {"repeat": "word ", "times": 200000}            # a 1 MB line
    yield {"repeat": "好", "times": 5000}
    yield {"repeat": "The song is great, ", "times": 300}


def random_cases(seed, count):
    """Random mixes of characters from every class above."""
    rng = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        " \t\n.,;:!?'\"()[]{}<>-_/\\@#$%^&*+=~`|",
        "éèêëàâäôöûüçñÅØÆßİıΣσς",
        "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年好电影房酒店",
        "，。！？：；「」（）…—",
        "\u200b\u200c\u200d\ufeff\u00ad\u0301\u0308\u3000\u00a0\u2028",
        "🎵😀👍🏽❤️\u200d",
    ]
    for _ in range(count):
        n = rng.randint(1, 60)
        yield "".join(rng.choice(rng.choice(pools)) for _ in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="avrec model directory")
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra", nargs="*", default=[], help="more texts")
    ap.add_argument("--random", type=int, default=200)
    ap.add_argument("--max-len", type=int, default=512)
    args = ap.parse_args()

    from transformers import BertTokenizer, BertTokenizerFast
    manifest = json.load(open(os.path.join(args.model, "avrec-model.json")))
    t = manifest["tokenizer"]
    vocab = os.path.join(args.model, t["vocab"])
    kw = dict(do_lower_case=t["lowercase"], tokenize_chinese_chars=t["handle_chinese_chars"],
              strip_accents=t["strip_accents"])
    fast = BertTokenizerFast(vocab_file=vocab, **kw)
    slow = BertTokenizer(vocab_file=vocab, **kw)

    rows = []
    inputs = [(c, None) for c in CASES + args.extra] + [(None, g) for g in generated_cases()] + \
             [(c, None) for c in random_cases(20261129, args.random)]
    for text, gen in inputs:
        s = text if gen is None else gen["repeat"] * gen["times"]
        ids = fast(s, truncation=True, max_length=args.max_len)["input_ids"]
        row = {"text": s} if gen is None else {"gen": gen}
        row["max_len"] = args.max_len
        row["ids"] = ids
        if len(s) < 20000 and slow(s, truncation=True, max_length=args.max_len)["input_ids"] != ids:
            row["slow_differs"] = True
        rows.append(row)
    # Truncation at small lengths.
    for n in (2, 3, 8, 16):
        s = "The melody is wonderful, but the production feels a little thin in places."
        rows.append({"text": s, "max_len": n, "ids": fast(s, truncation=True, max_length=n)["input_ids"]})
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    differs = sum(1 for r in rows if r.get("slow_differs"))
    print(f"{args.out}: {len(rows)} cases; the slow BertTokenizer differs from the fast one on {differs}")


if __name__ == "__main__":
    main()
