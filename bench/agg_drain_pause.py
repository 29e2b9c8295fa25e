#!/usr/bin/env python3
"""The event-loop pause of a `drain` deploy of an aggregate (docs/serve.md "Aggregates").

A session aggregate (gap 5m) and a running one (`none`, ttl 1h) per key, each with N keys holding
one open window (one event per key, then a watermark). `cep deploy --mode drain` of a second
build of the same rules (-O1: another hash) seeds the new versions with the old ones' session
and running-cell bounds on the loop (WindowAggregator::seedFrom): the answer's "pause_seconds"
is that pause. For scale, the same with a tumbling aggregate (no seed: its drain sets the
switch time only). Uses bench/serve_bench.py's Server (pinned to core 0, stopped by pid).

  bench/agg_drain_pause.py --cep build/release/cli/cep [--sizes 10000,100000] [--work DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_bench import Server, compile_artifacts, deploy, fmt_us, wait_for  # noqa: E402

T0 = 1767607200000

RULES = {
    "session": "aggregate agg partition by card window session gap 5m { p: Payment }\n"
               "emit Out { uses: count(p), total: sum(p.amount) }\n",
    "none": "aggregate agg partition by card window none ttl 1h { p: Payment }\n"
            "emit Out { uses: count(p), total: sum(p.amount) }\n",
    "tumbling": "aggregate agg partition by card window tumbling 1h { p: Payment }\n"
                "emit Out { uses: count(p), total: sum(p.amount) }\n",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="cep-agg-drain-"))
    work.mkdir(parents=True, exist_ok=True)
    print("load before:", os.getloadavg())
    rows = []
    for kind, body in RULES.items():
        src = work / f"{kind}.cep"
        src.write_text("event Payment { card: int, amount: float, ts: time }\n" + body)
        builds = compile_artifacts(args.cep, work, kind, [src])
        for n in (int(s) for s in args.sizes.split(",")):
            data = work / f"keys-{n}.jsonl"
            if not data.exists():
                with open(data, "w") as f:
                    for i in range(n):
                        f.write(f'{{"card":{i},"amount":1.5,"ts":{T0 + i // 100}}}\n')
                    f.write(f'{{"@watermark":{T0 + n // 100 + 1000}}}\n')
            pauses = []
            for _ in range(args.runs):
                server = Server(args.cep, work, [builds[0]], input_path=data, args=["--follow"])
                try:
                    wait_for("every event read", lambda: Server.total(
                        server.metrics(), "cep_input_records_read_total") >= n + 1, timeout=300)
                    _, answer = deploy(args.cep, server.server, builds[1], "drain")
                    pauses.append(answer["pause_seconds"])
                finally:
                    server.stop()
            rows.append((kind, n, pauses))
            print(f"{kind} n={n}: pauses {[fmt_us(p) for p in pauses]}", flush=True)
    print("load after:", os.getloadavg())
    print("| window | keys (open windows) | drain pause min | median | max |")
    print("|---|---|---|---|---|")
    for kind, n, p in rows:
        print(f"| {kind} | {n:,} | {fmt_us(min(p))} | {fmt_us(statistics.median(p))} | "
              f"{fmt_us(max(p))} |")


if __name__ == "__main__":
    main()
