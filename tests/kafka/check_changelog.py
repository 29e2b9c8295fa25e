#!/usr/bin/env python3
"""The changelog topic `<group>-state` (tests/kafka/README.md, docs/kafka.md "The changelog
topic"): a partition's state survives the loss of the machine, not only of the process.

kcat produces the first half of the fraud example stream into a 4-partition topic, keyed as the
patterns are partitioned (a Payment by its card, every other event by its user; the rules are
payments.cep and accounts.cep, whose patterns are partitioned by card and by user); server A
(`cep serve --state A -i kafka://.../payments -o kafka://.../alerts`) reads it, checkpoints
(each checkpoint's transaction also writes one record per input partition to `fraud-state`) and
is killed with SIGKILL once it has read the half and committed two more checkpoints. Its state
folder is then thrown away (the machine is lost). The second half and a watermark per partition
follow; server B, with an EMPTY --state folder, restores every partition from `fraud-state`
(the log names each partition, the transaction and the keys) and resumes at the offsets the
records carry. Checks:

  * `fraud-state` exists (the mock cluster cannot make it compacted: it has no CreateTopics; the
    log says so) and holds a record per partition, keyed "payments/P";
  * B's log says where each partition's state came from;
  * the alerts of A and B together equal `cep run`'s records on the same events (as a multiset),
    with the partial matches that straddle the kill completed by B (a record whose events are
    on both sides of the kill is there exactly once);
  * /metrics: cep_kafka_changelog_records_total and cep_kafka_changelog_bytes_total grow;
  * B (another host: its own transactional.id) restarted on its own folder restores from the
    folder (the fast path); A's old folder, older than what B wrote, is refused as stale (exit
    2), writing nothing.

A is killed while idle (after its last checkpoint committed), so that every alert it wrote is
in a committed transaction: librdkafka's mock cluster writes no transaction markers, so a
kill in the middle of a transaction would leave records a read_committed reader of a real
cluster would not see (check_exactly_once.py counts those; this test is about the state).
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys

from kafka_bed import (KafkaBed, check, example_case, failures, metric, payment_key, strip_version,
                       wait_for)


def main():
    args, rules, _, events, records, last = example_case(
        rule_files=["payments.cep", "accounts.cep"])
    expected = collections.Counter(records)
    half = len(events) // 2

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:4"]) as bed:
        def serve_args(state):
            return [*rules, "-i", bed.url("payments", group="fraud"), "-o", bed.url("alerts"),
                    "--max-delay", "2s", "--state", state, "--checkpoint-every", "300ms"]

        state_a = os.path.join(args.workdir, "state-a")
        bed.produce("payments", events[:half], key=payment_key)
        a = bed.serve(serve_args(state_a), name="a")
        port_a = os.path.join(args.workdir, "a.port")
        a.wait_log("admin endpoint on")
        # The mock cluster has no CreateTopics (no controller): the topic is made by the first
        # write, and the log says it is not compacted.
        a.wait_log("changelog topic fraud-state does not exist: creating it (compacted)")
        a.wait_log("fraud-state exists (made by the brokers' auto.create.topics.enable, NOT "
                   "compacted")
        wait_for("A reads the first half",
                 lambda: (metric(port_a, "cep_kafka_messages_consumed_total",
                                 topic="payments") or 0) >= half)
        committed = metric(port_a, "cep_kafka_transactions_total", outcome="committed")
        wait_for("two more committed checkpoints",
                 lambda: metric(port_a, "cep_kafka_transactions_total",
                                outcome="committed") >= committed + 2)
        written = metric(port_a, "cep_kafka_changelog_records_total")
        check(written is not None and written >= 4,
              f"A wrote a changelog record per partition ({written})")
        check((metric(port_a, "cep_kafka_changelog_bytes_total") or 0) > 0,
              "cep_kafka_changelog_bytes_total counts what A wrote")
        a.proc.kill()  # the machine is lost: its process and its folder
        a.proc.wait()
        a.stderr.close()
        bed.servers.remove(a)
        stale = os.path.join(args.workdir, "state-a-stale")
        shutil.copytree(state_a, stale)  # for the stale-folder check at the end
        shutil.rmtree(state_a)
        alerts_a = len(bed.consume("alerts"))

        # The changelog topic: a record per partition, keyed topic/partition.
        keys = collections.Counter(bed.consume("fraud-state", "%k\\n"))
        check(set(keys) == {f"payments/{p}" for p in range(4)},
              f"fraud-state holds records keyed payments/0..3 ({sorted(keys)})")
        described = bed.kcat(["-L", "-t", "fraud-state"])
        check(described.returncode == 0 and b"4 partitions" in described.stdout,
              "fraud-state has the input topic's 4 partitions")

        bed.produce("payments", events[half:], key=payment_key)
        # A message in another partition than librdkafka's default partitioner gives its key
        # (an Order: no pattern here reads it): counted and logged, matched all the same.
        bed.produce("payments", [b'{"@type":"Order","order_id":"o-x","user":"u-x","total":1.0,'
                                 b'"ts":' + str(last).encode() + b'}'],
                    key=lambda value: "card-42", partition=3)  # card-42's partition is 2
        for p in range(4):  # every window closes, as at the end of cep run's file
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        # B is another host: its own transactional.id (A's is cep-fraud-<host name>).
        config_b = os.path.join(args.workdir, "b.properties")
        with open(config_b, "w") as f:
            f.write("transactional.id=cep-fraud-b\n")
        state_b = os.path.join(args.workdir, "state-b")
        b_args = serve_args(state_b) + ["--kafka-config", config_b]
        b = bed.serve(b_args, name="b")
        b.wait_log("partitions from the changelog")
        log = b.log()
        for p in range(4):
            check(f"partition payments[{p}]: state from the changelog topic fraud-state" in log,
                  f"B says partition {p}'s state came from the changelog topic")
        total = sum(expected.values())
        wait_for(f"{total} alerts", lambda: len(bed.consume("alerts")) >= total, timeout=60)
        with open(os.path.join(args.workdir, "b.port")) as f:
            port_b = f.read().strip()
        status = subprocess.run([args.cep, "status", "--server", f"127.0.0.1:{port_b}"],
                                capture_output=True, timeout=30)
        lines = [l for l in status.stdout.decode().splitlines() if l.startswith("changelog: ")]
        check(status.returncode == 0 and len(lines) == 1 and
              "4 partitions restored at start (" in lines[0] and " keys) in " in lines[0],
              f"cep status says what the changelog restored and wrote ({lines})")
        check((metric(os.path.join(args.workdir, "b.port"),
                      "cep_kafka_partition_restore_keys", topic="payments", partition="0") or 0)
              > 0, "/metrics: keys restored per partition")
        check(metric(os.path.join(args.workdir, "b.port"),
                     "cep_kafka_key_partition_mismatches_total", topic="payments") == 1,
              "/metrics: the message in another partition than its key's is counted")
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        got = collections.Counter(strip_version(r) for r in bed.consume("alerts"))
        check(got == expected,
              f"A's {alerts_a} and B's alerts together equal cep run's {total} records: none "
              f"lost ({sum((expected - got).values())}), none twice "
              f"({sum((got - expected).values())})")

        # B again on its folder: the folder is the fast path (nobody wrote after it).
        again = bed.serve(b_args, name="b_again")
        again.wait_log("restoring from the --state folder: no newer state of payments")
        check(again.stop() == 0, "B restarted on its folder restores from it, exit 0")
        # A's old folder: B (another transactional.id) wrote newer state: refused, exit 2.
        old = bed.serve(serve_args(stale), name="a_stale")
        code = old.proc.wait(timeout=60)
        log = old.log()
        check(code == 2 and "the --state folder is stale: the changelog topic fraud-state holds "
              "newer state of payments[" in log and "of cep-fraud-b)" in log,
              f"A's old folder is refused as stale, exit 2 (got {code}: {log[-400:]!r})")
        check(len(bed.consume("alerts")) == total, "the refused start wrote nothing")
        check(re.search(r'payments\[3\]@\d+: message key "card-42" is in partition 3, '
                        r"librdkafka's default partitioner puts it in 2", b.log()) is not None,
              "a message in another partition than its key's is logged with its offset")

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
