#!/usr/bin/env python3
"""The numbers of `cep serve` (issue #10 section 4; bench/README.md). Never part of `make test`.

Three measurements, each printed as a Markdown table (also written to WORK/serve-results.md):

  pause       the event-loop pause of a deploy with N live runs (seq rules, N keys that saw only
              an `A`, released by a watermark line), in keep, drain and fresh mode: the deploy
              answer's "pause_seconds" and the `cep_deploy_pause_seconds` histogram of /metrics;
              keep is repeated (alternating two builds of the same rules, so another hash each
              time); with --perf, `perf record` on the server during the keep deploys
  phases      the same keep deploy in one process, phase by phase (`cep-bench migrate`, next to
              bench-gen-seq): exportState, checkMigration, migrateFrom, convertEvents, the frees
  throughput  the seq-1m stream through a named pipe into `cep run` and `cep serve` (same
              artifact, same options), and from a file; timed from the first byte written (the
              processes are started and ready before) to `cep run`'s exit, or to the moment the
              server's /metrics shows every record read and released
  latency     a seq stream written into the server's pipe at a steady rate; from `cep deploy`
              returning to the first output record of the new version; and the wall time of
              `cep deploy` (process start, upload, load + verify + JIT, queue, swap) for the seq
              rules and for the fraud example (examples/fraud/*.cep)

Every process is started by this script, waited for with bounded waits and killed by its pid.
The measured server / run is pinned to core 0 (`taskset -c 0`), the feeders to core 1.

Usage: bench/serve_bench.py [--cep build/release/cli/cep] [--gen-seq .../bench-gen-seq]
                            [--sizes 10000,1000000] [--only pause,phases,throughput,latency]
                            [--runs 3] [--perf] [--work DIR]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEQ = ROOT / "bench" / "rules" / "seq.cep"
FRAUD = ROOT / "examples" / "fraud"
T0 = 1700000000000
TIMEOUT = 300.0


def pin(core):
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def wait_for(what, condition, timeout=TIMEOUT, delay=0.002, max_delay=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, max_delay)


def open_writer(fifo, proc):
    """Opens `fifo` for writing once `proc` has opened it for reading (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} at start")
            if time.monotonic() > deadline:
                raise RuntimeError("timed out waiting for the reader of the pipe")
            time.sleep(0.002)


def write_all(fd, data):
    os.set_blocking(fd, True)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Server:
    """`cep serve ARTIFACT -i INPUT -o OUT --admin 127.0.0.1:0`, pinned to core 0."""

    def __init__(self, cep, work, artifacts, input_path=None, args=()):
        self.work = Path(work)
        self.fifo = None
        if input_path is None:
            self.fifo = str(self.work / "input.fifo")
            if os.path.exists(self.fifo):
                os.unlink(self.fifo)
            os.mkfifo(self.fifo)
            input_path = self.fifo
        self.out = self.work / "serve-out.jsonl"
        self.port_file = self.work / "admin.port"
        if self.port_file.exists():
            self.port_file.unlink()
        self.stderr_path = self.work / "serve.stderr"
        self.stderr = open(self.stderr_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            pin(0) + [str(cep), "serve", *map(str, artifacts), "-i", str(input_path), "-o",
                      str(self.out), "--admin", "127.0.0.1:0", "--admin-port-file",
                      str(self.port_file), *args],
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.writer = open_writer(self.fifo, self.proc) if self.fifo else None
        wait_for("the admin port file", self.read_port)
        self.ready = time.monotonic()
        self.server = f"127.0.0.1:{self.port}"

    def read_port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"cep serve exited with {self.proc.returncode}:\n"
                               + self.stderr_path.read_text(errors="replace"))
        try:
            text = self.port_file.read_text().strip()
        except FileNotFoundError:
            return None
        if not text:
            return None
        self.port = int(text)
        return True

    def get(self, path):
        with urllib.request.urlopen(f"http://{self.server}{path}", timeout=60) as r:
            return r.read().decode("utf-8")

    def metrics(self):
        values = {}
        for line in self.get("/metrics").splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    @staticmethod
    def total(values, prefix):
        return sum(v for k, v in values.items() if k == prefix or k.startswith(prefix + "{"))

    def stop(self):
        if self.writer is not None:
            os.close(self.writer)
            self.writer = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def gen_seq(gen, path, events, keys, seed=1):
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        subprocess.run([str(gen), "--events", str(events), "--keys", str(keys), "--seed",
                        str(seed), "-o", str(tmp)], check=True)
        tmp.rename(path)
    return path


def live_runs_file(path, n):
    """n keys that saw only an `A` (1 ms apart), then a watermark 1 min later: n live runs."""
    if not path.exists():
        with open(path, "w") as f:
            for i in range(n):
                f.write(f'{{"type":"A","key":{i},"ts":{T0 + i // 1000}}}\n')
            f.write(f'{{"@watermark": {T0 + n // 1000 + 60000}}}\n')
    return path


def compile_artifacts(cep, work, name, files, extra=()):
    """Two builds of the same rules (-O2 and -O1): the same patterns under two hashes."""
    out = []
    for level in ("2", "1"):
        path = work / f"{name}-O{level}.cepo"
        subprocess.run([str(cep), "compile", *map(str, files), *extra, "-O", level, "-o",
                        str(path)], check=True)
        out.append(path)
    return out


def deploy(cep, server, artifact, mode):
    start = time.monotonic()
    r = subprocess.run(pin(1) + [str(cep), "deploy", str(artifact), "--server", server,
                                 "--mode", mode], capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"cep deploy failed ({r.returncode}): {r.stdout}{r.stderr}")
    return wall, json.loads(r.stdout)


def fmt_us(seconds):
    return f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1e3:,.1f} ms"


# ---------------------------------------------------------------------------------------------


def bench_pause(args, work, seq_v):
    # seq with another `within` (20m, 30m): every deadline is recomputed (one pass over the runs).
    retimed = []
    for minutes in (30, 20):
        path = work / f"seq-within-{minutes}m.cep"
        path.write_text(SEQ.read_text().replace("within 10m", f"within {minutes}m"))
        retimed.append(compile_artifacts(args.cep, work, f"seq-{minutes}m", [path])[0])
    rows = []
    for n in args.sizes:
        data = live_runs_file(work / f"live-{n}.jsonl", n)
        payload = data.read_bytes()
        for label in ("keep", "keep, new within", "drain", "fresh"):
            mode = label.split(",")[0]
            versions = retimed if label == "keep, new within" else seq_v
            server = Server(args.cep, work, [seq_v[0]])
            try:
                fed = time.monotonic()
                write_all(server.writer, payload)

                def settled():
                    m = server.metrics()
                    return (Server.total(m, "cep_input_records_read_total") >= n + 1 and
                            Server.total(m, "cep_pattern_live_runs") >= n and m)
                m = wait_for(f"{n} live runs", settled)
                build_s = time.monotonic() - fed
                deploys = args.runs if mode == "keep" else 1
                perf = None
                if args.perf and mode == "keep" and shutil.which("perf"):
                    perf_data = work / f"perf-keep-{n}.data"
                    perf = subprocess.Popen(["perf", "record", "-g", "-F", "4999", "-o",
                                             str(perf_data), "-p", str(server.proc.pid)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(0.5)  # perf attaches asynchronously
                pauses, walls, moved, in_place = [], [], None, []
                for i in range(deploys):
                    wall, answer = deploy(args.cep, server.server, versions[(i + 1) % 2], mode)
                    pauses.append(answer["pause_seconds"])
                    walls.append(wall)
                    p = answer["patterns"][0]
                    moved = p.get("runs_moved", p.get("draining_runs", p.get("runs_dropped")))
                    in_place.append(p.get("in_place"))
                if perf is not None:
                    perf.send_signal(signal.SIGINT)
                    perf.wait(120)
                    report = subprocess.run(
                        ["perf", "report", "-i", str(perf_data), "--no-children", "--stdio",
                         "--percent-limit", "1.5", "-g", "none", "--sort", "symbol"],
                        capture_output=True, text=True)
                    (work / f"perf-keep-{n}.txt").write_text(report.stdout)
                    children = subprocess.run(
                        ["perf", "report", "-i", str(perf_data), "--children", "--stdio",
                         "--percent-limit", "3", "-g", "none", "--sort", "symbol"],
                        capture_output=True, text=True)
                    (work / f"perf-keep-{n}-children.txt").write_text(children.stdout)
                hist = server.metrics()
                count = Server.total(hist, f'cep_deploy_pause_seconds_count{{mode="{mode}"}}')
                hsum = Server.total(hist, f'cep_deploy_pause_seconds_sum{{mode="{mode}"}}')
                rss = 0
                with open(f"/proc/{server.proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM"):
                            rss = int(line.split()[1]) // 1024
                rows.append((n, label, deploys, moved, min(pauses), statistics.median(pauses),
                             max(pauses), count, hsum, statistics.median(walls), build_s, rss))
                print(f"pause n={n} {label}: pauses {[fmt_us(p) for p in pauses]}"
                      f"{' in place ' + str(in_place) if mode == 'keep' else ''}", file=sys.stderr)
            finally:
                server.stop()
    lines = ["| live runs | mode | deploys | runs moved / draining / dropped | pause min | "
             "pause median | pause max | histogram count, sum | `cep deploy` wall (median) | "
             "building the runs | server peak RSS |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (n, mode, deploys, moved, lo, med, hi, count, hsum, wall, build_s, rss) in rows:
        lines.append(f"| {n:,} | {mode} | {deploys} | {moved:,} | {fmt_us(lo)} | {fmt_us(med)} "
                     f"| {fmt_us(hi)} | {count:.0f}, {fmt_us(hsum)} | {fmt_us(wall)} | "
                     f"{build_s:.2f} s | {rss} MiB |")
    return lines


def bench_phases(args, work):
    bench = args.gen_seq.parent / "cep-bench"
    lines = ["| live runs | engine | exportState | checkMigration | migrateFrom (checks again, "
             "then importState) | convertEvents alone (part of both) | free the old matcher | free the "
             "exported state | sum | ns per run |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in args.sizes:
        data = live_runs_file(work / f"live-{n}.jsonl", n)
        for engine in ("jit", "interp"):
            r = subprocess.run(pin(0) + [str(bench), "migrate", str(SEQ), "--input", str(data),
                                         "--engine", engine, "--repeat", str(args.runs)],
                               capture_output=True, text=True, timeout=TIMEOUT)
            if r.returncode != 0:
                lines.append(f"| {n:,} | {engine} | failed: {r.stderr.strip()[:80]} "
                             "| | | | | | | |")
                continue
            m = {k: v for k, v in re.findall(r"(\w+)=(\S+)", r.stdout)}
            f = {k: float(v) for k, v in m.items()}
            lines.append(f"| {n:,} | {engine} | {fmt_us(f['export_s'])} | {fmt_us(f['check_s'])} "
                         f"| {fmt_us(f['migrate_s'])} | {fmt_us(f['convert_events_s'])} | "
                         f"{fmt_us(f['free_old_s'])} | {fmt_us(f['free_state_s'])} | "
                         f"{fmt_us(f['pause_s'])} | {f['pause_s'] * 1e9 / n:,.0f} |")
            print(f"phases n={n} {engine}: {r.stdout.strip()}", file=sys.stderr)
    return lines


def time_run(args, work, artifact, data, via_fifo):
    out = work / "run-out.jsonl"
    cmd = [str(args.cep), "run", str(artifact), "--max-delay", "2s", "-o", str(out)]
    if not via_fifo:
        start = time.monotonic()
        subprocess.run(pin(0) + cmd + ["-i", str(data)], check=True, timeout=TIMEOUT)
        return time.monotonic() - start, sum(1 for _ in open(out))
    fifo = str(work / "run.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    proc = subprocess.Popen(pin(0) + cmd + ["-i", fifo])
    try:
        writer = open_writer(fifo, proc)
        payload = data.read_bytes()
        start = time.monotonic()
        write_all(writer, payload)
        os.close(writer)
        proc.wait(TIMEOUT)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return elapsed, sum(1 for _ in open(out))


def time_serve(args, work, artifact, data, via_fifo, events):
    records = sum(1 for _ in open(data))
    server = Server(args.cep, work, [artifact], None if via_fifo else data, ["--max-delay", "2s"])
    try:
        if via_fifo:
            payload = data.read_bytes()
            start = time.monotonic()
            feeder = threading.Thread(target=write_all, args=(server.writer, payload))
            feeder.start()
        else:
            start = server.started  # reading began before the port file: start-up is subtracted

        def done():
            m = server.metrics()
            # Answered on the loop thread between two records: every record read is matched.
            return Server.total(m, "cep_input_records_read_total") >= records
        # 10 ms polls: each one is an admin request the loop answers between two records.
        wait_for("every record read", done, delay=0.01, max_delay=0.01)
        elapsed = time.monotonic() - start
        if via_fifo:
            feeder.join(TIMEOUT)
        m = server.metrics()
        written = m.get("cep_output_records_total", 0)
        busy = m.get("cep_event_loop_busy_seconds_total", 0)
    finally:
        server.stop()
    return elapsed, int(written), busy


def startup_seconds(args, work, artifact):
    """cep serve from launch to its admin port file, with an idle pipe (subtracted from -i FILE)."""
    best = None
    for _ in range(3):
        server = Server(args.cep, work, [artifact])
        s = server.ready - server.started
        server.stop()
        best = s if best is None else min(best, s)
    return best


def bench_throughput(args, work, seq_v):
    data = gen_seq(args.gen_seq, work / "seq-1m.jsonl", 1000000, 10000)
    events = 1000000
    artifact = seq_v[0]
    rows = []
    startup = startup_seconds(args, work, artifact)
    for label, fifo in (("named pipe", True), ("file", False)):
        run_best = serve_best = None
        for _ in range(args.runs):
            s, n = time_run(args, work, artifact, data, fifo)
            run_best = (s, n) if run_best is None or s < run_best[0] else run_best
            s, n, busy = time_serve(args, work, artifact, data, fifo, events)
            if not fifo:
                s -= startup
            serve_best = (s, n, busy) if serve_best is None or s < serve_best[0] else serve_best
        rows.append((label, run_best, serve_best))
        print(f"throughput {label}: run {run_best} serve {serve_best}", file=sys.stderr)
    lines = [f"serve start-up (launch to admin port file, subtracted from the file row): "
             f"{startup * 1e3:.0f} ms", "",
             "| input | `cep run` | `cep run` events/s | `cep serve` | `cep serve` events/s | "
             "serve busy CPU | serve / run | records (run; serve) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, (rs, rn), (ss, sn, busy) in rows:
        lines.append(f"| {label} | {rs:.3f} s | {events / rs / 1e6:.2f}M | {ss:.3f} s | "
                     f"{events / ss / 1e6:.2f}M | {busy:.3f} s | {rs / ss:.2f}× | "
                     f"{rn:,}; {sn:,} |")
    return lines


def bench_latency(args, work, seq_v, fraud_v):
    lines = []
    # Deploy-to-effect: seq events (100 keys: a match every few events) at a steady rate.
    data = gen_seq(args.gen_seq, work / "seq-lat.jsonl", 600000, 100, seed=2)
    payload = data.read_bytes().splitlines(keepends=True)
    rate, batch = 50000, 250  # events/s, written every 5 ms
    server = Server(args.cep, work, [seq_v[0]])
    stop = threading.Event()

    def feed():
        os.set_blocking(server.writer, True)
        next_at = time.monotonic()
        for i in range(0, len(payload), batch):
            if stop.is_set():
                return
            write_all(server.writer, b"".join(payload[i:i + batch]))
            next_at += batch / rate
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    feeder = threading.Thread(target=feed)
    effects, walls, pauses = [], [], []
    try:
        feeder.start()
        wait_for("the first matches", lambda: server.out.exists() and server.out.stat().st_size)
        out = open(server.out, "rb")
        for i in range(args.runs * 2):
            artifact = seq_v[(i + 1) % 2]
            out.seek(0, os.SEEK_END)
            wall, answer = deploy(args.cep, server.server, artifact, "keep")
            returned = time.monotonic()
            version = answer["version"].encode()
            pending = b""

            def seen():
                nonlocal pending
                chunk = out.read()
                if chunk:
                    pending += chunk
                    return b'"@version":"' + version + b'"' in pending
                return False
            wait_for("a record of the new version", seen, timeout=60, delay=0.0002,
                     max_delay=0.0005)
            effects.append(time.monotonic() - returned)
            walls.append(wall)
            pauses.append(answer["pause_seconds"])
            time.sleep(0.2)
    finally:
        stop.set()
        feeder.join(TIMEOUT)
        server.stop()
    lines += ["| rules | what | min | median | max | n |", "|---|---|---:|---:|---:|---:|",
              f"| seq (100 keys, {rate // 1000}k events/s into the pipe) | `cep deploy` returned → "
              f"first record of the new version | {fmt_us(min(effects))} | "
              f"{fmt_us(statistics.median(effects))} | {fmt_us(max(effects))} | {len(effects)} |",
              f"| seq (events flowing) | `cep deploy` wall (keep) | {fmt_us(min(walls))} | "
              f"{fmt_us(statistics.median(walls))} | {fmt_us(max(walls))} | {len(walls)} |",
              f"| seq (events flowing) | of which the loop's pause | {fmt_us(min(pauses))} | "
              f"{fmt_us(statistics.median(pauses))} | {fmt_us(max(pauses))} | {len(pauses)} |"]
    # The wall time of `cep deploy` for the fraud example (idle server) and seq (idle).
    for name, versions in (("seq", seq_v), ("fraud (6 patterns)", fraud_v)):
        server = Server(args.cep, work, [versions[0]])
        walls, pauses = [], []
        try:
            for i in range(args.runs * 2):
                wall, answer = deploy(args.cep, server.server, versions[(i + 1) % 2], "keep")
                walls.append(wall)
                pauses.append(answer["pause_seconds"])
            posts = []  # the same without a client process: POST /deploy from here
            for i in range(args.runs * 2):
                body = versions[i % 2].read_bytes()
                request = urllib.request.Request(f"http://{server.server}/deploy?mode=keep",
                                                 data=body, method="POST", headers={
                                                     "Content-Type": "application/octet-stream"})
                start = time.monotonic()
                with urllib.request.urlopen(request, timeout=600) as r:
                    r.read()
                posts.append(time.monotonic() - start)
        finally:
            server.stop()
        lines += [f"| {name} (idle server) | `POST /deploy` wall (keep; no client process) | "
                  f"{fmt_us(min(posts))} | {fmt_us(statistics.median(posts))} | "
                  f"{fmt_us(max(posts))} | {len(posts)} |"]
        lines += [f"| {name} (idle server) | `cep deploy` wall (keep) | {fmt_us(min(walls))} | "
                  f"{fmt_us(statistics.median(walls))} | {fmt_us(max(walls))} | {len(walls)} |",
                  f"| {name} (idle server) | of which the loop's pause | {fmt_us(min(pauses))} | "
                  f"{fmt_us(statistics.median(pauses))} | {fmt_us(max(pauses))} | {len(pauses)} |"]
    # What a client process costs by itself.
    starts = []
    for _ in range(5):
        s = time.monotonic()
        subprocess.run(pin(1) + [str(args.cep), "version"], capture_output=True, check=True)
        starts.append(time.monotonic() - s)
    lines.append(f"| – | `cep version` (process start-up alone) | {fmt_us(min(starts))} | "
                 f"{fmt_us(statistics.median(starts))} | {fmt_us(max(starts))} | 5 |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", default=str(ROOT / "build" / "release" / "cli" / "cep"))
    ap.add_argument("--gen-seq", default=None, help="bench-gen-seq (default: next to --cep)")
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--only", default="pause,phases,throughput,latency")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--perf", action="store_true", help="perf record the keep deploys")
    ap.add_argument("--work", default=None, help="data and outputs (default: a temporary folder)")
    args = ap.parse_args()
    args.cep = Path(args.cep).resolve()
    args.gen_seq = Path(args.gen_seq or args.cep.parent.parent / "bench" / "bench-gen-seq")
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    only = set(args.only.split(","))
    work = Path(args.work or tempfile.mkdtemp(prefix="cep-serve-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    seq_v = compile_artifacts(args.cep, work, "seq", [SEQ])
    fraud_v = compile_artifacts(args.cep, work, "fraud", sorted(FRAUD.glob("*.cep")))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    text = [f"machine: {cpu}, {os.cpu_count()} cores; date: {time.strftime('%Y-%m-%d %H:%M')}; "
            f"commit {commit}; command: bench/serve_bench.py {' '.join(sys.argv[1:])}", ""]
    if "pause" in only:
        text += ["### Pause of a deploy", ""] + bench_pause(args, work, seq_v) + [""]
    if "phases" in only:
        text += ["### The keep deploy phase by phase (cep-bench migrate)", ""] + \
            bench_phases(args, work) + [""]
    if "throughput" in only:
        text += ["### Throughput, seq-1m", ""] + bench_throughput(args, work, seq_v) + [""]
    if "latency" in only:
        text += ["### Deploy latency", ""] + bench_latency(args, work, seq_v, fraud_v) + [""]
    result = "\n".join(text) + "\n"
    (work / "serve-results.md").write_text(result)
    print(result)
    print(f"(data and outputs in {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
