#!/usr/bin/env python3
"""`make install` puts a `cep` that works on its own (README "The two commands").

Installs the build tree's `cep` into a temporary prefix with `cmake --install`, then runs the
installed program from outside the source tree on the fraud example: its version line and its
matches must equal the build tree's.
"""
import argparse
import os
import subprocess
import sys
import tempfile


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=120, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cep", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--example", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as prefix:
        got = run(["cmake", "--install", args.build, "--prefix", prefix])
        if got.returncode != 0:
            sys.exit(f"cmake --install failed ({got.returncode}): {got.stderr.decode()[-2000:]}")
        installed = os.path.join(prefix, "bin", "cep")
        if not os.access(installed, os.X_OK):
            sys.exit(f"no executable {installed} after cmake --install")
        rules = sorted(os.path.join(args.example, f)
                       for f in os.listdir(args.example) if f.endswith(".cep"))
        events = os.path.join(args.example, "events.jsonl")
        outputs = []
        for cep in (args.cep, installed):
            version = run([cep, "version"], cwd=prefix)
            matches = run([cep, "run", *rules, "-i", events, "--max-delay", "2s"], cwd=prefix)
            if version.returncode != 0 or matches.returncode != 0:
                sys.exit(f"{cep}: exit {version.returncode}/{matches.returncode}: "
                         f"{version.stderr.decode()}{matches.stderr.decode()}")
            outputs.append((version.stdout, matches.stdout))
        if outputs[0] != outputs[1]:
            sys.exit("the installed cep differs from the build tree's")
        count = outputs[1][1].count(b"\n")
        if count == 0:
            sys.exit("no matches on the fraud example")
        print(f"check_install: {installed} runs; {count} matches equal to the build tree's")


if __name__ == "__main__":
    main()
