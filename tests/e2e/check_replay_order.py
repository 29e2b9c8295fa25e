#!/usr/bin/env python3
"""Replaying a disordered file (docs/semantics.md §8): the late summary's hint and --order sort.

On the fraud example (events up to 2 s out of order):
  1. with the default --max-delay 0s, events are late: stderr warns with their share and names
     a --max-delay; run again with that delay, no event is late and the matches are those of
     --max-delay 2s;
  2. --order sort sets nothing aside and gives the same matches;
  3. a shuffled copy of the file (every line moved) under --order sort still gives them.
  4. --at-end drop writes exactly the records without "@at_end" and says how many it left out.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile


def run(cep, rules, events, *extra):
    got = subprocess.run([cep, "run", *rules, "-i", events, *extra], capture_output=True,
                         timeout=120)
    if got.returncode != 0:
        sys.exit(f"cep run {' '.join(extra)}: exit {got.returncode}: {got.stderr.decode()}")
    return got.stdout.decode(), got.stderr.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cep", required=True)
    ap.add_argument("--example", required=True)
    args = ap.parse_args()
    rules = sorted(os.path.join(args.example, f)
                   for f in os.listdir(args.example) if f.endswith(".cep"))
    events = os.path.join(args.example, "events.jsonl")

    reference, err = run(args.cep, rules, events, "--max-delay", "2s")
    if re.search(r"\bw(as|ere) late\b|late events?\b", err):
        sys.exit(f"--max-delay 2s set events aside: {err}")

    _, err = run(args.cep, rules, events)
    m = re.search(r"warning: (\d+) of (\d+) events \(([\d.]+)%\) were late .*"
                  r"--max-delay (\w+) would have kept them all, and --order sort", err)
    if not m:
        sys.exit(f"no late warning with a --max-delay hint on stderr:\n{err}")
    late, total, hint = int(m.group(1)), int(m.group(2)), m.group(4)
    if late == 0 or total != 2049:
        sys.exit(f"unexpected counts in {m.group(0)!r}")
    hinted, err = run(args.cep, rules, events, "--max-delay", hint)
    if re.search(r"\bw(as|ere) late\b|late events?\b", err) or hinted != reference:
        sys.exit(f"--max-delay {hint} (the hint) still sets events aside or differs: {err}")

    ordered, err = run(args.cep, rules, events, "--order", "sort")
    if re.search(r"\bw(as|ere) late\b|late events?\b", err) or ordered != reference:
        sys.exit(f"--order sort differs from --max-delay 2s: {err}")

    with open(events, encoding="utf-8") as f:
        lines = f.readlines()
    random.Random(7).shuffle(lines)
    with tempfile.TemporaryDirectory() as tmp:
        shuffled = os.path.join(tmp, "shuffled.jsonl")
        with open(shuffled, "w", encoding="utf-8") as f:
            f.writelines(lines)
        # Equal times keep arrival order: the example has none, so shuffling changes nothing.
        again, err = run(args.cep, rules, shuffled, "--order", "sort")
        if re.search(r"\bw(as|ere) late\b|late events?\b", err) or again != reference:
            sys.exit(f"--order sort on a shuffled copy differs: {err}")

    at_end = [r for r in reference.splitlines() if r.endswith(',"@at_end":true}')]
    dropped, err = run(args.cep, rules, events, "--max-delay", "2s", "--at-end", "drop")
    kept = [r for r in reference.splitlines() if not r.endswith(',"@at_end":true}')]
    if dropped.splitlines() != kept:
        sys.exit("--at-end drop is not the records without \"@at_end\"")
    if not at_end or f"left out {len(at_end)} record" not in err:
        sys.exit(f"--at-end drop: expected {len(at_end)} left out on stderr: {err}")
    print(f"check_replay_order: {late} of {total} late at 0s, none at the hinted --max-delay "
          f"{hint} nor with --order sort (also shuffled); {len(at_end)} records at the end")


if __name__ == "__main__":
    main()
