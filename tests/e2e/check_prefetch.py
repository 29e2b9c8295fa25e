#!/usr/bin/env python3
"""The driver's prefetch hints change nothing (runtime/engine/driver.hpp "Prefetch").

The native aggregate takes the hints only when its keys' state is larger than a cache (2,048
keys for session, rolling and `none`, 16,384 for time windows), which no golden case reaches.
This generates (in a temporary folder) a stream over 20,000 int keys, out of order within the
allowed delay, with late events, and runs one rule set with every window kind, `ttl` (keys
erased while their hints are in flight) and `lateness`, through:

  * the interpreter (`--engine interp`: no hints),
  * the JIT (`--engine jit`: hints),
  * the rules compiled ahead (`cep compile`, `cep run X.cepo`: hints),
  * the JIT with `--workers 2` (no hints: the workers own the state);

every output (records, late events) must be byte-identical to the interpreter's, and the
stream must make records of every kind.

Python 3, standard library only. Exit status 0 when all holds, 1 otherwise (with the reasons).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

RULES = """event Ev { key: int, v: int, ts: time }

aggregate roll partition by key window rolling 10s ttl 30s { e: Ev }
having count(e) > 2
emit Roll { n: count(e), s: sum(e.v) }

aggregate sess partition by key window session gap 5s lateness 2s { e: Ev }
having count(e) > 1
emit Sess { n: count(e), hi: max(e.v) }

aggregate total partition by key window none ttl 20s { e: Ev }
having count(e) % 3 == 0
emit Total { n: count(e) }

aggregate tumb partition by key window tumbling 1m lateness 5s { e: Ev }
emit Tumb { n: count(e), lo: min(e.v) }

aggregate hop partition by key window hopping 30s every 10s { e: Ev }
having count(e) > 1
emit Hop { n: count(e) }
"""

# (keys, events, configurations): the wide stream over every kind's threshold, against the same
# engine without hints; the narrow one over the threshold of session, rolling and `none`, also
# against the interpreter (whose advance visits every key: too slow for the wide one).
CASES = [("wide", 20000, 120000, False, ["jit", "cepo", "workers2"]),
         ("narrow", 2100, 4000, True, ["interp", "jit", "cepo"])]
STREAMS = ["Roll", "Sess", "Total", "Tumb", "Hop"]


def stream_text(seed, keys, events, sweep):
    """JSON Lines: `events` events over `keys` keys, ~5 ms apart, some up to 1.5 s out of order
    (within --max-delay 2s), some 4-6 s late (the windows with lateness take them) and some
    70-90 s late (none does). `sweep`: the keys in turn (all of them live early), else at
    random."""
    r = random.Random(seed)
    lines = []
    t = 1_700_000_000_000
    for i in range(events):
        t += r.randrange(0, 10)
        ts = t
        u = r.random()
        if u < 0.05:
            ts = t - r.randrange(0, 1500)
        elif u < 0.06:
            ts = t - r.randrange(4000, 6000)
        elif u < 0.065:
            ts = t - r.randrange(70000, 90000)
        # A few hot keys (long rolling windows and sessions), the rest spread over all keys.
        key = r.randrange(50) if r.random() < 0.1 else i % keys if sweep else r.randrange(keys)
        lines.append(json.dumps({"key": key, "v": r.randrange(-50, 1000), "ts": ts},
                                separators=(",", ":")))
    return "\n".join(lines) + "\n"


def run(argv, env=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                       env=env)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def first_difference(a, b):
    al, bl = a.splitlines(), b.splitlines()
    at = next((i for i, (x, y) in enumerate(zip(al, bl)) if x != y), min(len(al), len(bl)))
    return f"at line {at + 1} ({len(bl)} lines against {len(al)})"


def run_case(cep, tmp, rules, artifact, case, problems):
    name, keys, count, sweep, configs = case
    events = os.path.join(tmp, name + ".jsonl")
    with open(events, "w", encoding="utf-8") as f:
        f.write(stream_text(7, keys, count, sweep))
    no_hints = dict(os.environ, CEP_PREFETCH="0")
    argv = {
        "nohints": ([rules, "--engine", "jit"], no_hints),
        "interp": ([rules, "--engine", "interp"], None),
        "jit": ([rules, "--engine", "jit"], None),
        "cepo": ([artifact], None),
        "workers2": ([rules, "--engine", "jit", "--workers", "2"], None),
    }
    outputs = {}
    for config in ["nohints"] + configs:
        args, env = argv[config]
        out = os.path.join(tmp, f"{name}.{config}.out.jsonl")
        late = os.path.join(tmp, f"{name}.{config}.late.jsonl")
        code, _, err = run([cep, "run", *args, "-i", events, "--max-delay", "2s", "-o", out,
                            "--late-output", late], env)
        if code != 0:
            problems.append(f"{name}, {config}: exit {code}: {err.strip()[:400]}")
            continue
        with open(out, "rb") as f_out, open(late, "rb") as f_late:
            outputs[config] = (f_out.read(), f_late.read())
    if "nohints" not in outputs:
        return
    want = outputs["nohints"]
    for config, got in outputs.items():
        for part, a, b in (("records", want[0], got[0]), ("late events", want[1], got[1])):
            if a != b:
                problems.append(f"{name}, {config}: {part} differ from the run without hints "
                                + first_difference(a, b))
    counts = {s: 0 for s in STREAMS}
    for line in want[0].splitlines():
        s = json.loads(line).get("@stream")
        counts[s] = counts.get(s, 0) + 1
    for s in STREAMS:
        if counts[s] < 20:
            problems.append(f"{name}: the stream makes only {counts[s]} {s} records (want >= 20)")
    late = len(want[1].splitlines())
    if late < 10:
        problems.append(f"{name}: the stream makes only {late} late events (want >= 10)")
    print(f"check_prefetch: {name} ({keys} keys, {count} events): "
          + ", ".join(f"{s} {counts[s]}" for s in STREAMS) + f"; {late} late; ran "
          + ", ".join(sorted(outputs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    opts = ap.parse_args()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.cep")
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES)
        artifact = os.path.join(tmp, "rules.cepo")
        code, _, err = run([opts.cep, "compile", rules, "-o", artifact])
        if code != 0:
            print(f"check_prefetch: cep compile failed ({code}):\n{err}")
            return 1
        for case in CASES:
            run_case(opts.cep, tmp, rules, artifact, case, problems)
    for p in problems:
        print("check_prefetch: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
