#!/usr/bin/env python3
"""Exact cosine top-k: `avrec topk` against (a) the seed article's approach,
scikit-learn's cosine_similarity followed by a sort, and (b) faiss's exact
inner-product index (IndexFlatIP) on L2-normalised vectors, on the same random
matrices, in one run, same thread count.

Prints, per workload, user-item pairs scored per second and peak resident
memory of each (each runs in its own process; rusage of that process), and the
ratios avrec / peer. avrec's rate is given twice: for the scoring and writing
phase (after its CSV input is parsed; the peers' inputs are already in
memory) and for the whole command.

Workloads (users x items x dims, top k):
  compare  4,000 x 50,000 x 128, k = 50   all three
  large    200,000 x 50,000 x 128, k = 50 avrec and faiss (scikit-learn would
           need a 40 GB similarity matrix); the target is avrec within 2 GB.
  d64      20,000 x 10,000 x 64, k = 50   avrec and faiss
  d128     20,000 x 10,000 x 128, k = 50  avrec and faiss

avrec picks its kernel when it starts (AVX-512 where the CPU has it); each
workload also runs it with AVREC_ISA=avx2 (the build's Eigen GEMM) and checks
that both write the same bytes.

Usage: tools/.venv/bin/python bench/topk_bench.py [--threads 2] [--workloads compare large]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
WORKLOADS = {"compare": (4000, 50000, 128, 50), "large": (200000, 50000, 128, 50),
             "d64": (20000, 10000, 64, 50), "d128": (20000, 10000, 128, 50)}

PEER = r'''
import os, sys, time, resource, json
import numpy as np
threads, kind, k = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
os.environ["OMP_NUM_THREADS"] = str(threads)
U = np.load(sys.argv[4]); X = np.load(sys.argv[5])
t0 = time.perf_counter()
if kind == "sklearn":
    from sklearn.metrics.pairwise import cosine_similarity
    S = cosine_similarity(U, X)
    idx = np.argsort(-S, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(S, idx, axis=1)
else:
    import faiss
    faiss.omp_set_num_threads(threads)
    Un = U / np.linalg.norm(U, axis=1, keepdims=True)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(X.shape[1])
    index.add(Xn.astype(np.float32))
    top, idx = index.search(Un.astype(np.float32), k)
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "first": idx[0][:5].tolist(),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def run_measured(cmd, env=None):
    """Runs cmd, returns (stdout, stderr, wall seconds, peak RSS MB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out_chunks, err_chunks = [], []
    import threading

    def drain(stream, sink):
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)
    ts = [threading.Thread(target=drain, args=(p.stdout, out_chunks)),
          threading.Thread(target=drain, args=(p.stderr, err_chunks))]
    for t in ts:
        t.start()
    _, status, usage = os.wait4(p.pid, 0)
    for t in ts:
        t.join()
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{b''.join(err_chunks).decode()[-2000:]}")
    return b"".join(out_chunks).decode(), b"".join(err_chunks).decode(), secs, usage.ru_maxrss / 1024


def write_csv(path, prefix, m):
    with open(path, "w") as f:
        f.write("id," + ",".join(f"v{j}" for j in range(m.shape[1])) + "\n")
        for i in range(0, m.shape[0], 10000):
            block = m[i:i + 10000]
            lines = [f"{prefix}{i + r}," + ",".join(f"{v:.6g}" for v in row) for r, row in enumerate(block)]
            f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--avrec", default=os.path.join(ROOT, "build", "avrec"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workloads", nargs="*", default=["compare", "large"])
    ap.add_argument("--work", default=os.path.join(HERE, "work", "topk"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    report = {}
    for name in args.workloads:
        nu, ni, d, k = WORKLOADS[name]
        rng = np.random.default_rng(20261129)
        U = rng.standard_normal((nu, d), dtype=np.float32)
        X = rng.standard_normal((ni, d), dtype=np.float32)
        # What avrec reads (CSV, 6 significant digits) is what the peers get.
        paths = {n: os.path.join(args.work, f"{name}.{n}") for n in ("u.csv", "i.csv", "u.npy", "i.npy", "out.jsonl")}
        write_csv(paths["u.csv"], "u", U)
        write_csv(paths["i.csv"], "i", X)
        U = np.loadtxt(paths["u.csv"], delimiter=",", skiprows=1, usecols=range(1, d + 1), dtype=np.float32)
        X = np.loadtxt(paths["i.csv"], delimiter=",", skiprows=1, usecols=range(1, d + 1), dtype=np.float32)
        np.save(paths["u.npy"], U)
        np.save(paths["i.npy"], X)
        pairs = nu * ni
        r = {"users": nu, "items": ni, "dims": d, "k": k, "threads": args.threads}
        outputs = {}
        for label, isa in (("avrec", None), ("avrec_avx2", "avx2")):
            env = dict(os.environ)
            env.pop("AVREC_ISA", None)
            if isa:
                env["AVREC_ISA"] = isa
            out_path = paths["out.jsonl"] + (".avx2" if isa else "")
            _, err, wall, rss = run_measured([args.avrec, "topk", "--users", paths["u.csv"], "--items", paths["i.csv"],
                                              "--k", str(k), "--out", out_path, "--threads", str(args.threads)], env=env)
            m = re.search(r"read ([0-9.]+) s, total ([0-9.]+) s", err)
            read_s, total_s = float(m.group(1)), float(m.group(2))
            with open(out_path, "rb") as f:
                outputs[label] = f.read()
            first = [x["item_id"] for x in json.loads(outputs[label].split(b"\n", 1)[0])["items"][:5]]
            kernel = re.search(r"kernel ([a-z0-9]+)", err)
            r[label] = {"kernel": kernel.group(1) if kernel else "?", "pairs_per_second_scoring": round(pairs / (total_s - read_s)),
                        "pairs_per_second_whole_command": round(pairs / wall), "seconds_scoring": round(total_s - read_s, 2),
                        "seconds_whole_command": round(wall, 2), "peak_rss_mb": round(rss), "first_user_top5": first}
            if isa:
                os.unlink(out_path)
        r["same_bytes_both_kernels"] = outputs["avrec"] == outputs["avrec_avx2"]
        r["ratio_avrec_scoring_over_avx2_kernel"] = round(r["avrec"]["pairs_per_second_scoring"] /
                                                          r["avrec_avx2"]["pairs_per_second_scoring"], 2)
        peers = ["faiss"] + (["sklearn"] if name == "compare" else [])
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
        for peer in peers:
            out, _, _, rss = run_measured([sys.executable, "-c", PEER, str(args.threads), peer, str(k),
                                           paths["u.npy"], paths["i.npy"]], env=env)
            res = json.loads(out)
            r[peer] = {"pairs_per_second": round(pairs / res["seconds"]), "seconds": round(res["seconds"], 2),
                       "peak_rss_mb": round(rss), "first_user_top5": [f"i{j}" for j in res["first"]]}
            r[f"ratio_avrec_scoring_over_{peer}"] = round(r["avrec"]["pairs_per_second_scoring"] / r[peer]["pairs_per_second"], 2)
            r[f"ratio_avrec_whole_over_{peer}"] = round(r["avrec"]["pairs_per_second_whole_command"] / r[peer]["pairs_per_second"], 2)
        report[name] = r
        print(json.dumps({name: r}, indent=1), flush=True)
        for p in paths.values():
            if os.path.exists(p):
                os.unlink(p)


if __name__ == "__main__":
    main()
