#!/usr/bin/env python3
"""Hostile rule files are refused quickly, by name, by every command that compiles rules.

Generates (docs/limits.md):
- a pattern of 10,000 steps `a<i>: E(x == <i>)` (the JIT took 186 s on it; the limit is 1,000),
- 19 lines of nested defs, each calling the one before four times (`cep check` never finished),
- a condition of 9,603 nodes once its defs are inlined (the limit is 5,000),
and requires of `cep check`, `cep run` (jit and interp), `cep compile` and
`cep explain --emit=llvm|nfa` on each: exit 1 (errors in the rules), the limit's message on
stderr, within TIMEOUT seconds (--timeout). Then a pattern of exactly 1,000 steps must check clean.

Python 3, standard library only. Exit status 0 when all holds, 1 otherwise.
"""

import argparse
import os
import subprocess
import sys
import tempfile

TIMEOUT = 30  # seconds per command; each takes well under one today

EVENT = "event E {\n    x: int\n    ts: time\n}\n"


def steps(n):
    body = "\n    -> ".join(f"a{i}: E(x == {i})" for i in range(n))
    return EVENT + "pattern p {\n    " + body + "\n}\nemit Out { x: a0.x }\n"


def nested_defs(levels):
    lines = ["def f0(x: int) = x + 1"]
    for k in range(1, levels + 1):
        lines.append(f"def f{k}(x: int) = " + " + ".join([f"f{k - 1}(x)"] * 4))
    return EVENT + "\n".join(lines) + f"\npattern p {{ a: E(f{levels}(x) > 0) }}\n" + \
        "emit Out { x: a.x }\n"


def big_condition():
    lines = ["def f0(x: int) = x" + " + 1" * 600, "def f1(x: int) = f0(f0(x))",
             "def f2(x: int) = f1(f1(x))", "def f3(x: int) = f2(f2(x))"]
    return EVENT + "\n".join(lines) + "\npattern p { a: E(f3(x) > 0) }\nemit Out { x: a.x }\n"


CASES = {
    "steps_10000.cep": (steps(10000), "error: pattern `p` has 10000 steps; the limit is 1000"),
    "nested_defs.cep": (nested_defs(18),
                        "expression nodes, the limit for one def call"),
    "big_condition.cep": (big_condition(),
                          "error: this condition has 9603 nodes once its defs are inlined; "
                          "the limit is 5000"),
}


def run(cmd, cwd, timeout):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    return p.returncode, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cep", required=True)
    ap.add_argument("--timeout", type=float, default=TIMEOUT,
                    help="seconds per command (a sanitizer build, unoptimised, needs more)")
    options = ap.parse_args()
    cep = os.path.abspath(options.cep)
    timeout = options.timeout
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "events.jsonl"), "w") as f:
            for i in range(100):
                f.write(f'{{"x": {i}, "ts": {1000 + i}}}\n')
        for name, (text, message) in CASES.items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
            commands = [
                ["check", name],
                ["run", name, "-i", "events.jsonl"],
                ["run", name, "-i", "events.jsonl", "--engine", "interp"],
                ["compile", name, "-o", "out.cepo"],
                ["explain", "--emit=llvm", name],
                ["explain", "--emit=nfa", name],
            ]
            for args in commands:
                code, err = run([cep, *args], tmp, timeout)
                what = "cep " + " ".join(args)
                if code is None:
                    problems.append(f"{what}: did not finish in {timeout:g} s")
                elif code != 1 or message not in err:
                    problems.append(f"{what}: exit {code}, stderr {err[:300]!r}")
            if os.path.exists(os.path.join(tmp, "out.cepo")):
                problems.append(f"cep compile {name} wrote out.cepo")
        with open(os.path.join(tmp, "steps_1000.cep"), "w") as f:
            f.write(steps(1000))
        code, err = run([cep, "check", "steps_1000.cep"], tmp, timeout)
        if code != 0:
            problems.append(f"cep check steps_1000.cep (at the limit): exit {code}, {err[:300]!r}")
    for p in problems:
        print(p)
    print(f"compile cost limits: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
