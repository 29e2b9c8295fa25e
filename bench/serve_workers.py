#!/usr/bin/env python3
"""`cep serve --workers N` against --workers 1 (issue #15 §2; docs/serve.md "Workers").

seq-1m (bench-gen-seq --events 1000000 --keys 10000 --seed 1) through bench/rules/seq.cep
compiled to seq.cepo, `cep serve seq.cepo -i FILE --max-delay 2s` with each worker count: timed
from launch to the moment /metrics shows every record read (every record read is matched: the
metrics are answered on the loop thread after the workers' barrier), with the server's CPU time
(user + system, /proc/PID/stat) at that moment; then SIGTERM, and the outputs of every worker
count must be the same bytes. Best of --runs by wall time. Never part of `make test`.

Usage: bench/serve_workers.py [--cep build/release/cli/cep] [--workers 1,2] [--runs 3]
                              [--poll 0.005]

Every process is started here on 127.0.0.1 and stopped by its pid; every wait is bounded.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 1_000_000
TIMEOUT = 300.0


def wait_for(what, condition, timeout=TIMEOUT, every=0.005):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(every)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_count(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return 0
    return sum(int(float(v)) for v in re.findall(r"^cep_input_records_read_total\S* (\S+)$",
                                                  text, re.M))


def one(cep, work, workers, run, poll):
    port_file = work / f"port-{workers}-{run}"
    out = work / f"out-{workers}-{run}.jsonl"
    started = time.monotonic()
    proc = subprocess.Popen([cep, "serve", "seq.cepo", "-i", "seq-1m.jsonl", "-o", str(out),
                             "--max-delay", "2s", "--workers", str(workers), "--admin",
                             "127.0.0.1:0", "--admin-port-file", str(port_file)], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = wait_for("the admin port", lambda: port_file.exists() and
                        port_file.read_text().strip() and int(port_file.read_text()))
        # Each /metrics request is a barrier of the workers (docs/serve.md "Workers"): asked
        # every `poll` seconds.
        wait_for("every record read", lambda: read_count(port) >= EVENTS, every=poll)
        wall = time.monotonic() - started
        cpu = cpu_seconds(proc.pid)
        os.kill(proc.pid, signal.SIGTERM)
        if proc.wait(TIMEOUT) != 0:
            raise RuntimeError(f"cep serve --workers {workers} exited with {proc.returncode}")
        return wall, cpu, out.read_bytes()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", default=str(ROOT / "build" / "release" / "cli" / "cep"))
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--poll", type=float, default=0.005, help="seconds between /metrics reads")
    options = ap.parse_args()
    cep = str(Path(options.cep).resolve())
    gen = Path(cep).parent.parent / "bench" / "bench-gen-seq"
    with tempfile.TemporaryDirectory(prefix="cep-serve-workers-") as tmp:
        work = Path(tmp)
        subprocess.run([str(gen), "--events", str(EVENTS), "--keys", "10000", "--seed", "1",
                        "-o", str(work / "seq-1m.jsonl")], check=True)
        subprocess.run([cep, "compile", str(ROOT / "bench" / "rules" / "seq.cep"), "-o",
                        str(work / "seq.cepo")], check=True)
        best = {}
        outputs = {}
        for run in range(options.runs):
            for workers in (int(w) for w in options.workers.split(",")):
                wall, cpu, output = one(cep, work, workers, run, options.poll)
                outputs.setdefault(workers, output)
                if output != outputs[workers]:
                    raise RuntimeError(f"--workers {workers}: two runs wrote other bytes")
                if workers not in best or wall < best[workers][0]:
                    best[workers] = (wall, cpu)
        first = next(iter(outputs.values()))
        same = all(o == first for o in outputs.values())
        print(f"load at the end: {os.getloadavg()[0]:.2f} (1 min)")
        print("| workers | wall | events/s | CPU (user+sys) | records | same bytes as 1 |")
        print("|---:|---:|---:|---:|---:|---|")
        for workers, (wall, cpu) in sorted(best.items()):
            records = outputs[workers].count(b"\n")
            print(f"| {workers} | {wall:.3f} s | {EVENTS / wall / 1e6:.2f}M | {cpu:.2f} s | "
                  f"{records:,} | "
                  f"{'yes' if outputs[workers] == first else 'NO'} |")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
