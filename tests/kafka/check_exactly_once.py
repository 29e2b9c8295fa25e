#!/usr/bin/env python3
"""`cep serve --state` from a Kafka topic to a Kafka topic across kill -9 (tests/kafka/README.md,
docs/kafka.md "Exactly once").

The fraud example stream is produced into a 4-partition topic in parts while `cep serve --state
DIR -i kafka://.../payments -o kafka://.../alerts --checkpoint-every 400ms` runs; the server is
SIGKILLed at random moments (a few, bounded; the seed is printed, --seed repeats it) and started
again with the same folder; a last server reads to the end and stops with SIGTERM. Every output
record carries the header cep-txn: the label of the producer transaction it was written in.

What librdkafka 2.0.2's mock cluster lacks, and how this test lives with it:
  * it writes no transaction markers: records of aborted transactions stay visible to every
    reader, read_committed or not. So the test decides which transactions committed from what
    the servers say: each restart logs "resuming after transaction L" (the last committed, the
    one its checkpoint carries); a transaction label is BASE-SEQ (BASE: one per server start,
    SEQ: 1, 2, ... in commit order), so BASE's committed transactions are SEQ 1..k where k is the
    highest any restart names, and every transaction of the last server, which stopped cleanly,
    committed. The others were open at a kill (aborted by the next start's init_transactions) or
    discarded by a restart: ABORTED;
  * it stores no offsets sent in a transaction (checked below: the group's committed offsets are
    "none" after the transactions committed), so a restart cannot ask the group whether a pending
    checkpoint's transaction committed: it takes it as aborted (a real broker answers; see
    real_broker.sh).
Checks: the records of committed transactions equal `cep run`'s on the same events exactly (as a
multiset: with 4 partitions the arrival order, the last output sort key, differs): nothing lost,
nothing twice; every other record (a duplicate) belongs to an aborted transaction (counted and
printed); restarts against another topic or another cluster are refused, changing nothing; and
a Kafka input with a file output (no transaction) holds cep run's records exactly across kills.

With --workers N (kafka.exactly_once_workers2) the servers match on N threads but every second
killed one, which matches on 1: each restart restores a checkpoint written under another worker
count (docs/serve.md "Workers"); the same checks hold.
"""

import collections
import json
import os
import random
import re
import sys
import time

from kafka_bed import (LABEL, KafkaBed, check, example_case, failures, parse_output, payment_key,
                       strip_version, wait_for)



def main():
    def arguments(ap):
        ap.add_argument("--kills", type=int, default=5)
        ap.add_argument("--seed", type=int, default=None)
        ap.add_argument("--workers", type=int, default=1)
    args, rules, events_path, events, records, last = example_case(arguments)

    def workers(round_):
        """The worker count of the server of this round (-1: the last ones)."""
        n = args.workers if round_ % 2 == 0 or round_ < 0 else 1
        return ["--workers", str(n)]
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed} (--seed {seed} repeats this run)", flush=True)
    rng = random.Random(seed)
    expected = collections.Counter(records)
    state = os.path.join(args.workdir, "state")

    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "alerts:4", "other:4"]) as bed:
        serve_args = [*rules, "-i", bed.url("payments", group="fraud"), "-o", bed.url("alerts"),
                      "--max-delay", "2s", "--state", state, "--checkpoint-every", "400ms"]
        parts = args.kills + 1
        size = (len(events) + parts - 1) // parts
        chunks = [events[i:i + size] for i in range(0, len(events), size)]
        logs = []
        for round_ in range(args.kills):
            server = bed.serve(serve_args + workers(round_), name=f"serve{round_}")
            # A part of the stream arrives while the server starts or runs, then a kill at a
            # random moment: while starting, restoring, reading, checkpointing or committing.
            time.sleep(rng.uniform(0.0, 0.8))
            part = chunks[round_]
            third = (len(part) + 2) // 3
            for i in range(0, len(part), third):  # in three bursts: output in open transactions
                bed.produce("payments", part[i:i + third], key=payment_key)
                time.sleep(rng.uniform(0.0, 0.3))
            if round_ == 0:
                # However slow the start (a sanitizer build, a loaded machine), one kill comes
                # after a committed checkpoint, so the restarts have one to restore.
                wait_for("the first server's first committed transaction",
                         lambda: (server.metric("cep_kafka_transactions_total",
                                                outcome="committed") or 0) >= 1, timeout=60)
            time.sleep(rng.uniform(0.0, 1.0))
            code = server.proc.poll()
            check(code is None, f"server {round_} is running when killed (exit {code})")
            server.proc.kill()
            server.proc.wait()
            server.stderr.close()
            bed.servers.remove(server)
            logs.append(server.log())
        for chunk in chunks[args.kills:]:
            bed.produce("payments", chunk, key=payment_key)
        for p in range(4):  # every window closes, as at the end of cep run's file
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        # The last server's labels: a base no record had before it started.
        earlier_bases = {label_base(label) for label, _ in
                         parse_output(bed.consume("alerts", "%h\\t%s\\n")) if label}
        final = bed.serve(serve_args + workers(-1), name="final")

        def committed_upto():
            """Per base, the highest SEQ a restart names as its last committed transaction."""
            upto = {}
            for log in logs + [final.log()]:
                for base, seq in re.findall(r"resuming after transaction (\d+)-(\d+)", log):
                    upto[base] = max(upto.get(base, 0), int(seq))
            return upto

        def is_committed_now(label, upto):
            return is_committed(label, upto) or (label is not None and
                                                 label_base(label) not in earlier_bases)

        def final_done():
            upto = committed_upto()
            output = parse_output(bed.consume("alerts", "%h\\t%s\\n"))
            return sum(1 for label, _ in output if is_committed_now(label, upto)) >= \
                sum(expected.values())

        wait_for(f"{sum(expected.values())} committed alerts", final_done, timeout=60)
        check(final.stop() == 0, "the last server stops with SIGTERM, exit 0 (its last "
              "checkpoint commits its last transaction)")
        logs.append(final.log())

        upto = committed_upto()
        output = parse_output(bed.consume("alerts", "%h\\t%s\\n"))
        check(all(label is not None for label, _ in output),
              "every record carries its transaction (header cep-txn)")
        committed = collections.Counter()
        aborted = collections.Counter()
        aborted_labels = set()
        for label, record in output:
            if is_committed_now(label, upto):
                committed[strip_version(record)] += 1
            else:
                aborted[strip_version(record)] += 1
                aborted_labels.add(label)
        check(committed == expected,
              f"the records of committed transactions equal cep run's ({sum(expected.values())} "
              f"records): none lost ({sum((expected - committed).values())}), none twice "
              f"({sum((committed - expected).values())})")
        duplicates = sum(aborted.values())
        check(all(r in expected for r in aborted),
              f"every other record is a duplicate of one of cep run's, in an aborted transaction "
              f"({duplicates} records in {len(aborted_labels)} aborted transactions)")
        restored = sum(len(re.findall(r"restored checkpoint", log)) for log in logs)
        discarded = sum(len(re.findall(r"it is discarded for the checkpoint before it", log))
                        for log in logs)
        print(f"      {len(logs)} starts, {restored} restored a checkpoint, {discarded} discarded "
              f"a pending one; {sum(committed.values())} committed records, "
              f"{duplicates} aborted", flush=True)
        check(restored >= 1, f"restarts restored checkpoints ({restored})")

        # What the mock does with offsets sent in a transaction: stores none. A start from the
        # folder says where each partition resumes and what the group has.
        probe = bed.serve(serve_args, name="probe")
        probe.wait_log("partitions resume at the checkpoint's offsets")
        log = probe.log()
        check(probe.stop() == 0, "a start from the folder stops with SIGTERM")
        check("the group's committed offsets differ, 0: none" in log,
              "librdkafka's mock stores no offsets sent in a transaction (the group has none): "
              "a restart resumes at the checkpoint's")

        # Restarts against another topic, or another cluster, are refused; nothing changes.
        alerts_before = len(bed.consume("alerts"))
        other = [a.replace("/payments?", "/other?") for a in serve_args]
        refused = bed.serve(other, name="other_topic")
        code = refused.proc.wait(timeout=60)
        log = refused.log()
        check(code == 2 and "the checkpoint read the Kafka topics payments (group fraud), this "
              "server reads other (group fraud)" in log,
              f"a restart against another topic is refused, exit 2 (got {code}: {log[-300:]!r})")
        with KafkaBed(args.cep, args.mock, os.path.join(args.workdir, "other_cluster"),
                      ["payments:4", "alerts:4"]) as second:
            moved = [a.replace(bed.bootstrap, second.bootstrap) for a in serve_args]
            refused = second.serve(moved, name="other_cluster")
            code = refused.proc.wait(timeout=60)
            log = refused.log()
            check(code == 3 and "it was read from the cluster" in log and
                  "another cluster" in log,
                  f"a restart against another cluster is refused, exit 3 (got {code}: "
                  f"{log[-300:]!r})")
            check(second.consume("alerts") == [], "the refused start wrote nothing")
        check(len(bed.consume("alerts")) == alerts_before, "the refused starts wrote nothing")

        # A Kafka input with a FILE output (no transaction): the partitions' offsets are in the
        # checkpoints, the file is cut back to its checkpointed length (#11), so the file holds
        # cep run's records exactly, across kills, whatever the group committed meanwhile.
        out_file = os.path.join(args.workdir, "alerts.jsonl")
        file_args = [*rules, "-i", bed.url("payments", group="fraud-file"), "-o", out_file,
                     "--max-delay", "2s", "--state", os.path.join(args.workdir, "state-file"),
                     "--checkpoint-every", "100ms"]
        for round_ in range(2):
            server = bed.serve(file_args + workers(round_), name=f"file{round_}")
            server.wait_log("admin endpoint on")
            time.sleep(rng.uniform(0.0, 0.5))
            server.proc.kill()
            server.proc.wait()
            server.stderr.close()
            bed.servers.remove(server)
        server = bed.serve(file_args + workers(-1), name="file_final")
        server.wait_log("admin endpoint on")  # the file is cut back to its checkpointed length

        def file_records():
            if not os.path.exists(out_file):
                return collections.Counter()
            with open(out_file, encoding="utf-8") as f:
                return collections.Counter(strip_version(line) for line in f.read().splitlines())
        wait_for("the file output", lambda: sum(file_records().values()) >= sum(expected.values()))
        check(server.stop() == 0, "file output: SIGTERM, exit 0")
        check(file_records() == expected,
              "a Kafka input with a file output: the file holds cep run's records exactly "
              "across kills")

    if failures:
        print(f"{len(failures)} checks failed (seed {seed})", file=sys.stderr)
        return 1
    return 0


def label_base(label):
    m = LABEL.match(label or "")
    return m.group(1) if m else None


def is_committed(label, upto):
    m = LABEL.match(label or "")
    return bool(m) and int(m.group(2)) <= upto.get(m.group(1), 0)


if __name__ == "__main__":
    sys.exit(main())
