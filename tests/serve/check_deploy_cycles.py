#!/usr/bin/env python3
"""Deploy and undeploy cycles leave the resident size of `cep serve` flat (issue #10 §3).

One `cep serve` reads a named pipe (tests/serve/run_serve_cases.py's Server). Each cycle, in its
own hour of event time, runs every way a pattern version comes and goes:

  deploy v1 (keep; nothing loaded: added)     feed 2 probes per card: live runs
  deploy v2 (keep: the runs move into v2)     feed a third probe and a big payment for half
                                              the cards: matches under v2
  undeploy card_testing drop                  (v2 unloaded at once)
  deploy v1 (keep: added)                     feed 2 probes per card
  deploy v2 drain (v1 drains its runs)        feed probes of other cards: v2's runs
  undeploy card_testing drain (v2 drains)     feed a watermark 20 minutes on: every run times
                                              out, both versions are drained and unloaded
  GET /patterns until it is empty; then /metrics must hold no cep_pattern_* series

So each cycle loads four artifacts and unloads them, moves, drops and drains runs, and registers
and removes metric series. VmRSS (/proc/PID/status) is read after --warmup cycles and after the
last; the test fails when it grew by more than --tolerance-kib (default 2 MiB: 900 cycles
after the warm-up load 3,600 artifacts, so keeping ~600 bytes per load, one artifact's code or
a version's five metric series per cycle, goes over it) and prints the samples it took on the
way. Measured on the 2-core test machine (release build): 1,000 cycles in ~11 s, VmRSS 63.1 MB
after 100 cycles and +32 KiB after 1,000.

  check_deploy_cycles.py --cep CEP [--cycles 1000] [--warmup 100] [--tolerance-kib 2048] [--log]

ctest runs the 1,000 cycles (`e2e.serve.deploy_cycles`).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_serve_cases import CaseError, Server, wait_for  # noqa: E402
from serve_client import payment, request, rss_kib, watermark  # noqa: E402

RULES = """\
// Version {n}: three sub-dollar probes, then a payment over {big}, within 10 minutes.
event Payment {{ card: string, amount: float, ts: time }}

pattern card_testing partition by card within 10m {{
    small: Payment(amount < 1.00){{3,}}
    -> big: Payment(amount > {big})
}}
emit CardTesting {{ card: big.card, probes: count(small), amount: big.amount }}
"""

T0 = 1767607200000  # 2026-01-05T10:00:00Z
HOUR = 3600 * 1000
CARDS = 8


class Cycles:
    def __init__(self, server, v1, v2, timeout):
        self.server = server
        self.v1 = v1
        self.v2 = v2
        self.timeout = timeout
        self.out_lines = 0

    def admin(self, method, path, body=None, want=200):
        status, text = request(self.server.server, method, path, body, timeout=self.timeout)
        if status != want:
            raise CaseError(f"{method} {path}: HTTP {status} (expected {want}): {text.strip()}")
        return json.loads(text) if text.strip() else None

    def deploy(self, artifact, mode):
        return self.admin("POST", f"/deploy?mode={mode}", artifact)

    def feed(self, lines):
        data = b"".join(lines)
        view = memoryview(data)
        while view:
            view = view[os.write(self.server.writer, view):]
        self.server.fed += len(lines)
        fed = self.server.fed
        wait_for(f"the server to read {fed} records",
                 lambda: self.server.alive() and self.server.records_read() >= fed, self.timeout)

    def cycle(self, i):
        base = T0 + i * HOUR
        cards = [f"k{i}-{c}" for c in range(CARDS)]
        self.deploy(self.v1, "keep")
        self.feed([payment(c, 0.5, base + n * 1000 + j) for n in range(2)
                   for j, c in enumerate(cards)])
        moved = self.deploy(self.v2, "keep")
        runs = moved["patterns"][0].get("runs_moved", 0)
        if runs < CARDS:
            raise CaseError(f"cycle {i}: the keep deploy moved {runs} runs, expected >= {CARDS}")
        half = cards[:CARDS // 2]
        self.feed([payment(c, 0.5, base + 3000 + j) for j, c in enumerate(half)] +
                  [payment(c, 600.0, base + 4000 + j) for j, c in enumerate(half)] +
                  [watermark(base + 5000)])
        dropped = self.admin("POST", "/undeploy?pattern=card_testing&mode=drop")
        if dropped.get("runs_dropped", 0) == 0:
            raise CaseError(f"cycle {i}: the drop undeploy dropped no runs")
        self.deploy(self.v1, "keep")
        self.feed([payment(c, 0.5, base + 10000 + n * 1000 + j) for n in range(2)
                   for j, c in enumerate(cards)])
        drained = self.deploy(self.v2, "drain")
        if drained["patterns"][0].get("draining_runs", 0) == 0:
            raise CaseError(f"cycle {i}: the drain deploy left v1 no runs to drain")
        self.feed([payment(c + "-v2", 0.5, base + 20000 + j) for j, c in enumerate(cards)])
        self.admin("POST", "/undeploy?pattern=card_testing&mode=drain")
        self.feed([watermark(base + 20 * 60 * 1000)])

        def unloaded():
            return self.server.alive() and self.admin("GET", "/patterns") == []
        wait_for(f"cycle {i}: every version drained and unloaded", unloaded, self.timeout)
        # An unloaded version's metric series go with it (the same two versions come back every
        # cycle, so a series kept would not show in the resident size).
        status, text = request(self.server.server, "GET", "/metrics", timeout=self.timeout)
        kept = [x for x in text.splitlines() if x.startswith("cep_pattern_")]
        if status != 200 or kept:
            raise CaseError(f"cycle {i}: GET /metrics {status} with nothing loaded still has "
                            f"pattern series: {kept[:3]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--tolerance-kib", type=int, default=2048)
    parser.add_argument("--log", action="store_true", help="print the server's stderr at the end")
    parser.add_argument("--timeout", type=float, default=60.0, help="every wait, in seconds")
    parser.add_argument("--time-limit", type=float, default=1800.0,
                        help="fail when the cycles take longer than this, in seconds")
    options = parser.parse_args()
    if options.warmup >= options.cycles:
        parser.error("--warmup must be below --cycles")
    cep = os.path.abspath(options.cep)
    work = tempfile.mkdtemp(prefix="cep-cycles-")
    server = None
    try:
        artifacts = []
        for n, big in ((1, "500.0"), (2, "100.0")):
            source = os.path.join(work, f"v{n}.cep")
            with open(source, "w", encoding="utf-8") as f:
                f.write(RULES.format(n=n, big=big))
            target = os.path.join(work, f"v{n}.cepo")
            result = subprocess.run([cep, "compile", source, "-o", target], capture_output=True,
                                    text=True)
            if result.returncode != 0:
                raise CaseError(f"cep compile v{n}.cep failed:\n{result.stderr}")
            with open(target, "rb") as f:
                artifacts.append(f.read())
        # v1 at start gives the server its schema; the first cycle's deploy replaces it.
        server = Server(cep, work, [os.path.join(work, "v1.cepo")], [], options.timeout)
        cycles = Cycles(server, artifacts[0], artifacts[1], options.timeout)
        started = time.monotonic()
        samples = []
        baseline = None
        for i in range(options.cycles):
            cycles.cycle(i)
            if i + 1 == options.warmup:
                baseline = rss_kib(server.proc.pid)
            if (i + 1) % max(1, options.cycles // 10) == 0 or i + 1 == options.warmup:
                samples.append((i + 1, rss_kib(server.proc.pid)))
            if time.monotonic() - started > options.time_limit:
                raise CaseError(f"{i + 1} cycles took over --time-limit {options.time_limit} s")
        final = rss_kib(server.proc.pid)
        elapsed = time.monotonic() - started
        server.stop()
        stderr = server.stderr_text()
        server.kill()
        with open(server.out, encoding="utf-8") as f:
            outputs = f.read().splitlines()
        want = options.cycles * (CARDS // 2)
        if len(outputs) != want:
            raise CaseError(f"{len(outputs)} matches written, expected {want} "
                            f"({CARDS // 2} per cycle)")
        growth = final - baseline
        print("VmRSS (KiB) after cycle: " + ", ".join(f"{n}: {kib}" for n, kib in samples))
        print(f"{options.cycles} cycles in {elapsed:.1f} s ({elapsed / options.cycles * 1000:.1f} "
              f"ms each); VmRSS {baseline} KiB after {options.warmup} (warm-up), {final} KiB "
              f"after {options.cycles}: {growth:+d} KiB (tolerance {options.tolerance_kib} KiB)")
        if growth > options.tolerance_kib:
            print("FAIL  the resident size grew over the tolerance\n" + stderr[-2000:])
            return 1
        print("ok")
        if options.log:
            print(stderr)
        return 0
    except (CaseError, OSError, subprocess.SubprocessError) as e:
        print(f"FAIL  {e}")
        if server is not None:
            print(server.stderr_text()[-3000:])
        return 1
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
