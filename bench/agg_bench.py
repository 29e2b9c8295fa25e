#!/usr/bin/env python3
"""Aggregates against a hand-written program (issue #13 §4; bench/README.md). Never part of
`make test`.

For `bench/rules/agg_rolling.cep` (rolling 1h, having count > 10) and
`bench/rules/agg_tumbling.cep` (tumbling 1h count) over seq-1m (and seq-10m with --large):
`cep run RULES -i FILE --max-delay 2s -o OUT` against `agg-yardstick rolling|tumbling FILE OUT`
(bench/agg_yardstick.cpp), each pinned to core 0, alternating, best CPU time (user + sys of
/usr/bin/time) of --runs; the two outputs must be equal byte for byte (else it stops). With
--callgrind, the instructions of each (valgrind --tool=callgrind, one run; slow: minutes per
1M-event run on a loaded machine). The state: `cep-bench match` in memory, sampled every 4096
events where the most windows were open (state bytes per key and per window entry). The load
average is printed before and after: the machine may be shared, so only CPU times, instruction
counts and their ratios mean anything.

With --artifact, cep runs the rules compiled ahead (`cep compile RULES -o DIR/QUERY.cepo`, once,
not timed), as they are deployed: `cep run QUERY.cepo ...`, which the lean `cep` runs without
libLLVM (cli/README.md "Two programs").

Usage: bench/agg_bench.py [--build build/release] [--large] [--runs 3] [--callgrind]
                          [--only rolling,tumbling] [--data DIR] [--no-build] [--artifact]
"""
import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "bench" / "rules"
QUERIES = {"rolling": RULES / "agg_rolling.cep", "tumbling": RULES / "agg_tumbling.cep"}
INPUTS = {"seq-1m": ["--events", "1000000", "--keys", "10000", "--seed", "1"],
          "seq-10m": ["--events", "10000000", "--keys", "100000", "--seed", "1"]}


def pin():
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def load():
    return "%.1f %.1f %.1f" % os.getloadavg()


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (user + sys seconds, max RSS KiB, stdout)."""
    r = subprocess.run(pin() + ["/usr/bin/time", "-f", "@cpu %U %S %M"] + [str(c) for c in cmd],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}\n{r.stderr[-2000:]}")
    m = re.search(r"@cpu ([\d.]+) ([\d.]+) (\d+)", r.stderr)
    return float(m.group(1)) + float(m.group(2)), int(m.group(3)), r.stdout


def instructions(cmd, work):
    out = work / "callgrind.out"
    r = subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=no",
                        f"--callgrind-out-file={out}"] + [str(c) for c in cmd],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"callgrind failed: {' '.join(map(str, cmd))}\n{r.stderr[-2000:]}")
    m = re.search(r"refs:\s+([\d,]+)", r.stderr)
    out.unlink(missing_ok=True)
    return int(m.group(1).replace(",", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build" / "release"))
    ap.add_argument("--data", default="", help="inputs and outputs (default BUILD/agg-bench)")
    ap.add_argument("--large", action="store_true", help="add seq-10m (430 MB)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--callgrind", action="store_true", help="instruction counts (slow)")
    ap.add_argument("--only", default="rolling,tumbling")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--artifact", action="store_true",
                    help="run the rules compiled ahead (cep compile, not timed) as a .cepo")
    ap.add_argument("--no-prefetch", action="store_true",
                    help="cep without the driver's prefetch hints (CEP_PREFETCH=0): what they save")
    args = ap.parse_args()
    if args.no_prefetch:
        os.environ["CEP_PREFETCH"] = "0"  # read by cep only
    build = Path(args.build).resolve()
    work = Path(args.data).resolve() if args.data else build / "agg-bench"
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        subprocess.run(["cmake", "--build", str(build), "--target", "cep", "bench-gen-seq",
                        "agg-yardstick", "cep-bench"], check=True, stdout=subprocess.DEVNULL)
    cep = build / "cli" / "cep"
    yard = build / "bench" / "agg-yardstick"
    bench = build / "bench" / "cep-bench"
    inputs = ["seq-1m"] + (["seq-10m"] if args.large else [])
    for name in inputs:
        path = work / f"{name}.jsonl"
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            subprocess.run([str(build / "bench" / "bench-gen-seq"), *INPUTS[name], "-o",
                            str(path) + ".tmp"], check=True)
            os.rename(str(path) + ".tmp", path)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores, pinned: {'taskset -c 0' if pin() else 'no'};"
          f" date: {time.strftime('%Y-%m-%d %H:%M')}; command: bench/agg_bench.py "
          f"{' '.join(sys.argv[1:])}")
    print(f"load average before: {load()}")
    print()
    print("| query | input | records | cep CPU s | yardstick CPU s | cep / yardstick | "
          "cep instr/event | yardstick instr/event | instr ratio | cep peak RSS | "
          "state bytes/key | state bytes/window entry |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in inputs:
        data = work / f"{name}.jsonl"
        events = sum(1 for _ in open(data, "rb"))
        for query in args.only.split(","):
            rules = QUERIES[query]
            c_out, y_out = work / f"cep-{query}.jsonl", work / f"yard-{query}.jsonl"
            run_rules = rules
            if args.artifact:
                run_rules = work / f"{query}.cepo"
                subprocess.run([cep, "compile", rules, "-o", run_rules], check=True)
            cep_cmd = [cep, "run", run_rules, "-i", data, "--max-delay", "2s", "-o", c_out]
            yard_cmd = [yard, query, data, y_out]
            best_c = best_y = None
            rss = 0
            for _ in range(args.runs):
                c, rss_c, _ = timed(cep_cmd)
                y, _, _ = timed(yard_cmd)
                best_c = c if best_c is None else min(best_c, c)
                best_y = y if best_y is None else min(best_y, y)
                rss = max(rss, rss_c)
            if not filecmp.cmp(c_out, y_out, shallow=False):
                sys.exit(f"{query} on {name}: cep's records differ from the yardstick's "
                         f"({c_out} vs {y_out})")
            records = sum(1 for _ in open(c_out, "rb"))
            ci = yi = None
            if args.callgrind:
                ci = instructions(cep_cmd, work) / events
                yi = instructions(yard_cmd, work) / events
            _, _, text = timed([bench, "match", rules, "--input", data, "--engine", "jit"])
            kv = dict(re.findall(r"(\w+)=(\S+)", text))
            win, keys, state = (int(kv.get("sample_windows", 0)), int(kv.get("sample_agg_keys", 0)),
                                int(kv.get("sample_agg_bytes", 0)))
            per_key = f"{state / keys:.0f}" if keys else "–"
            per_win = f"{state / win:.0f}" if win else "–"
            ins = (f"{ci:,.0f} | {yi:,.0f} | {ci / yi:.1f}×" if ci else "– | – | –")
            print(f"| {query} | {name} | {records:,} | {best_c:.2f} | {best_y:.2f} | "
                  f"{best_c / best_y:.1f}× | {ins} | {rss / 1024:.0f} MiB | {per_key} | "
                  f"{per_win} |", flush=True)
    print()
    print(f"load average after: {load()}")
    print("records: equal byte for byte between cep and the yardstick on every row")


if __name__ == "__main__":
    main()
