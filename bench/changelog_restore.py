#!/usr/bin/env python3
"""The restore time of a Kafka partition's state from the changelog topic (issue #12 section 5;
bench/README.md, docs/kafka.md "The changelog topic"). Never part of `make test`.

N keys (--keys) with one live partial match each, spread over the 4 partitions of a topic of
librdkafka's mock cluster (tools/kafka-mock), keyed by the pattern's key: server A (`cep serve
--state A`) reads them, its checkpoints write one changelog record per partition to
`bench-state`, and it is killed (SIGKILL) once the records hold every key; server B starts with
an EMPTY --state folder and restores every partition from the topic. Reported: the changelog
bytes per partition, B's restore time (reading the topic to its end, decoding, merging into the
matchers: the log's "restored 4 partitions ... in X ms", cep_kafka_changelog_restore_seconds),
and B's launch to that log line (reading the topic to its end included).

A partition's record is at most 1 MB (service/changelog_record.hpp): about 4,000 keys of this
rule per partition (~240 bytes each), so --keys stays at or under 16,000 (more stops server A:
exit 3, naming the partition and the size).

Every process is started here, bound to 127.0.0.1, waited for with bounded waits and killed by
its pid.

Usage: bench/changelog_restore.py [--cep build/release/cli/cep]
                                  [--mock build/release/tools/kafka-mock] [--keys 12000]
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
pattern probe partition by card within 1d {
    small: Tx(amount < 5.0) -> big: Tx(amount > 500.0)
}
emit Probe { card: big.card }
"""
T0 = 1700000000000
TIMEOUT = 120.0


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


def metric(port_file, name):
    try:
        port = int(Path(port_file).read_text().strip())
    except (OSError, ValueError):
        return None
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cep", default=str(ROOT / "build/release/cli/cep"))
    ap.add_argument("--mock", default=str(ROOT / "build/release/tools/kafka-mock"))
    ap.add_argument("--keys", type=int, default=12000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cep-changelog-bench-"))
    procs = []
    try:
        rules = work / "probe.cep"
        rules.write_text(RULE)
        keyed = work / "events.txt"
        with open(keyed, "w") as f:
            for i in range(args.keys):
                card = f"c-{i:07d}"
                f.write(card + "\t" + json.dumps({"@type": "Tx", "card": card, "amount": 1.0,
                                                  "ts": T0 + 1000 * i}) + "\n")
        mock = subprocess.Popen([args.mock, "--topic", "payments:4", "--topic", "alerts:4"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        procs.append(mock)
        bootstrap = mock.stdout.readline().strip()
        subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "payments", "-K", "\t", "-l",
                        str(keyed)], check=True, timeout=120)

        def serve(name, state):
            port = work / (name + ".port")
            err = open(work / (name + ".stderr"), "wb")
            p = subprocess.Popen([args.cep, "serve", str(rules), "-i",
                                  f"kafka://{bootstrap}/payments?group=bench", "-o",
                                  f"kafka://{bootstrap}/alerts", "--max-delay", "2s",
                                  "--state", str(state), "--checkpoint-every", "500ms",
                                  "--admin", "127.0.0.1:0", "--admin-port-file", str(port)],
                                 stdout=subprocess.DEVNULL, stderr=err)
            procs.append(p)
            return p, port, work / (name + ".stderr")

        a, port_a, _ = serve("a", work / "state-a")
        wait_for("A reads every key", lambda: (metric(port_a, "cep_kafka_messages_consumed_total"
                                                      "{topic=\"payments\"}") or 0) >= args.keys)
        # Two more committed checkpoints: the last one that changed anything wrote its records.
        committed = 'cep_kafka_transactions_total{outcome="committed"}'
        done = metric(port_a, committed) or 0
        wait_for("two more checkpoints", lambda: (metric(port_a, committed) or 0) >= done + 2)
        written = metric(port_a, "cep_kafka_changelog_bytes_total")
        os.kill(a.pid, signal.SIGKILL)
        a.wait()

        started = time.monotonic()
        b, port_b, log_b = serve("b", work / "state-b")
        wait_for("B's restore", lambda: "partitions from the changelog in" in log_b.read_text())
        launch = time.monotonic() - started
        log = log_b.read_text()
        m = re.search(r"restored (\d+) partitions from the changelog in (\d+) ms", log)
        sizes = [int(x) for x in re.findall(r"keys, (\d+) bytes\), resumes", log)]
        keys = sum(int(x) for x in re.findall(r"\(transaction \S+, (\d+) keys", log))
        b.send_signal(signal.SIGTERM)
        b.wait(timeout=60)
        print(f"keys {args.keys}: changelog written by A {int(written or 0)} bytes; B restored "
              f"{m.group(1) if m else '?'} partitions, {keys} keys, record bytes {sizes}, in "
              f"{m.group(2) if m else '?'} ms (merge into the matchers); launch to restored "
              f"{launch:.2f} s")
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
