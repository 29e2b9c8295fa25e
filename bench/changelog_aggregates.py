#!/usr/bin/env python3
"""What aggregates' window state adds to the changelog topic (issue #13; bench/README.md,
docs/kafka.md "Aggregates' window state"). Never part of `make test`.

The fraud example's stream, produced in --parts parts --pause seconds apart into a 4-partition
topic of librdkafka's mock cluster (tools/kafka-mock), keyed by card (other events by user), is
served by `cep serve --state --checkpoint-every 300ms` with a Kafka output (transactions and the
changelog), once with examples/fraud/payments.cep and once with tests/kafka/windows.cep's three
aggregates beside it; once everything is read and two more checkpoints committed, the server's
/metrics give the transactions, the changelog records and bytes. Every process is started here,
bound to 127.0.0.1, waited for with bounded waits and stopped by its pid.

  bench/changelog_aggregates.py --cep build/release/cli/cep --mock build/release/tools/kafka-mock
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "kafka"))
from kafka_bed import KafkaBed, metric, wait_for  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cep", required=True)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--parts", type=int, default=10)
    ap.add_argument("--pause", type=float, default=0.7)
    args = ap.parse_args()
    example = os.path.join(ROOT, "examples", "fraud")
    with open(os.path.join(example, "events.jsonl"), "rb") as f:
        events = [line.rstrip(b"\n") for line in f if line.strip()]

    def key(value):
        record = json.loads(value)
        return record.get("card") or record.get("user")

    payments = os.path.join(example, "payments.cep")
    windows = os.path.join(ROOT, "tests", "kafka", "windows.cep")
    print("| rules | transactions | changelog records | changelog bytes |")
    print("|---|---|---|---|")
    for label, rules in (("payments.cep", [payments]),
                         ("payments.cep + windows.cep", [payments, windows])):
        work = tempfile.mkdtemp(prefix="cep-bench-changelog-")
        try:
            with KafkaBed(args.cep, args.mock, work, ["payments:4", "alerts:4"]) as bed:
                server = bed.serve([*rules, "-i", bed.url("payments", group="fraud"), "-o",
                                    bed.url("alerts"), "--max-delay", "2s", "--state",
                                    os.path.join(work, "state"), "--checkpoint-every", "300ms"],
                                   name="a")
                server.wait_log("admin endpoint on")
                size = len(events) // args.parts + 1
                for i in range(0, len(events), size):
                    bed.produce("payments", events[i:i + size], key=key)
                    time.sleep(args.pause)
                wait_for("every message read",
                         lambda: (server.metric("cep_kafka_messages_consumed_total",
                                                topic="payments") or 0) >= len(events),
                         timeout=120)
                done = server.metric("cep_kafka_transactions_total", outcome="committed")
                wait_for("two more checkpoints",
                         lambda: server.metric("cep_kafka_transactions_total",
                                               outcome="committed") >= done + 2)
                print(f"| {label} | "
                      f"{server.metric('cep_kafka_transactions_total', outcome='committed'):.0f} | "
                      f"{server.metric('cep_kafka_changelog_records_total'):.0f} | "
                      f"{server.metric('cep_kafka_changelog_bytes_total'):,.0f} |", flush=True)
                server.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
