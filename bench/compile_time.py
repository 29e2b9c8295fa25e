#!/usr/bin/env python3
"""Compile time per phase and start-up of `cep run x.cepo` (issue #15 §1; bench/README.md).

Compile: `cep run RULES -i EMPTY --stats -O N` for every bench/rules/*.cep, each fraud example
and the three fraud files together, pinned to core 0 (`taskset -c 0`); the `jit` line of --stats
gives IR generation, optimisation and machine code + link. The row of the best (lowest total)
of --runs runs is kept.

Start-up: `cep version` (handed by the lean `cep` to `cep-full`: both programs' dynamic loading
and static initialisers), `cep-full version` (the whole program alone) and `cep run X.cepo -i
ONE_LINE` (the lean `cep` alone, reading the artifact, linking its object code and the run), wall
and CPU (user + sys) time, best of --runs; the artifact's own load time is the `artifact` line of
--stats. Prints Markdown tables; the load average is printed first (the machine is shared).
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JIT_LINE = re.compile(
    r"jit \S+: (\d+) patterns.*compile ([\d.]+) ms at O(\d) \(codegen ([\d.]+), optimise ([\d.]+), "
    r"machine code \+ link ([\d.]+)\)")
LOAD_LINE = re.compile(r"artifact load ([\d.]+) ms \(read and check ([\d.]+), host set-up ([\d.]+), "
                       r"link ([\d.]+)\)")

FRAUD = ["examples/fraud/payments.cep", "examples/fraud/accounts.cep", "examples/fraud/orders.cep"]
SEQ_LINE = '{"type":"A","key":1,"ts":1700000000123}\n'


def pinned(cmd):
    return (["taskset", "-c", "0"] if shutil.which("taskset") else []) + cmd


def rule_sets():
    sets = []
    for name in sorted(os.listdir(os.path.join(ROOT, "bench/rules"))):
        if name.endswith(".cep"):
            sets.append((name[:-4], ["bench/rules/" + name]))
    for path in FRAUD:
        sets.append(("fraud " + os.path.basename(path)[:-4], [path]))
    sets.append(("fraud (all three)", FRAUD))
    return sets


def compile_row(cep, rules, opt, runs, empty):
    best = None
    for _ in range(runs):
        out = subprocess.run(pinned([cep, "run", *rules, "-i", empty, "--stats", "-O", str(opt), "--import-path",
                                     "examples/fraud"]),
                             cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"cep run {' '.join(rules)} failed ({out.returncode}): {out.stderr}")
        m = JIT_LINE.search(out.stderr)
        if not m:
            sys.exit(f"no jit line in --stats of {' '.join(rules)}:\n{out.stderr}")
        row = [int(m.group(1))] + [float(m.group(i)) for i in (2, 4, 5, 6)]
        if best is None or row[1] < best[1]:
            best = row
    return best


def instructions(cep, rules, opt, empty, function):
    """Instructions executed inside `function` (a callgrind --toggle-collect pattern) while
    `cep run RULES` compiles them: a figure the machine's load does not change. Counted in
    `cep-full` beside the lean `cep`: `cep` hands a .cep to it by exec, which callgrind does not
    follow."""
    if os.path.exists(cep + "-full"):
        cep = cep + "-full"
    with tempfile.NamedTemporaryFile() as out:
        run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out.name,
                              "--toggle-collect=" + function, cep, "run", *rules, "-i", empty,
                              "-O", str(opt), "--import-path", "examples/fraud"],
                             cwd=ROOT, capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode != 0 or not m:
            sys.exit(f"callgrind of {' '.join(rules)} failed: {run.stderr}")
        return int(m.group(1))


def timed(cmd, runs):
    """Best wall and best CPU (user + sys) seconds of `runs` runs, and the last stderr."""
    wall, cpu, err = None, None, ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(pinned(cmd), cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        wall = elapsed if wall is None else min(wall, elapsed)
        cpu = used if cpu is None else min(cpu, used)
        err = out.stderr
    return wall, cpu, err


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cep", default=os.path.join(ROOT, "build/release/cli/cep"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--opt", type=int, action="append", help="levels (default: 2)")
    p.add_argument("--only", help="comma-separated row names")
    p.add_argument("--no-startup", action="store_true")
    p.add_argument("--callgrind", action="store_true",
                   help="add the instructions of the compile and of its optimisation (valgrind)")
    args = p.parse_args()
    levels = args.opt or [2]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}, "
          f"{os.cpu_count()} cores, best of {args.runs}, pinned to core 0\n")
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.jsonl")
        open(empty, "w").close()
        extra = " compile Minstr | optimise Minstr |" if args.callgrind else ""
        print("| rules | level | patterns | compile ms | ms per pattern | IR build | optimise | "
              "machine code + link |" + extra)
        print("|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if extra else ""))
        for name, rules in rule_sets():
            if args.only and name not in args.only.split(","):
                continue
            for opt in levels:
                n, total, ir, optimise, mc = compile_row(args.cep, rules, opt, args.runs, empty)
                cells = ""
                if args.callgrind:
                    whole = instructions(args.cep, rules, opt, empty, "*Jit::compileProgram*")
                    part = instructions(args.cep, rules, opt, empty, "*optimizeModule*")
                    cells = f" {whole / 1e6:.1f} | {part / 1e6:.1f} |"
                print(f"| {name} | O{opt} | {n or '0 (aggregate)'} | {total:.1f} | {total / max(n, 1):.1f} | "
                      f"{ir:.1f} | {optimise:.1f} | {mc:.1f} |" + cells, flush=True)
        if args.no_startup:
            return
        one = os.path.join(tmp, "one.jsonl")
        with open(one, "w") as f:
            f.write(SEQ_LINE)
        print("\n| process | wall ms | CPU ms | artifact load ms (read and check / host set-up / link) |")
        print("|---|---:|---:|---|")
        # `cep version` is handed to cep-full (cli/README.md "Two programs"): both programs start.
        full = os.path.join(os.path.dirname(args.cep), "cep-full")
        for label, cmd in (("`cep version` (handed to cep-full)", [args.cep, "version"]),
                           ("`cep-full version`", [full, "version"])):
            if os.path.exists(cmd[0]):
                wall, cpu, _ = timed(cmd, args.runs)
                print(f"| {label} | {wall * 1e3:.1f} | {cpu * 1e3:.1f} | – |", flush=True)
        for name, rules, inp in (("seq", ["bench/rules/seq.cep"], one),
                                 ("fraud (all three)", FRAUD, "examples/fraud/events.jsonl")):
            cepo = os.path.join(tmp, "x.cepo")
            subprocess.run([args.cep, "compile", *rules, "-o", cepo, "--import-path",
                            "examples/fraud"], cwd=ROOT, check=True)
            if inp != one:  # a one-line input of the rules' own events
                with open(os.path.join(ROOT, inp)) as f:
                    line = f.readline()
                inp = os.path.join(tmp, "one_fraud.jsonl")
                with open(inp, "w") as f:
                    f.write(line)
            wall, cpu, err = timed([args.cep, "run", cepo, "-i", inp, "--stats", "-o",
                                    os.devnull], args.runs)
            m = LOAD_LINE.search(err)
            load = f"{m.group(1)} ({m.group(2)} / {m.group(3)} / {m.group(4)})" if m else "–"
            print(f"| `cep run {name}.cepo` (1 event) | {wall * 1e3:.1f} | {cpu * 1e3:.1f} | "
                  f"{load} |", flush=True)


if __name__ == "__main__":
    main()
