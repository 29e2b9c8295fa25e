#!/usr/bin/env python3
"""seq and seq-any end to end against the hand-written yardstick, side by side (issue #15 §1).

    bench/seq_bench.py                        # seq-1m: seq and seq-any, best of 3 (~1 min quiet)
    bench/seq_bench.py --large --runs 3       # adds seq-10m (430 MB, generated once)
    bench/seq_bench.py --only seq --cep build/release/cli/cep --data /tmp/sb

The yardstick is ../shared/perf/seq_baseline.cpp, built with its own line (g++ -std=c++20 -O3
-march=native); inputs come from bench-gen-seq (--seed 1: seq-1m 1M events / 10k keys, seq-10m
10M / 100k keys). Each row runs the yardstick (`next` for seq, `any` for seq-any) and `cep run
bench/rules/RULE.cep -i FILE --max-delay 2s -o OUT` alternately, `--runs` times each, every process
pinned to core 0 (`taskset -c 0`), and keeps the best CPU time (user + sys from wait4) of each.
It stops unless cep wrote exactly as many records as the yardstick counts matches. The ratio is
best cep CPU / best yardstick CPU. The machine is shared: say the load (printed) with the numbers.
With --artifact, cep runs the rule compiled ahead (`cep compile`, once, not timed) as deployed:
`cep run RULE.cepo ...`, which the lean `cep` runs without libLLVM (cli/README.md "Two programs").
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared/perf/ beside the checkout (the first parent folder that has one: a worktree is deeper)
YARDSTICK_SRC = next((p / "shared" / "perf" / "seq_baseline.cpp" for p in ROOT.parents
                      if (p / "shared" / "perf" / "seq_baseline.cpp").is_file()), None)

INPUTS = {"seq-1m": (1_000_000, 10_000), "seq-10m": (10_000_000, 100_000)}
QUERIES = {"seq": ("seq.cep", "next"), "seq-any": ("seq_any.cep", "any")}


def cpu_run(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (user + sys CPU seconds of the child, wall seconds, its stdout text)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=1800)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"seq_bench: {' '.join(map(str, cmd))} failed ({proc.returncode}): "
                 f"{proc.stderr.strip()[:400]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cep", default=str(ROOT / "build" / "release" / "cli" / "cep"))
    ap.add_argument("--gen", default=str(ROOT / "build" / "release" / "bench" / "bench-gen-seq"),
                    help="bench-gen-seq (cmake --build build/release --target bench-gen-seq)")
    ap.add_argument("--data", default="/tmp/cep-seq-bench", help="inputs, outputs, yardstick")
    ap.add_argument("--yardstick-src", default=YARDSTICK_SRC, type=Path,
                    help="seq_baseline.cpp (default: ../shared/perf/ above the checkout)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--large", action="store_true", help="add seq-10m")
    ap.add_argument("--only", default="", help="comma-separated: seq, seq-any")
    ap.add_argument("--artifact", action="store_true",
                    help="run the rule compiled ahead (cep compile, not timed) as a .cepo")
    args = ap.parse_args()

    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    for tool in (args.cep, args.gen):
        if not Path(tool).is_file():
            sys.exit(f"seq_bench: {tool} not found (build it first)")
    src = args.yardstick_src
    if src is None or not src.is_file():
        sys.exit("seq_bench: seq_baseline.cpp not found (../shared/perf/); pass --yardstick-src")
    yardstick = data / "seq_baseline"
    if not yardstick.exists() or yardstick.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["g++", "-std=c++20", "-O3", "-march=native", "-o", str(yardstick),
                        str(src)], check=True)
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []

    names = ["seq-1m"] + (["seq-10m"] if args.large else [])
    queries = [q for q in QUERIES if not args.only or q in args.only.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.1f}; cep: {args.cep}"
          f"{' (rules compiled ahead: .cepo)' if args.artifact else ''}", flush=True)
    print("| input | query | yardstick CPU s (best; all) | cep CPU s (best; all) | cep / yardstick "
          "| records |")
    print("|---|---|---:|---:|---:|---:|")
    for name in names:
        events, keys = INPUTS[name]
        path = data / f"{name}.jsonl"
        if not path.exists():
            with open(path, "w") as f:
                subprocess.run([args.gen, "--events", str(events), "--keys", str(keys), "--seed",
                                "1"], stdout=f, check=True)
        # Read once so that every measured run finds the file in the page cache.
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
        for q in queries:
            rule, mode = QUERIES[q]
            out = data / f"out-{name}-{q}.jsonl"
            run_rule = str(ROOT / "bench" / "rules" / rule)
            if args.artifact:
                run_rule = str(data / f"{q}.cepo")
                subprocess.run([args.cep, "compile", str(ROOT / "bench" / "rules" / rule), "-o",
                                run_rule], check=True)
            ys, cs = [], []
            matches = None
            for _ in range(args.runs):
                cpu, _, text = cpu_run(pin + [str(yardstick), str(path), mode])
                ys.append(cpu)
                for line in text.splitlines():
                    if line.startswith(f"{mode}_matches="):
                        matches = int(line.split("=")[1])
                cpu, _, _ = cpu_run(pin + [args.cep, "run", run_rule,
                                           "-i", str(path), "--max-delay", "2s", "-o", str(out)])
                cs.append(cpu)
            with open(out, "rb") as f:
                records = sum(1 for _ in f)
            if matches is None or records != matches:
                sys.exit(f"seq_bench: {name} {q}: cep wrote {records} records, the yardstick "
                         f"counts {matches} matches")
            fmt = lambda v: ", ".join(f"{x:.2f}" for x in v)
            print(f"| {name} | {q} | {min(ys):.2f} ({fmt(ys)}) | {min(cs):.2f} ({fmt(cs)}) | "
                  f"**{min(cs) / min(ys):.1f}×** | {records:,} |", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
