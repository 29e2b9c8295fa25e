#!/usr/bin/env python3
"""`cep run --order sort` beyond memory (docs/semantics.md §8): the external sort.

Input: four copies of the fraud example, each with its keys renamed (card, user, order_id get a
suffix), so that events of equal time from different copies tie and arrival order decides; all
lines shuffled.
  1. --order sort with a --sort-memory far below the input (sorted runs on disk, merged) writes
     the same bytes as --order sort in memory, also with --with-events (raw records survive the
     round trip) and under --engine interp; stderr says how many runs; the run folder is gone.
  2. --sort-dir that cannot be written: exit 3 naming the folder; --sort-memory without
     --order sort: exit 2.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

KEYS = ("card", "user", "order_id")


def run(cep, rules, events, *extra, expect=0):
    got = subprocess.run([cep, "run", *rules, "-i", events, *extra], capture_output=True,
                         timeout=300)
    if got.returncode != expect:
        sys.exit(f"cep run {' '.join(extra)}: exit {got.returncode}, expected {expect}: "
                 f"{got.stderr.decode()}")
    return got.stdout.decode(), got.stderr.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cep", required=True)
    ap.add_argument("--example", required=True)
    args = ap.parse_args()
    rules = sorted(os.path.join(args.example, f)
                   for f in os.listdir(args.example) if f.endswith(".cep"))
    with open(os.path.join(args.example, "events.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]

    lines = []
    for copy in range(4):
        for r in records:
            r = dict(r)
            for k in KEYS:
                if k in r and isinstance(r[k], str):
                    r[k] = f"{r[k]}-{copy}"
            lines.append(json.dumps(r, separators=(",", ":")) + "\n")
    random.Random(11).shuffle(lines)

    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "shuffled.jsonl")
        with open(events, "w", encoding="utf-8") as f:
            f.writelines(lines)
        runs_dir = os.path.join(tmp, "runs")
        os.mkdir(runs_dir)
        spill = ["--sort-memory", "64K", "--sort-dir", runs_dir]
        summary = []
        for extra in ([], ["--with-events"], ["--engine", "interp"]):
            memory, _ = run(args.cep, rules, events, "--order", "sort", *extra)
            disk, err = run(args.cep, rules, events, "--order", "sort", *spill, *extra)
            if not memory:
                sys.exit(f"--order sort {extra} wrote nothing")
            if disk != memory:
                sys.exit(f"--order sort {extra}: the sort on disk differs from the one in memory")
            if "runs on disk" not in err or f"{len(lines)} events were sorted" not in err:
                sys.exit(f"--order sort {extra}: no line about the runs on disk: {err}")
            if os.listdir(runs_dir):
                sys.exit(f"--order sort left {os.listdir(runs_dir)} in --sort-dir")
            summary.append(len(memory.splitlines()))

        _, err = run(args.cep, rules, events, "--order", "sort", "--sort-memory", "64K",
                     "--sort-dir", os.path.join(tmp, "missing"), expect=3)
        if "cannot create a folder for --order sort's runs" not in err or "missing" not in err:
            sys.exit(f"an unwritable --sort-dir: {err}")
        _, err = run(args.cep, rules, events, "--sort-memory", "64K", expect=2)
        if "apply to --order sort only" not in err:
            sys.exit(f"--sort-memory without --order sort: {err}")
    print(f"check_sort_spill: {len(lines)} shuffled events, {summary} records, equal on disk and "
          f"in memory")


if __name__ == "__main__":
    main()
