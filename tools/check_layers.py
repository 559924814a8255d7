#!/usr/bin/env python3
"""Checks the dependency directions between src/ folders (docs/architecture.md).

Every #include of an avrec header ("avrec/x.h", public, or "folder/x.h",
internal) from a file in src/F is an edge F -> G, G being the folder that
implements the header. The check fails when:
  - a public header is not assigned to a folder (update PUBLIC below), or
  - an edge goes from a lower layer to a higher one, or between two folders
    of one layer (either would allow a cycle).
With --graph it prints the folder graph (for the notes and the docs).

Usage: tools/check_layers.py [--graph] [--root DIR]
"""
import argparse
import os
import re
import sys

# Folders from the bottom up; a folder may include only from lower layers
# (and from itself).
LAYERS = [
    ["common"],
    ["io", "cluster"],
    ["data", "tokenize"],
    ["workspace", "model"],
    ["sentiment", "features"],
    ["profile", "evaluate"],
    ["rank"],
    ["output"],
    ["report"],
    ["pipeline"],
    ["cli"],
]

# Public header -> the folder implementing it.
PUBLIC = {
    "error.h": "common", "hash.h": "common", "json.h": "io", "log.h": "common", "numeric.h": "common",
    "options.h": "common", "parallel.h": "common", "problem.h": "common", "text.h": "common",
    "version.h": "common", "io.h": "io", "json_values.h": "io", "data.h": "data", "table.h": "data",
    "tokenizer.h": "tokenize",
    "workspace.h": "workspace", "model.h": "model", "encoder.h": "model", "sentiment.h": "sentiment",
    "features.h": "features", "text_features.h": "features", "profile.h": "profile",
    "evaluate.h": "evaluate", "rank.h": "rank", "recommend.h": "rank", "output.h": "output",
    "pipeline.h": "pipeline", "diff.h": "report", "report.h": "report",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def level_of():
    return {f: i for i, layer in enumerate(LAYERS) for f in layer}


def sources(root):
    """(folder, shown path, file path) of every C++ file: src/F/* belong to F,
    include/avrec/X.h to the folder implementing X."""
    src = os.path.join(root, "src")
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith((".cpp", ".h")):
                    yield folder, f"src/{folder}/{name}", os.path.join(path, name)
    inc = os.path.join(root, "include", "avrec")
    for name in sorted(os.listdir(inc)):
        if name.endswith(".h"):
            yield PUBLIC.get(name, "?"), f"include/avrec/{name}", os.path.join(inc, name)


def edges(root):
    out = {}
    problems = []
    for folder, shown, path in sources(root):
        if folder == "?":
            problems.append(f"{shown}: public header not assigned to a folder (update PUBLIC)")
            continue
        if True:
            text = open(path, encoding="utf-8").read()
            for inc in INCLUDE.findall(text):
                if inc.startswith("avrec/"):
                    target = PUBLIC.get(inc[len("avrec/"):])
                    if target is None:
                        problems.append(f"{shown}: public header {inc} is not assigned to a folder")
                        continue
                elif "/" in inc:
                    target = inc.split("/")[0]
                else:
                    continue
                if target != folder:
                    out.setdefault((folder, target), []).append(f"{shown}: #include \"{inc}\"")
    return out, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--graph", action="store_true")
    args = ap.parse_args()
    graph, problems = edges(args.root)
    level = level_of()
    for (a, b), where in sorted(graph.items()):
        if a not in level or b not in level:
            problems.append(f"folder {a if a not in level else b} is in no layer (update LAYERS): {where[0]}")
        elif level[b] >= level[a]:
            problems.append(f"{a} -> {b} goes {'sideways' if level[a] == level[b] else 'up'} "
                            f"({a} is layer {level[a]}, {b} layer {level[b]}): {where[0]}")
    if args.graph:
        by_folder = {}
        for a, b in graph:
            by_folder.setdefault(a, set()).add(b)
        for f in sorted(by_folder, key=lambda f: (level.get(f, 99), f)):
            print(f"{f} -> {', '.join(sorted(by_folder[f], key=lambda g: (level.get(g, 99), g)))}")
    for p in problems:
        print("check_layers:", p)
    if not problems and not args.graph:
        print(f"check_layers: {len(graph)} folder dependencies, all downward")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
