#!/usr/bin/env python3
"""`cep serve --repartition --scale-out --state` (docs/kafka.md "Repartition with scale-out",
tests/kafka/README.md): two members of group `fraud` over a randomly keyed 4-partition topic.
Each member's first stage republishes the input partitions the group `fraud-repartition` gives
it to `fraud-repartition`, keyed by the patterns' key; each matching stage matches the
repartition partitions the group `fraud` gives it. Member A is SIGKILLed after a committed
checkpoint; B takes A's input partitions (resuming each at the offset of its first stage's
changelog record) and A's repartition partitions (their state from the changelog).

  1. A starts, then B; they hold two input and two repartition partitions each;
  2. the first half of each input partition (keys random; each card's or user's events in one
     partition, in file order) and a watermark just before the rest of it, republished by both
     first stages and matched up to the smallest of those watermarks (each matching stage
     combines the four input partitions' watermarks, whichever member republished them); two
     of A's transactions commit after that; A is SIGKILLed;
  3. the second half of each input partition and a far {"@watermark": ...} in each;
  4. B takes over A's partitions of both groups, republishes the rest and matches it.

The mock writes no transaction markers (as check_exactly_once.py): which of A's transactions
count is read from B's log (A's labels up to the highest B names restoring A's records); every
message of fraud-repartition and alerts carries its transaction (header cep-txn). Checks: the
republished events of committed transactions are the input's, each once; the alerts of
committed transactions equal `cep run`'s (payments.cep and accounts.cep, as a multiset); the
combined watermark reaches every repartition partition of B (the minimum over the 4 input
partitions, whichever member republished each); B stops with SIGTERM, exit 0.
"""

import collections
import json
import os
import re
import subprocess
import sys
import zlib

from kafka_bed import (LABEL, KafkaBed, check, example_case, failures, metric, parse_output,
                       run_records, strip_version, wait_for)


def main():
    args, _, events_path, events, _, last = example_case(
        lambda ap: ap.add_argument("--workers", default="1"))
    rules = [os.path.join(args.example, f) for f in ("payments.cep", "accounts.cep")]
    run = subprocess.run([args.cep, "run", *rules, "--input", events_path, "--max-delay", "2s"],
                         capture_output=True, timeout=120)
    check(run.returncode == 0, "cep run on payments.cep and accounts.cep exits 0")
    expected = collections.Counter(strip_version(r) for r in run_records(run.stdout))
    by_partition = [[], [], [], []]
    for e in events:
        record = json.loads(e)
        field = record.get("card") or record.get("user") or ""
        by_partition[zlib.crc32(field.encode()) % 4].append(e)
    halves = [(part[:len(part) // 2], part[len(part) // 2:]) for part in by_partition]
    first = sum(len(h[0]) for h in halves)

    def random_key(value):
        return f"r-{zlib.crc32(value)}"

    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "alerts:4", "fraud-repartition:4"]) as bed:
        config = os.path.join(args.workdir, "group.properties")
        with open(config, "w") as f:
            # A killed member's partitions move after its session times out: 6 s, not 45.
            f.write("session.timeout.ms=6000\nheartbeat.interval.ms=500\n")

        def serve_args(state):
            return [*rules, "-i", bed.url("payments", group="fraud"), "--repartition",
                    "-o", bed.url("alerts"), "--max-delay", "30d",
                    "--state", os.path.join(args.workdir, state), "--checkpoint-every", "300ms",
                    "--scale-out", "--kafka-config", config, "--workers", args.workers]

        a = bed.serve(serve_args("state-a"), name="a")
        a.wait_log("transactions initialised")  # transaction label bases must differ
        b = bed.serve(serve_args("state-b"), name="b")
        port_a, port_b = (os.path.join(args.workdir, n + ".port") for n in ("a", "b"))

        def assigned(port, topic):
            return {p for p in range(4) if metric(port, "cep_kafka_partition_assigned",
                                                  topic=topic, partition=str(p)) == 1}

        def split_between():
            return all(len(assigned(port_a, t)) == 2 and len(assigned(port_b, t)) == 2 and
                       not assigned(port_a, t) & assigned(port_b, t)
                       for t in ("payments", "fraud-repartition"))
        wait_for("A and B hold two input and two repartition partitions each", split_between,
                 timeout=60)
        print(f"      A holds payments{sorted(assigned(port_a, 'payments'))} and "
              f"fraud-repartition{sorted(assigned(port_a, 'fraud-repartition'))}", flush=True)

        # 2. The first half, republished by both first stages and matched by both.
        for p in range(4):
            bed.produce("payments", halves[p][0], key=random_key, partition=p)

        def republished(port):
            return metric(port, "cep_kafka_republished_total",
                          **{"from": "payments", "to": "fraud-repartition"}) or 0

        def consumed(port):
            return metric(port, "cep_kafka_messages_consumed_total",
                          topic="fraud-repartition") or 0
        wait_for(f"{first} events republished by A and B together",
                 lambda: republished(port_a) + republished(port_b) == first)
        check(republished(port_a) > 0 and republished(port_b) > 0,
              f"both first stages republish (A {republished(port_a):.0f}, "
              f"B {republished(port_b):.0f})")
        # A watermark per input partition just before the rest of it: the matching stages
        # release what is before the smallest (their keys then hold state that must move).
        mids = [min(json.loads(e)["ts"] for e in halves[p][1]) - 1 for p in range(4)]
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": mids[p]}).encode()], partition=p)

        def handed(port, p):
            return metric(port, "cep_input_watermark_seconds",
                          input=f"fraud-repartition[{p}]") or 0
        wait_for("both matching stages reach the smallest of the input partitions' watermarks",
                 lambda: all(max(handed(port_a, p), handed(port_b, p)) >= min(mids) / 1000 - 1
                             for p in range(4)))
        wait_for("both matching stages read the first half",
                 lambda: consumed(port_a) + consumed(port_b) >= first)

        def committed(port):
            return metric(port, "cep_kafka_transactions_total", outcome="committed") or 0
        at = committed(port_a)
        wait_for("two more of A's transactions commit", lambda: committed(port_a) > at + 1)
        a.proc.kill()
        a.proc.wait()
        mark = len(b.log())

        # 3. The rest, and a far watermark in every input partition.
        for p in range(4):
            bed.produce("payments", halves[p][1], key=random_key, partition=p)
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)

        # 4. B takes A's partitions of both groups.
        def taken():
            log = b.log()[mark:]
            return (re.findall(r"the first stage took over payments\[(\d)\]: republishes from "
                               r"offset (\d+) \(changelog record of transaction (\d+)-(\d+)", log),
                    re.findall(r"took over fraud-repartition\[(\d)\]: state from the changelog "
                               r"topic fraud-state \(transaction (\d+)-(\d+) of [^,]+, (\d+) "
                               r"keys", log))
        wait_for("B takes A's input and repartition partitions over",
                 lambda: len(taken()[0]) == 2 and len(taken()[1]) == 2, timeout=60)
        firsts, matchers = taken()
        check(all(int(offset) > 0 for _, offset, _, _ in firsts),
              f"B's first stage resumes A's input partitions where A's records say "
              f"({[(int(p), int(o)) for p, o, _, _ in firsts]})")
        keys = sum(int(k) for *_, k in matchers)
        check(keys > 0, f"A's repartition partitions bring their keys' state to B ({keys} keys)")
        bases = {base for _, _, base, _ in firsts} | {base for _, base, _, _ in matchers}
        check(len(bases) == 1, f"the records B restored were written by A ({bases})")
        base_a = bases.pop() if len(bases) == 1 else ""
        upto = max([int(s) for *_, s in firsts] + [int(s) for _, _, s, _ in matchers])

        far = (last + 86400000) / 1000

        def watermark(p):
            return metric(port_b, "cep_input_watermark_seconds",
                          input=f"fraud-repartition[{p}]") or 0
        wait_for("B's watermark past the end in every repartition partition",
                 lambda: all(watermark(p) >= far - 1 for p in range(4)), timeout=60)
        at = committed(port_b)
        wait_for("a checkpoint of B commits after that", lambda: committed(port_b) > at)
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        bed.servers.remove(b)

        def counts(label):
            m = LABEL.match(label or "")
            return m is not None and (m.group(1) != base_a or int(m.group(2)) <= upto)
        republished_all = [(label, v) for label, v in
                           parse_output(bed.consume("fraud-repartition", "%h\\t%s\\n"))
                           if '"@watermark"' not in v]
        kept = collections.Counter(v.encode() for label, v in republished_all if counts(label))
        aborted = sum(1 for label, _ in republished_all if not counts(label))
        want = collections.Counter(events)
        check(kept == want,
              f"the republished events of committed transactions are the input's, each once "
              f"(lost: {sum((want - kept).values())}, twice: {sum((kept - want).values())}; "
              f"in A's aborted transaction: {aborted})")
        alerts = collections.Counter(strip_version(r) for label, r in
                                     parse_output(bed.consume("alerts", "%h\\t%s\\n"))
                                     if counts(label))
        check(alerts == expected,
              f"the alerts of committed transactions equal cep run's ({sum(expected.values())};"
              f" lost {sum((expected - alerts).values())}, twice "
              f"{sum((alerts - expected).values())})")
        if failures:
            print(a.log()[-2500:], file=sys.stderr)
            print(b.log()[-3500:], file=sys.stderr)
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
