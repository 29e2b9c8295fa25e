#!/usr/bin/env python3
"""Aggregates' window state in the changelog topic `<group>-state` (tests/kafka/README.md,
docs/kafka.md "The changelog topic"): the open windows of a partition's keys survive the loss
of the machine, exactly once with the transactional output.

The rules are the fraud example's payments.cep (patterns partitioned by card) and
tests/kafka/windows.cep (a tumbling 1h, a hopping 2h-every-30m and a session aggregate per
card, every window written). kcat produces the first half of the example stream into a
4-partition topic keyed by card (other events by user); server A (`cep serve --state A`, a
Kafka output, so a transactional producer and the changelog) reads it, commits two more
checkpoints, and is SIGKILLed while windows are open; its folder is thrown away. The second
half and a watermark per partition follow; server B, with an EMPTY folder, restores every
partition from `fraud-state` (patterns' partial matches and aggregates' open windows) and reads
the rest. Every output record carries the header cep-txn (its transaction's label, BASE-SEQ).

Checks:
  * B's log names each partition restored and, per aggregate, the keys and open windows it
    took back (more than none);
  * the records of committed transactions equal `cep run`'s on the same events exactly (as a
    multiset: with 4 partitions the arrival order differs): a window open at the kill is
    written once, by B, with the events A had counted; every other record is a duplicate in an
    aborted transaction (counted, as check_exactly_once.py). Committed: A's transactions up to
    the latest one B restored a partition from or A had counted committed before the kill,
    every one of B's (it stops with SIGTERM);
  * /metrics: cep_aggregate_open_windows on B right after the restore, keys restored per
    partition.

With --workers A,B (kafka.changelog_aggregates_workers) server A matches on A workers and B on
B (docs/serve.md "Workers"): the changelog records A's workers wrote are one worker's bytes, and
B places each restored key on the worker its name hashes to.

A is killed while idle (after its last checkpoint committed): librdkafka's mock cluster writes
no transaction markers, so a kill inside a transaction would let the next server read that
transaction's changelog records too (check_changelog.py says the same; real_broker.sh is for
kills at any moment against a real cluster).
"""

import collections
import json
import os
import re
import shutil
import sys

from kafka_bed import (KafkaBed, check, example_case, failures, metric, parse_output, payment_key,
                       strip_version, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
AGGREGATES = ("card_hour", "card_2h", "card_visit")


def main():
    # windows.cep is not in the example: its absolute path stands as it is in the join
    args, rules, _, events, records, last = example_case(
        rule_files=["payments.cep", os.path.join(HERE, "windows.cep")],
        add_arguments=lambda ap: ap.add_argument("--workers", default="1,1",
                                                  help="A's and B's --workers, as A,B"))
    workers_a, workers_b = args.workers.split(",")
    expected = collections.Counter(records)
    streams = collections.Counter(json.loads(r)["@stream"] for r in expected.elements())
    check(all(streams[s] > 0 for s in ("CardHour", "Card2h", "CardVisit", "HighRisk")),
          f"cep run writes windows of every aggregate and matches ({dict(streams)})")
    total = sum(expected.values())
    half = len(events) // 2

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:4"]) as bed:
        def serve_args(state):
            return [*rules, "-i", bed.url("payments", group="fraud"), "-o", bed.url("alerts"),
                    "--max-delay", "2s", "--state", state, "--checkpoint-every", "300ms"]

        state_a = os.path.join(args.workdir, "state-a")
        bed.produce("payments", events[:half], key=payment_key)
        a = bed.serve(serve_args(state_a) + ["--workers", workers_a], name="a")
        port_a = os.path.join(args.workdir, "a.port")
        a.wait_log("admin endpoint on")
        wait_for("A reads the first half",
                 lambda: (metric(port_a, "cep_kafka_messages_consumed_total",
                                 topic="payments") or 0) >= half)
        committed = metric(port_a, "cep_kafka_transactions_total", outcome="committed")
        wait_for("two more committed checkpoints",
                 lambda: metric(port_a, "cep_kafka_transactions_total",
                                outcome="committed") >= committed + 2)
        open_windows = sum(metric(port_a, "cep_aggregate_open_windows", aggregate=name,
                                  version=version) or 0
                           for name in AGGREGATES
                           for version in re.findall(r'cep_aggregate_open_windows\{aggregate="'
                                                     + name + r'",version="(\w+)"',
                                                     metrics_text(port_a)))
        check(open_windows > 0, f"A holds open windows when it is killed ({open_windows})")
        committed_a = int(metric(port_a, "cep_kafka_transactions_total", outcome="committed"))
        a.proc.kill()  # the machine is lost: its process and its folder
        a.proc.wait()
        a.stderr.close()
        bed.servers.remove(a)
        shutil.rmtree(state_a)
        base_a = {label.split("-")[0] for label, _ in
                  parse_output(bed.consume("alerts", "%h\\t%s\\n")) if label}
        check(len(base_a) == 1, f"A's records carry one transaction base ({base_a})")

        bed.produce("payments", events[half:], key=payment_key)
        for p in range(4):  # every window closes, as at the end of cep run's file
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        config_b = os.path.join(args.workdir, "b.properties")
        with open(config_b, "w") as f:
            f.write("transactional.id=cep-fraud-b\n")
        b = bed.serve(serve_args(os.path.join(args.workdir, "state-b")) +
                      ["--kafka-config", config_b, "--workers", workers_b], name="b")
        b.wait_log("partitions from the changelog")
        log = b.log()
        for p in range(4):
            check(f"partition payments[{p}]: state from the changelog topic fraud-state" in log,
                  f"B says partition {p}'s state came from the changelog topic")
        for name in AGGREGATES:
            found = re.search(r"restored from the changelog: " + name +
                              r" \w+: (\d+) keys, (\d+) open windows in all", log)
            check(found is not None and int(found.group(1)) > 0 and int(found.group(2)) > 0,
                  f"B restored {name}'s open windows ({found.group(0) if found else 'no line'})")
        named = [int(seq) for base, seq in
                 re.findall(r"state from the changelog topic fraud-state \(transaction "
                            r"(\d+)-(\d+)", log) if base in base_a]
        upto_a = max(named + [committed_a])

        def committed_records():
            out = collections.Counter()
            aborted = collections.Counter()
            for label, record in parse_output(bed.consume("alerts", "%h\\t%s\\n")):
                base, _, seq = (label or "-").partition("-")
                if base not in base_a or int(seq) <= upto_a:
                    out[strip_version(record)] += 1
                else:
                    aborted[strip_version(record)] += 1
            return out, aborted

        # B has read everything and committed twice since: what it writes is written (a lost
        # window fails the comparison below rather than a wait).
        wait_for("B reads every partition to its end",
                 lambda: all(b.metric("cep_kafka_consumer_lag", topic="payments",
                                      partition=str(p)) == 0 for p in range(4)), timeout=60)
        done = b.metric("cep_kafka_transactions_total", outcome="committed") or 0
        wait_for("two more committed checkpoints of B",
                 lambda: (b.metric("cep_kafka_transactions_total", outcome="committed") or 0)
                 >= done + 2)
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        got, aborted = committed_records()
        check(got == expected,
              f"the committed records of A and B equal cep run's {total}: none lost "
              f"({sum((expected - got).values())}, e.g. {list((expected - got))[:2]}), none "
              f"twice ({sum((got - expected).values())}, e.g. {list((got - expected))[:2]})")
        check(not (aborted - expected),
              f"every record of an aborted transaction ({sum(aborted.values())}) is one of "
              f"cep run's (a duplicate)")
        print(f"      {sum(aborted.values())} records in aborted transactions", flush=True)

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


def metrics_text(port_file):
    import urllib.request
    with open(port_file) as f:
        port = int(f.read().strip())
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


if __name__ == "__main__":
    sys.exit(main())
