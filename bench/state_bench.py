#!/usr/bin/env python3
"""The numbers of `cep serve --state` (issue #11 section 5; bench/README.md). Never part of
`make test`.

  throughput  a seq stream (bench-gen-seq) from a file through `cep serve` without `--state`
              and with `--state DIR --checkpoint-every 1s`: from launch to the moment /metrics
              shows every record read (start-up included in both), best of --runs
  checkpoint  N keys with one live run each (an `A` per key; N = --keys, default 1M), then 1%
              of the keys touched again: per checkpoint the time it held the event loop
              (cep_checkpoint_duration_seconds) and the bytes the process wrote meanwhile
              (/proc/PID/io wchar: RocksDB's WAL and tables, the outputs, the fsyncs); a quiet
              checkpoint (nothing changed) for the floor; the state folder's size on disk per
              live run
  recovery    the server with N live runs stopped (SIGTERM: a last checkpoint) and started
              again on its folder: launch to the admin port file, against the start-up of an
              empty server

Every process is started here, bound to 127.0.0.1, waited for with bounded waits and killed by
its pid. The server is pinned to core 0 (`taskset -c 0`) except in the throughput runs, where the
checkpoint's commit thread and RocksDB's background threads run beside the event loop.

Usage: bench/state_bench.py [--cep build/release/cli/cep] [--events 10000000] [--keys 1000000]
                            [--only throughput,checkpoint,recovery] [--runs 2] [--work DIR]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEQ = ROOT / "bench" / "rules" / "seq.cep"
T0 = 1700000000000
TIMEOUT = 1800.0


def pin(core):
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def wait_for(what, condition, timeout=TIMEOUT, delay=0.005, max_delay=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, max_delay)


class Server:
    def __init__(self, cep, folder, artifact, data, state_args=(), pinned=True):
        self.folder = Path(folder)
        self.port_file = self.folder / "admin.port"
        if self.port_file.exists():
            self.port_file.unlink()
        self.stderr_path = self.folder / "serve.stderr"
        self.stderr = open(self.stderr_path, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            (pin(0) if pinned else []) + [str(cep), "serve", str(artifact), "-i", str(data), "--follow",
                      "--max-delay", "2s", "-o", str(self.folder / "out.jsonl"), "--admin",
                      "127.0.0.1:0", "--admin-port-file", str(self.port_file), *state_args],
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        wait_for("the admin port file", self.read_port)
        self.ready = time.monotonic()

    def read_port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"cep serve exited with {self.proc.returncode}:\n"
                               + self.stderr_path.read_text(errors="replace"))
        text = self.port_file.read_text().strip() if self.port_file.exists() else ""
        if not text:
            return None
        self.port = int(text)
        return True

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=60) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def records_read(self):
        m = self.metrics()
        return sum(v for k, v in m.items() if k.startswith("cep_input_records_read_total"))

    def wchar(self):
        with open(f"/proc/{self.proc.pid}/io") as f:
            return int(re.search(r"^wchar: (\d+)$", f.read(), re.M).group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def du(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            total += os.stat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def bench_throughput(args, work, artifact):
    data = work / f"seq-{args.events}.jsonl"
    if not data.exists():
        gen = args.cep.parent.parent / "bench" / "bench-gen-seq"
        subprocess.run([str(gen), "--events", str(args.events), "--keys", "10000", "--seed", "1",
                        "-o", str(data)], check=True)
    records = sum(1 for _ in open(data, "rb"))
    rows = {}
    for run in range(args.runs):
        for label, state in (("in memory", False), ("--state, checkpoint every 1s", True)):
            folder = work / f"tp-{run}-{int(state)}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            extra = ["--state", str(folder / "state"), "--checkpoint-every", "1s"] if state else []
            # Not pinned: the checkpoint's commit thread and RocksDB's own run beside the loop.
            server = Server(args.cep, folder, artifact, data, extra, pinned=False)
            try:
                wait_for("every record read", lambda: server.records_read() >= records,
                         delay=0.05, max_delay=0.05)
                elapsed = time.monotonic() - server.started
                m = server.metrics()
            finally:
                server.stop()
            checkpoints = m.get('cep_checkpoints_total{outcome="done"}', 0)
            busy = m.get("cep_checkpoint_pause_seconds_sum", 0)
            print(f"throughput {label} run {run}: {elapsed:.2f} s, {checkpoints:.0f} checkpoints",
                  file=sys.stderr)
            best = rows.get(label)
            if best is None or elapsed < best[0]:
                rows[label] = (elapsed, checkpoints, busy)
            shutil.rmtree(folder, ignore_errors=True)
    base = rows["in memory"][0]
    lines = [f"seq, {records:,} records from a file (`--follow`), launch to every record read, "
             f"best of {args.runs}:", "",
             "| server | time | events/s | checkpoints | loop paused by checkpoints | vs in memory |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, (s, n, busy) in rows.items():
        lines.append(f"| {label} | {s:.2f} s | {records / s / 1e6:.2f}M | {n:.0f} | "
                     f"{busy:.2f} s | {base / s:.2f}× |")
    return lines


def live_keys_file(path, keys, start_ms, key_offset=0, count=None):
    """An `A` for each key (1000 per ms), then a watermark 20 s later that releases them (else
    they wait in the reordering buffer, which every checkpoint's meta record carries whole)."""
    count = count if count is not None else keys
    with open(path, "a") as f:
        for i in range(count):
            f.write(f'{{"type":"A","key":{key_offset + i},"ts":{start_ms + i // 1000}}}\n')
        f.write(f'{{"@watermark": {start_ms + count // 1000 + 20000}}}\n')
    return count + 1


def bench_checkpoint(args, work, artifact):
    folder = work / "cp"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    data = folder / "events.jsonl"
    loaded = live_keys_file(data, args.keys, T0)
    server = Server(args.cep, folder, artifact, data,
                    ["--state", str(folder / "state"), "--checkpoint-every", "1s"])
    lines = []
    try:
        wait_for("every record read", lambda: server.records_read() >= loaded, delay=0.05,
                 max_delay=0.05)

        def checkpoints_after(count):
            return lambda: server.metrics().get('cep_checkpoints_total{outcome="done"}', 0) >= count

        def snap():
            m = server.metrics()
            return (m.get('cep_checkpoints_total{outcome="done"}', 0),
                    m.get("cep_checkpoint_duration_seconds_sum", 0),
                    m.get("cep_checkpoint_keys_written_total", 0), server.wchar(),
                    m.get("cep_checkpoint_pause_seconds_sum", 0))

        # The first checkpoint after the load writes every key; wait for it and one more.
        n0 = snap()[0]
        wait_for("two checkpoints after the load", checkpoints_after(n0 + 2), delay=0.05)
        rows = []
        quiet0 = snap()
        wait_for("a quiet checkpoint", checkpoints_after(quiet0[0] + 1), delay=0.05)
        quiet1 = snap()
        rows.append(("quiet (nothing changed)", quiet0, quiet1))
        touched = args.keys // 100
        before = snap()
        # A second `A` for 1% of the keys, inside the 10 min: a second run each.
        total = loaded + live_keys_file(data, args.keys, T0 + 60 * 1000, 0, touched)
        wait_for("the 1% read", lambda: server.records_read() >= total, delay=0.01)
        n = snap()[0]
        wait_for("the checkpoint after the 1%", checkpoints_after(n + 1), delay=0.05)
        after = snap()
        rows.append((f"1% of the keys changed ({touched:,})", before, after))
        size = du(folder / "state")
        lines = [f"{args.keys:,} keys with one live run each (seq rules; state folder "
                 f"{size / 1e6:.0f} MB on disk: {size / args.keys:.0f} B per live run):", "",
                 "| checkpoint(s) | count | event loop paused | cut to commit | keys written | "
                 "bytes written per checkpoint |", "|---|---:|---:|---:|---:|---:|"]
        for label, a, b in rows:
            count = max(1, b[0] - a[0])
            lines.append(f"| {label} | {b[0] - a[0]:.0f} | {(b[4] - a[4]) / count * 1e3:.1f} ms | "
                         f"{(b[1] - a[1]) / count * 1e3:.1f} ms | {b[2] - a[2]:,.0f} | "
                         f"{(b[3] - a[3]) / count / 1e6:.2f} MB |")
    finally:
        server.stop()
    return lines, folder


def bench_recovery(args, work, artifact, folder):
    data = folder / "events.jsonl"
    records = sum(1 for _ in open(data, "rb"))
    times = []
    for _ in range(args.runs):
        server = Server(args.cep, folder, artifact, data,
                        ["--state", str(folder / "state"), "--checkpoint-every", "1s"])
        times.append(server.ready - server.started)
        log = server.stderr_path.read_text(errors="replace")
        server.stop()
    restored = re.findall(r"restored checkpoint .*", log)[-1:]
    empty = work / "empty"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir()
    (empty / "events.jsonl").write_text("")
    base = []
    for _ in range(args.runs):
        server = Server(args.cep, empty, artifact, empty / "events.jsonl",
                        ["--state", str(empty / "state")])
        base.append(server.ready - server.started)
        server.stop()
        shutil.rmtree(empty / "state", ignore_errors=True)
    return [f"{records:,} records behind the state; best of {args.runs}: launch to the admin port "
            f"file {min(times):.2f} s with the state, {min(base):.2f} s for an empty server "
            f"(recovery {min(times) - min(base):.2f} s). The log: `{restored[0] if restored else '?'}`"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", default=str(ROOT / "build" / "release" / "cli" / "cep"))
    ap.add_argument("--events", type=int, default=10000000)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--only", default="throughput,checkpoint,recovery")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    args.cep = Path(args.cep).resolve()
    only = set(args.only.split(","))
    work = Path(args.work or tempfile.mkdtemp(prefix="cep-state-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    artifact = work / "seq.cepo"
    subprocess.run([str(args.cep), "compile", str(SEQ), "-o", str(artifact)], check=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    text = [f"machine: {cpu}, {os.cpu_count()} cores; date: {time.strftime('%Y-%m-%d %H:%M')}; "
            f"commit {commit}; command: bench/state_bench.py {' '.join(sys.argv[1:])}", ""]
    if "throughput" in only:
        text += ["### Throughput with checkpoints", ""] + bench_throughput(args, work, artifact)
        text += [""]
    folder = None
    if "checkpoint" in only or "recovery" in only:
        lines, folder = bench_checkpoint(args, work, artifact)
        if "checkpoint" in only:
            text += ["### Incremental checkpoints", ""] + lines + [""]
    if "recovery" in only:
        text += ["### Recovery", ""] + bench_recovery(args, work, artifact, folder) + [""]
    result = "\n".join(text) + "\n"
    (work / "state-results.md").write_text(result)
    print(result)
    print(f"(data and outputs in {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
