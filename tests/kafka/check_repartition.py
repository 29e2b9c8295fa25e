#!/usr/bin/env python3
"""`cep serve --repartition` (docs/kafka.md "Repartition"): a topic keyed otherwise than the
patterns is republished to `<group>-repartition` keyed by the patterns' key, and matched from
there (tests/kafka/README.md).

kcat produces the fraud example stream into a 4-partition topic with RANDOM message keys (each
card's or user's events in one partition, in file order), then one {"@watermark": ...} per
partition past the last event. Rules: payments.cep (keyed by card)
and accounts.cep (keyed by user), one key per event. Checks:

  * without --repartition (`--state`, the existing check of message keys): the mismatch counter
    cep_kafka_message_key_mismatches_total is non-zero;
  * with --repartition: every message of fraud-repartition is keyed by its event's pattern key
    (a Payment by its card, a Login, PasswordReset or Withdrawal by its user), the value
    unchanged; every event is republished once (cep_kafka_republished_total); the watermark is
    sent to each of the 4 partitions; the alerts equal `cep run`'s on the same events (as a
    multiset); SIGTERM exits 0;
  * with every rule of the example (orders.cep keys a Payment by its order_id, payments.cep by
    its card): refused, exit 2, naming both patterns.
"""

import json
import os
import random
import subprocess
import sys
import zlib

from kafka_bed import (KafkaBed, check, example_case, failures, run_records, strip_version,
                       wait_for)


def main():
    args, all_rules, events_path, events, _, last = example_case()
    rules = [os.path.join(args.example, f) for f in ("payments.cep", "accounts.cep")]
    run = subprocess.run([args.cep, "run", *rules, "--input", events_path, "--max-delay", "2s"],
                         capture_output=True, timeout=120)
    check(run.returncode == 0, "cep run on payments.cep and accounts.cep exits 0")
    expected = sorted(run_records(run.stdout))
    rng = random.Random(12)
    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "alerts:4", "fraud-repartition:4", "plain-alerts:4",
                   "all-repartition:4"]) as bed:
        # Random message keys; the partition is chosen by the card (else the user), so that a
        # key's events stay in file order through the republish (docs/kafka.md "Repartition":
        # the arrival order of a key's events decides between its runs, as in `cep run`).
        by_partition = [[], [], [], []]
        for e in events:
            record = json.loads(e)
            field = record.get("card") or record.get("user") or ""
            by_partition[zlib.crc32(field.encode()) % 4].append(e)
        for p in range(4):
            bed.produce("payments", by_partition[p], key=lambda value: f"r-{rng.randrange(10**9)}",
                        partition=p)
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)

        # Without --repartition: the messages' keys are reported (the existing behaviour).
        plain = bed.serve([*rules, "-i", bed.url("payments", group="plain"),
                           "-o", bed.url("plain-alerts"), "--max-delay", "30d",
                           "--state", os.path.join(args.workdir, "state")], name="plain")
        mismatches = wait_for("key mismatches counted", lambda: plain.metric(
            "cep_kafka_message_key_mismatches_total", topic="payments", pattern="velocity"))
        check(mismatches > 0, f"without --repartition the key mismatches are counted ({mismatches})")
        check(plain.stop() == 0, "SIGTERM: the server without --repartition exits 0")

        # With --repartition. The repartition topic interleaves the input's partitions, so the
        # matching stage's --max-delay covers their skew (docs/kafka.md "Repartition").
        server = bed.serve([*rules, "-i", bed.url("payments", group="fraud"), "--repartition",
                            "-o", bed.url("alerts"), "--max-delay", "30d"])
        server.wait_log("payments is republished to fraud-repartition (4 partitions")
        got = wait_for(f"{len(expected)} alerts on the topic",
                       lambda: (lambda a: a if len(a) >= len(expected) else None)(
                           bed.consume("alerts")))
        served = sorted(strip_version(r) for r in got)
        check(served == expected,
              f"the alerts equal cep run's records ({len(expected)}, as a multiset; only served: "
              f"{[r for r in served if r not in expected][:2]}, only run: "
              f"{[r for r in expected if r not in served][:2]})")
        republished = bed.consume("fraud-repartition", "%p\\t%k\\t%s\\n")
        values = [line.split("\t", 2)[2] for line in republished]
        marks = [line for line in republished if '"@watermark"' in line]
        check(sorted(line.split("\t")[0] for line in marks) == ["0", "1", "2", "3"] and
              all(json.loads(m.split("\t", 2)[2]) == {"@watermark": last + 86400000}
                  for m in marks),
              "the input's watermark goes to each partition of fraud-repartition once")
        records = [line for line in republished if '"@watermark"' not in line]

        def pattern_key(value):
            record = json.loads(value)
            # Orders: no pattern of payments.cep or accounts.cep reads them (no key).
            return {"Payment": record.get("card"), "Order": ""}.get(record["@type"],
                                                                     record.get("user"))
        wrong = [line for line in records
                 if line.split("\t")[1] != pattern_key(line.split("\t", 2)[2])]
        check(not wrong and len(records) == len(events),
              f"each of the {len(events)} events is republished keyed by its pattern key "
              f"(wrongly keyed: {len(wrong)}; e.g. {wrong[:1]})")
        check(sorted(v.encode() for v in values if '"@watermark"' not in v) == sorted(events),
              "the values are republished unchanged")
        check(server.metric("cep_kafka_republished_total", **{"from": "payments",
                                                              "to": "fraud-repartition"})
              == len(events), "metrics: cep_kafka_republished_total counts every event")
        check(server.stop() == 0, "SIGTERM: the server with --repartition exits 0")

        # Patterns that key one event differently: refused.
        refused = subprocess.run([args.cep, "serve", *all_rules, "-i",
                                  bed.url("payments", group="all"), "--repartition",
                                  "-o", bed.url("alerts"), "--admin", "127.0.0.1:0"],
                                 capture_output=True, timeout=60)
        err = refused.stderr.decode(errors="replace")
        check(refused.returncode == 2 and "unpaid" in err and "card_testing" in err or
              refused.returncode == 2 and "unpaid" in err and "velocity" in err,
              f"patterns keying a Payment by card and by order_id are refused with exit 2 "
              f"(got {refused.returncode}: {err[-400:]})")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
