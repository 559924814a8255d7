#!/usr/bin/env python3
"""Lists functions in src/ longer than a limit (default 80 lines), from the
line that opens the body to the line that closes it. A heuristic for
clang-formatted code: a definition's body opens with '{' at the end of a
line at namespace level and closes with '}' at the same indentation.

Usage: tools/long_functions.py [--limit 80] [paths...]   (exit 1 if any)"""
import argparse
import os
import re
import sys

KEYWORDS = re.compile(r"^\s*(namespace|struct|class|enum|extern|union|template\s*<[^>]*>\s*(struct|class))\b")


def functions(path):
    """Yields (signature, first line, length) of every function definition
    whose signature starts at indentation 0 or 2 (namespace or class level)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or indent > 2 or line.lstrip().startswith(("//", "#", "}", "public:", "private:")):
            i += 1
            continue
        # Gather the statement up to '{' or ';'.
        j = i
        while j < len(lines) and not lines[j].rstrip().endswith(("{", ";", "}")):
            j += 1
        if j >= len(lines):
            break
        head = " ".join(l.strip() for l in lines[i:j + 1])
        if lines[j].rstrip().endswith("{") and "(" in head and not KEYWORDS.match(head) and \
                not re.match(r"^(if|for|while|switch|else|do|catch)\b", head) and "= [" not in head:
            close = " " * indent + "}"
            for k in range(j + 1, len(lines)):
                if lines[k].startswith(close) and not lines[k].startswith(close + " ") or lines[k] == close:
                    yield head, i + 1, k - i + 1
                    i = k
                    break
        i = j + 1 if j > i else i + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=80)
    ap.add_argument("paths", nargs="*", default=["src"])
    args = ap.parse_args()
    found = 0
    for root in args.paths:
        for dirpath, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith((".cpp", ".h")):
                    p = os.path.join(dirpath, f)
                    for head, line, n in functions(p):
                        if n > args.limit:
                            found += 1
                            print(f"{p}:{line}: {n} lines: {head[:90]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
