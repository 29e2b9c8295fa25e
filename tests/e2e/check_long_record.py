#!/usr/bin/env python3
"""`cep run --max-record-bytes`: a record longer than the limit is a dead letter, read without
ever being buffered whole (issue 9, section 5).

Generates (in a temporary folder, nothing large is committed) a stream of three payments with,
between them, one line of 8 MB, and runs `cep run --max-record-bytes 65536 --engine interp`:

  * the run exits 0 and its matches are those of the same stream with a short line instead;
  * the dead-letter file has one record for line 2 whose "record_bytes" is the line's length,
    "truncated" is true, "record" is its first 1024 bytes and the reason names the limit;
  * the peak memory (max RSS) of the run grows by less than 4 MiB over the short-line run,
    so the 8 MB line was never held in memory.

Python 3, standard library only. Exit status 0 when all holds, 1 otherwise (with the reasons).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

RULES = """event Payment { card: string, amount: float, ts: time }
pattern pair partition by card within 1h {
    a: Payment(amount > 100.0) -> b: Payment(amount > 100.0)
}
emit Pair { card: a.card, first: a.amount, second: b.amount }
"""
FIRST = '{"card":"c1","amount":200.0,"ts":1000}\n'
LAST = '{"card":"c1","amount":300.0,"ts":2000}\n{"card":"c2","amount":5.0,"ts":3000}\n'
LONG = '{"card":"c9","amount":999.0,"note":"' + "y" * (8 << 20) + '","ts":1500}'
LIMIT = 65536


def run(argv):
    """Runs argv; returns (exit code, stdout, stderr, max RSS in KiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), usage.ru_maxrss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    opts = ap.parse_args()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.cep")
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES)
        streams = {"short": FIRST + '{"card":"c9","amount":1.0,"ts":1500}\n' + LAST,
                   "long": FIRST + LONG + "\n" + LAST}
        results = {}
        for name, text in streams.items():
            events = os.path.join(tmp, name + ".jsonl")
            with open(events, "w", encoding="utf-8") as f:
                f.write(text)
            dead = os.path.join(tmp, name + ".dead.jsonl")
            argv = [opts.cep, "run", rules, "--input", events, "--engine", "interp",
                    "--max-record-bytes", str(LIMIT), "--dead-letter", dead]
            code, out, err, rss = run(argv)
            if code != 0:
                problems.append(f"{name}: exit {code}: {err.decode(errors='replace')[:400]}")
            with open(dead, encoding="utf-8") as f:
                results[name] = (out, [json.loads(line) for line in f], rss)
        short_out, short_dead, short_rss = results["short"]
        long_out, long_dead, long_rss = results["long"]
        if not short_out or long_out != short_out:
            problems.append(f"matches differ: {long_out!r} vs {short_out!r}")
        if short_dead:
            problems.append(f"the short stream has dead letters: {short_dead}")
        if len(long_dead) != 1:
            problems.append(f"{len(long_dead)} dead letters, want 1")
        else:
            d = long_dead[0]
            want = {"line": 2, "record_bytes": len(LONG), "truncated": True,
                    "record": LONG[:1024]}
            for key, value in want.items():
                if d.get(key) != value:
                    problems.append(f"dead letter {key}: {str(d.get(key))[:80]!r}, want "
                                    f"{str(value)[:80]!r}")
            if f"longer than --max-record-bytes {LIMIT}" not in d.get("reason", ""):
                problems.append(f"the reason does not name the limit: {d.get('reason')!r}")
        if long_rss - short_rss >= 4096:
            problems.append(f"peak memory grew by {long_rss - short_rss} KiB for an 8 MiB line "
                            f"({short_rss} -> {long_rss} KiB): the line was buffered")
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    if not problems:
        print(f"ok: the long line is a dead letter; peak memory {short_rss} -> {long_rss} KiB")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
