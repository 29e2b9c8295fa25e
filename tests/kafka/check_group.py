#!/usr/bin/env python3
"""Scale-out (tests/kafka/README.md, docs/kafka.md "Scale-out"): `cep serve --scale-out`
processes of one consumer group share a 4-partition topic, and a partition's state moves with it
through the changelog topic `fraud-state`.

kcat produces the first half of the fraud example stream (keyed as the patterns are partitioned:
a Payment by its card, every other event by its user; rules payments.cep and accounts.cep) into
`payments`. Server A joins group `fraud` alone and takes the four partitions. Server B joins:
the cooperative-sticky rebalance moves two partitions from A to B: A commits their state in a
checkpoint's transaction and drops it, B reads their records from `fraud-state` and resumes at
their offsets. The second half and a far watermark per partition follow (every window closes,
as at the end of cep run's file). Checks:

  * A's log says which partitions it gave up and that their state was committed; B's says it
    took them over from the changelog topic, with their keys and offsets;
  * the alerts of A and B together equal `cep run`'s records on the same events (as a
    multiset): the partial matches that straddle the move are completed by B, none lost, none
    twice;
  * /metrics: partitions assigned and revoked, rebalances, the restore time of a partition;
  * messages keyed otherwise than their card are counted per pattern and logged; one card's
    state split between A and B (a message in each member's partitions) is whole again when
    B's record of it replaces A's part;
  * B is then stopped (SIGTERM: its last checkpoint commits, it leaves the group) and A takes
    its partitions back, restoring them from B's records (A's log says so).

Both servers run on this host: each has its own transactional.id (the default names its state
folder). Every alert is written by a transaction that committed (no server is killed while one
is open), so the mock cluster's missing transaction markers show no duplicate here
(check_exactly_once.py counts those).
"""

import collections
import json
import os
import re
import subprocess
import sys
import zlib

from kafka_bed import (KafkaBed, check, example_case, failures, metric, payment_key, run_records,
                       strip_version, wait_for)


def main():
    # windows.cep: aggregates per card (tumbling, hopping, session), whose open windows move
    # with their partitions too.
    args, rules, events_path, events, records, last = example_case(
        rule_files=("payments.cep", "accounts.cep", "../../tests/kafka/windows.cep"))
    expected = collections.Counter(records)
    # The payment keyed otherwise below matches no pattern but has windows of its own: they
    # are expected once each, as `cep run` writes them after the stream.
    mismatch = json.dumps({"@type": "Payment", "card": "c-mismatch", "amount": 50.0,
                           "country": "GB", "merchant": "m-1", "order_id": "o-mismatch",
                           "ts": json.loads(events[-1])["ts"]}).encode()
    with open(os.path.join(args.workdir, "events_and_mismatch.jsonl"), "wb") as f:
        f.write(b"\n".join(events + [mismatch]) + b"\n")
    run = subprocess.run([args.cep, "run", *rules, "--input", f.name, "--max-delay", "2s"],
                         capture_output=True, timeout=120)
    expected += collections.Counter(
        r for r in run_records(run.stdout) if '"@key":"c-mismatch"' in r)
    half = len(events) // 2

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:4"]) as bed:
        config = os.path.join(args.workdir, "group.properties")
        with open(config, "w") as f:
            # Rebalances noticed in half a second, a member gone in six: with librdkafka's
            # defaults (3 s, 45 s) the mock's second cooperative round did not complete within
            # the test's 60 s waits in our runs.
            f.write("session.timeout.ms=6000\nheartbeat.interval.ms=500\n")

        def serve_args(state):
            return [*rules, "-i", bed.url("payments", group="fraud"), "-o", bed.url("alerts"),
                    "--max-delay", "2s", "--state", os.path.join(args.workdir, state),
                    "--checkpoint-every", "300ms", "--scale-out", "--kafka-config", config]

        bed.produce("payments", events[:half], key=payment_key)
        a = bed.serve(serve_args("state-a"), name="a")
        port_a = os.path.join(args.workdir, "a.port")
        a.wait_log("assigned partitions 0,1,2,3 of payments")
        wait_for("A reads the first half",
                 lambda: (metric(port_a, "cep_kafka_messages_consumed_total",
                                 topic="payments") or 0) >= half)

        b = bed.serve(serve_args("state-b"), name="b")
        port_b = os.path.join(args.workdir, "b.port")
        b.wait_log("partitions restored in", timeout=60)
        a.wait_log("group fraud: gave up ")
        log_a, log_b = a.log(), b.log()
        moved = sorted(p for p in range(4) if f"took over payments[{p}]: state from" in log_b)
        check(len(moved) == 2, f"B took over two partitions with their state ({moved})")
        check(all(f"payments[{p}]" in log_a.split("gave up ", 1)[1].split("\n", 1)[0]
                  for p in moved) and "their state and offsets committed" in log_a,
              "A gave up the same partitions after committing their state")
        check(metric(port_a, "cep_kafka_partitions_revoked_total", topic="payments") == 2,
              "/metrics: A counts two partitions revoked")
        check(metric(port_b, "cep_kafka_partitions_assigned_total", topic="payments") == 2,
              "/metrics: B counts two partitions assigned")
        check(all(metric(port_b, "cep_kafka_partition_restore_seconds", topic="payments",
                         partition=str(p)) is not None for p in moved),
              "/metrics: B says how long each partition took to restore")

        bed.produce("payments", events[half:], key=payment_key)
        # A Payment keyed by something else than its card (what velocity and card_testing
        # partition by): counted per pattern and logged, matched all the same (it completes
        # nothing: one small payment of a new card).
        bed.produce("payments", [mismatch], key=lambda value: "u-mismatch")
        for p in range(4):  # every window closes, as at the end of cep run's file
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        total = sum(expected.values())
        wait_for(f"{total} alerts", lambda: len(bed.consume("alerts")) >= total, timeout=60)
        got = collections.Counter(strip_version(r) for r in bed.consume("alerts"))
        check(got == expected,
              f"A's and B's alerts together equal cep run's {total} records: none lost "
              f"({sum((expected - got).values())}), none twice "
              f"({sum((got - expected).values())})")

        def mismatches(pattern):
            return sum(metric(port, "cep_kafka_message_key_mismatches_total", topic="payments",
                              pattern=pattern) or 0 for port in (port_a, port_b))
        check(mismatches("velocity") == 1 and mismatches("card_testing") == 1 and
              mismatches("high_value") == 0 and mismatches("card_hour") == 1,
              "/metrics: the message keyed otherwise than its card is counted for velocity, "
              "card_testing and the aggregate card_hour (high_value has no key)")
        check(re.search(r'payments\[\d\]@\d+: message key "u-mismatch" is not '
                        r'pattern (velocity|card_testing)\'s key of its event, '
                        r'"c-mismatch"',
                        a.log() + b.log()) is not None,
              "the mismatch is logged with its place, the key and the pattern's key")

        # One card's state split between the members: a Payment keyed by its card (in one of
        # B's partitions) and one keyed otherwise (in one of A's), after every window above
        # closed, then a watermark past them (their velocity runs stay open: 2 uses of 11).
        # When A takes B's partitions back, B's record of the card replaces what A holds of
        # it (a key is never restored twice). A key's partition is librdkafka's consistent
        # partitioner: CRC32 mod 4.
        def partition_of(k):
            return zlib.crc32(k.encode()) % 4
        kept = [p for p in range(4) if p not in moved]
        split_card = next(f"c-split-{i}" for i in range(1000)
                          if partition_of(f"c-split-{i}") in moved)
        split_key = next(f"k-split-{i}" for i in range(1000) if partition_of(f"k-split-{i}") in kept)
        later = last + 2 * 86400000

        def consumed():
            return sum(metric(port, "cep_kafka_messages_consumed_total", topic="payments") or 0
                       for port in (port_a, port_b))
        before = consumed()
        for message_key in (split_card, split_key):
            bed.produce("payments", [json.dumps({
                "@type": "Payment", "card": split_card, "amount": 50.0, "country": "GB",
                "merchant": "m-1", "order_id": "o-split", "ts": later}).encode()],
                key=lambda value, k=message_key: k)
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": later + 10000}).encode()],
                        partition=p)
        wait_for("both members read the split card", lambda: consumed() >= before + 6)

        # B leaves (SIGTERM): its last checkpoint commits its partitions' records; A takes them
        # back from the changelog.
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        bed.servers.remove(b)
        wait_for("A takes B's partitions back",
                 lambda: a.log().count("partitions restored in") >= 2, timeout=60)
        log_a = a.log()
        check(all(f"took over payments[{p}]: state from the changelog topic fraud-state" in log_a
                  for p in moved), "A takes B's partitions back with their state")
        check("(1 held here from messages keyed otherwise replaced)" in log_a,
              "the split card's key held by A is replaced by B's record of it")
        check(a.stop() == 0, "A stops with SIGTERM, exit 0")
        check(len(bed.consume("alerts")) == total, "nothing written twice by the moves")

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
