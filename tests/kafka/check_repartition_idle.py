#!/usr/bin/env python3
"""`cep serve --repartition --idle-timeout`: an input partition that is silent is said idle
through the repartition topic, so it does not hold the matching stage's watermarks back
(docs/kafka.md "Repartition", "Watermarks"; tests/kafka/README.md).

kcat produces the fraud example stream with random message keys into partitions 0, 1 and 2 of a
4-partition topic (each card's or user's events in one partition, in file order), then one
{"@watermark": ...} past the last event on each of them; partition 3 gets nothing. Two
`--repartition` servers (no group join: one process each) read it with --max-delay 30d, so
nothing but the input's watermarks releases an event:

  * with --idle-timeout 1s: the first stage finds payments[3] idle and says so once to each of
    the 4 repartition partitions ({"@idle":true,"@partition":3}); each matching partition
    leaves input partition 3 out of its minimum (partitions 0 to 2 go idle as well once read
    to their end: then the highest watermark heard stands for all, so which goes idle first
    does not matter); every alert comes and they equal `cep run`'s
    on the same events (as a multiset); the logs and /metrics say so. Then one payment behind
    the watermark arrives in partition 3: the first stage says partition 3 is back before
    republishing it, and the matching stage judges it late, as a plain input's partition back
    from idleness (it goes to the late output);
  * without --idle-timeout: once its matching stage has read every message of its repartition
    topic (the events and the 3x4 watermark records), no record has been written: partition 3,
    never heard of, holds every watermark back.

Checked by hand: without the first stage's idle records (or with the matching stage not
leaving an idle partition out) the alerts never come.
"""

import json
import os
import random
import subprocess
import sys
import zlib

from kafka_bed import KafkaBed, check, example_case, failures, run_records, strip_version, wait_for


def main():
    args, _, events_path, events, _, last = example_case()
    rules = [os.path.join(args.example, f) for f in ("payments.cep", "accounts.cep")]
    run = subprocess.run([args.cep, "run", *rules, "--input", events_path, "--max-delay", "2s"],
                         capture_output=True, timeout=120)
    check(run.returncode == 0, "cep run on payments.cep and accounts.cep exits 0")
    expected = sorted(run_records(run.stdout))
    rng = random.Random(7)
    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "idle-alerts:1", "idle-repartition:4", "wait-alerts:1",
                   "wait-repartition:4"]) as bed:
        parts = [[], [], []]
        for e in events:
            record = json.loads(e)
            parts[zlib.crc32((record.get("card") or record.get("user")).encode()) % 3].append(e)
        end = last + 86400000
        for p, values in enumerate(parts):
            bed.produce("payments", values + [json.dumps({"@watermark": end}).encode()],
                        key=lambda value: f"r-{rng.randrange(10**9)}", partition=p)

        late_path = os.path.join(args.workdir, "late.jsonl")
        idle = bed.serve([*rules, "-i", bed.url("payments", group="idle"), "--repartition",
                          "-o", bed.url("idle-alerts"), "--max-delay", "30d",
                          "--idle-timeout", "1s", "--late-output", late_path], name="idle")
        waiting = bed.serve([*rules, "-i", bed.url("payments", group="wait"), "--repartition",
                             "-o", bed.url("wait-alerts"), "--max-delay", "30d"], name="wait")

        got = wait_for(f"{len(expected)} alerts with --idle-timeout",
                       lambda: (lambda a: a if len(a) >= len(expected) else None)(
                           bed.consume("idle-alerts")))
        served = sorted(strip_version(r) for r in got)
        check(served == expected,
              f"with --idle-timeout, partition 3 said idle, the alerts equal cep run's "
              f"({len(expected)}; {len(served)} served)")
        check("payments[3] idle (silent for 1000 ms): said to every partition of "
              "idle-repartition" in idle.log(), "the first stage's log says payments[3] is idle")
        check(all(f"idle-repartition[{r}]: input partition 3 idle" in idle.log()
                  for r in range(4)),
              "the matching stage's log says each repartition partition left input partition 3 "
              "out")
        # Partitions 0 to 2 go idle too once read to their end (silent for 1 s): the counts
        # are at least partition 3's.
        check((idle.metric("cep_kafka_republished_idle_total", to="idle-repartition") or 0) >= 1,
              "metrics: input partitions said idle (cep_kafka_republished_idle_total)")
        check(all((idle.metric("cep_kafka_repartition_idle_inputs", topic="idle-repartition",
                               partition=str(r)) or 0) >= 1 for r in range(4)),
              "metrics: each repartition partition has idle inputs "
              "(cep_kafka_repartition_idle_inputs)")
        marks = [line for line in bed.consume("idle-repartition", "%p\\t%s\\n")
                 if '"@idle":true,"@partition":3' in line]
        check(sorted(marks) == [f'{r}\t{{"@idle":true,"@partition":3}}' for r in range(4)],
              f"the idle record goes once to each repartition partition ({marks[:5]})")

        # Partition 3 back with a payment behind the others' watermark: judged late, as a plain
        # input's partition back from idleness.
        behind = dict(json.loads(parts[0][0]))
        behind["amount"] = 9999
        behind_line = json.dumps(behind, separators=(",", ":"))
        bed.produce("payments", [behind_line.encode()], key=lambda value: "r-back", partition=3)
        idle.wait_log("payments[3] has messages again: back in the watermarks of idle-repartition")
        late = wait_for("the payment behind the watermark in the late output",
                        lambda: os.path.exists(late_path) and open(late_path).read().strip())
        check(behind["card"] in late and len(late.splitlines()) == 1,
              f"the payment of partition 3 back from idleness is late ({late[:200]})")
        speaks = [line for line in bed.consume("idle-repartition", "%p\\t%s\\n")
                  if '"@idle":false' in line]
        check(sorted(line for line in speaks if '"@partition":3}' in line) ==
              [f'{r}\t{{"@idle":false,"@partition":3}}' for r in range(4)],
              "partition 3 back (no watermark of its own yet) is said to each repartition "
              "partition")
        # With --idle-timeout each input partition's first message after the start says it
        # speaks (a restored record may have it idle): partitions 0 to 2 once each.
        check(sorted(line for line in speaks if '"@partition":3}' not in line) ==
              sorted(f'{r}\t{{"@idle":false,"@partition":{p}}}' for r in range(4)
                     for p in range(3)),
              "the first message of each input partition says it speaks, once to each "
              "repartition partition")
        check(idle.stop() == 0, "SIGTERM: the --idle-timeout server exits 0")

        # Without --idle-timeout: everything read, nothing released.
        total = len(events) + 1 + 3 * 4  # the events, the payment of partition 3, 3x4 marks
        wait_for(f"the waiting server's matching stage read its {total} messages",
                 lambda: waiting.metric("cep_kafka_messages_consumed_total",
                                        topic="wait-repartition") == total)
        outputs = waiting.metric("cep_output_records_total")
        check(outputs == 0,
              f"without --idle-timeout the silent partition holds every watermark back: no "
              f"alert ({outputs})")
        check(waiting.stop() == 0, "SIGTERM: the server without --idle-timeout exits 0")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
