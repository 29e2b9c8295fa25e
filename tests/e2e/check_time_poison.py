#!/usr/bin/env python3
"""One record with an absurd event time cannot poison the watermark (issue 9, section 1).

Copies examples/fraud/events.jsonl with one record inserted after line 10: a copy of line 10
whose "ts" is 9223372036854775000 (near the int64 maximum). Before event-time ranges existed
that record raised the watermark to the end of time and every later event was late (fewer
matches, exit 0). Now it must be a dead letter naming the reason, and the matches (with
--engine interp and jit, --max-delay 2s) must be byte for byte those of the clean stream.

Python 3, standard library only. Exit status 0 when all holds, 1 otherwise (with the reasons).
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

POISON_TS = 9223372036854775000
AFTER_LINE = 10


def run(cep, rules, events, engine, dead=None):
    argv = [cep, "run", *rules, "--input", events, "--max-delay", "2s", "--engine", engine]
    if dead:
        argv += ["--dead-letter", dead]
    p = subprocess.run(argv, capture_output=True, timeout=300)
    return argv, p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    ap.add_argument("--example", required=True)
    opts = ap.parse_args()
    rules = sorted(glob.glob(os.path.join(opts.example, "*.cep")))
    clean = os.path.join(opts.example, "events.jsonl")
    with open(clean, encoding="utf-8") as f:
        lines = f.read().splitlines()
    record = json.loads(lines[AFTER_LINE - 1])
    record["ts"] = POISON_TS
    poison_line = json.dumps(record, separators=(",", ":"))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        poisoned = os.path.join(tmp, "events.jsonl")
        with open(poisoned, "w", encoding="utf-8") as f:
            f.write("\n".join(lines[:AFTER_LINE] + [poison_line] + lines[AFTER_LINE:]) + "\n")
        for engine in ("interp", "jit"):
            _, want = run(opts.cep, rules, clean, engine)
            dead = os.path.join(tmp, f"dead-{engine}.jsonl")
            argv, got = run(opts.cep, rules, poisoned, engine, dead)
            if want.returncode != 0 or got.returncode != 0:
                problems.append(f"[{engine}] exit codes {want.returncode} / {got.returncode}: "
                                f"{got.stderr.decode(errors='replace')[:500]}")
                continue
            if not want.stdout:
                problems.append(f"[{engine}] the clean stream gave no matches")
            if got.stdout != want.stdout:
                problems.append(f"[{engine}] matches differ from the clean stream's "
                                f"({len(got.stdout.splitlines())} lines, want "
                                f"{len(want.stdout.splitlines())}): {' '.join(argv)}")
            with open(dead, encoding="utf-8") as f:
                letters = [json.loads(line) for line in f]
            if len(letters) != 1:
                problems.append(f"[{engine}] {len(letters)} dead letters, want 1")
                continue
            d = letters[0]
            if d.get("line") != AFTER_LINE + 1 or d.get("record") != poison_line:
                problems.append(f"[{engine}] wrong dead letter: {d}")
            if "outside the accepted range" not in d.get("reason", ""):
                problems.append(f"[{engine}] the reason does not say why: {d.get('reason')}")
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    if not problems:
        print("ok: the poisoned record is a dead letter and the matches are unchanged")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
