#!/usr/bin/env python3
"""Throughput end to end through Kafka (issue #12 section 5; bench/README.md), beside file
input, and the restore time of partitions moved by a rebalance (`--scale-out`). Never part of
`make test`.

N events (--events) of one keyed rule (cards spread over 4 partitions, keyed by card) are
produced with kcat into a topic of librdkafka's mock cluster (tools/kafka-mock; at most 5 MiB
per partition: N stays at or under 200,000). Measured:

  file        `cep run RULE --input events.jsonl -o FILE` (wall time);
  kafka       `cep serve -i kafka://.../in -o kafka://.../out` (at least once): from the start
              of the process until it has consumed N messages and delivered every match
              (cep_kafka_messages_consumed_total, cep_kafka_messages_produced_total);
  kafka-eos   the same with --state (one transaction per checkpoint, the changelog topic);
  rebalance   two `--scale-out` servers on another topic with the same events (no far
              watermark: the keys hold partial matches): A reads everything, B joins, the
              rebalance moves two partitions; B's "partitions restored in X ms" (the changelog read to its end and
              the merge into the matchers) and the keys moved.

Every process is started here, bound to 127.0.0.1, waited for with bounded waits and killed by
its pid. The machine is shared: run it more than once and note the load (bench/RESULTS.md).

Usage: bench/kafka_throughput.py [--cep build/release/cli/cep]
                                 [--mock build/release/tools/kafka-mock] [--events 200000]
"""
import argparse
import json
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
RULE = """event Tx { card: string, amount: float, ts: time }
pattern probe partition by card within 10m {
    small: Tx(amount < 5.0){2,} -> big: Tx(amount > 500.0)
}
emit Probe { card: big.card, probes: count(small) }
"""
T0 = 1700000000000
TIMEOUT = 300.0


def wait_for(what, condition, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def metric(port_file, series):
    try:
        port = int(Path(port_file).read_text().strip())
    except (OSError, ValueError):
        return None
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cep", default=str(ROOT / "build/release/cli/cep"))
    ap.add_argument("--mock", default=str(ROOT / "build/release/tools/kafka-mock"))
    ap.add_argument("--events", type=int, default=200000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cep-kafka-bench-"))
    procs = []
    try:
        rules = work / "probe.cep"
        rules.write_text(RULE)
        plain, keyed = work / "events.jsonl", work / "events.txt"
        x = 7
        with open(plain, "w") as fp, open(keyed, "w") as fk:
            for i in range(args.events):
                x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
                card = f"c-{(x >> 33) % 5000:05d}"
                amount = 900.0 if (x >> 20) % 7 == 0 else 1.5
                line = json.dumps({"@type": "Tx", "card": card, "amount": amount,
                                   "ts": T0 + 100 * i}, separators=(",", ":"))
                fp.write(line + "\n")
                fk.write(card + "\t" + line + "\n")
            far = json.dumps({"@watermark": T0 + 100 * args.events + 86400000})

        started = time.monotonic()
        run = subprocess.run([args.cep, "run", str(rules), "--input", str(plain), "--max-delay",
                              "2s", "-o", str(work / "run.jsonl")], capture_output=True,
                             timeout=TIMEOUT)
        file_s = time.monotonic() - started
        if run.returncode != 0:
            raise RuntimeError(run.stderr.decode())
        with open(work / "run.jsonl") as f:
            matches = sum(1 for _ in f)
        print(f"events {args.events}, matches {matches}")
        print(f"file       cep run: {file_s:.2f} s, {args.events / file_s:,.0f} events/s")

        mock = subprocess.Popen([args.mock] + sum((["--topic", f"{t}:4"] for t in
                                                   ("in", "in2", "out", "out2", "out3")), []),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        procs.append(mock)
        bootstrap = mock.stdout.readline().strip()
        started = time.monotonic()
        subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "in", "-K", "\t", "-l",
                        str(keyed)], check=True, timeout=TIMEOUT)
        for p in range(4):  # every window closes, as at the end of the file
            subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "in", "-p", str(p)],
                           input=(far + "\n").encode(), check=True, timeout=60)
        produce_s = time.monotonic() - started
        # The rebalance's topic: no far watermark, so that the keys hold partial matches.
        subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "in2", "-K", "\t", "-l",
                        str(keyed)], check=True, timeout=TIMEOUT)
        print(f"produce    kcat -P: {produce_s:.2f} s, {args.events / produce_s:,.0f} events/s")

        def serve(name, group, out, extra, topic="in"):
            port = work / (name + ".port")
            err = open(work / (name + ".stderr"), "wb")
            p = subprocess.Popen([args.cep, "serve", str(rules), "-i",
                                  f"kafka://{bootstrap}/{topic}?group={group}", "-o",
                                  f"kafka://{bootstrap}/{out}", "--max-delay", "2s",
                                  "--admin", "127.0.0.1:0", "--admin-port-file", str(port),
                                  *extra], stdout=subprocess.DEVNULL, stderr=err)
            procs.append(p)
            return p, port, work / (name + ".stderr")

        def through(name, group, out, extra):
            started = time.monotonic()
            p, port, _ = serve(name, group, out, extra)
            wait_for(f"{name}: {matches} matches delivered",
                     lambda: (metric(port, f'cep_kafka_messages_produced_total{{topic="{out}"}}')
                              or 0) >= matches)
            seconds = time.monotonic() - started
            consumed = metric(port, 'cep_kafka_messages_consumed_total{topic="in"}')
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
            print(f"{name:10} cep serve start to last match delivered: {seconds:.2f} s, "
                  f"{args.events / seconds:,.0f} events/s (consumed {int(consumed or 0)}; "
                  f"includes the start; without --state also the group join, ~3 s on the mock)")

        through("kafka", "g1", "out", [])
        through("kafka-eos", "g2", "out2", ["--state", str(work / "eos"), "--checkpoint-every",
                                            "1s"])

        group = ["--state", None, "--checkpoint-every", "1s", "--scale-out"]
        a, port_a, log_a = serve("a", "g3", "out3", [str(v) if v else str(work / "ga")
                                                     for v in group], topic="in2")
        wait_for("A reads everything",
                 lambda: (metric(port_a, 'cep_kafka_messages_consumed_total{topic="in2"}') or 0)
                 >= args.events)
        b, port_b, log_b = serve("b", "g3", "out3", [str(v) if v else str(work / "gb")
                                                     for v in group], topic="in2")
        wait_for("B's restore", lambda: "partitions restored in" in log_b.read_text())
        log = log_b.read_text()
        m = re.search(r"(\d+) of (\d+) partitions restored in (\d+) ms \(the changelog read in "
                      r"(\d+) ms\)", log)
        keys = sum(int(k) for k in re.findall(r", (\d+) keys, \d+ bytes\), resumes", log))
        sizes = [int(s) for s in re.findall(r"keys, (\d+) bytes\), resumes", log)]
        gave = re.search(r"gave up .*?: (\d+) keys and (\d+) events held", log_a.read_text())
        for p in (b, a):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
        print(f"rebalance  B took over {m.group(1) if m else '?'} partitions ({keys} keys, record "
              f"bytes {sizes}) in {m.group(3) if m else '?'} ms, of which reading the changelog "
              f"topic {m.group(4) if m else '?'} ms; A dropped "
              f"{gave.group(1) if gave else '?'} keys")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get("KEEP"):
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
