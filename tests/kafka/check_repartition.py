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
    unchanged; every event is republished once (cep_kafka_republished_total); each input
    partition's watermark is sent to each of the 4 partitions, naming the input partition; the alerts equal `cep run`'s on the same events (as a
    multiset); SIGTERM exits 0;
  * with --repartition and --state, across a SIGKILL: the first half of each partition is
    republished and matched, a checkpoint commits it, the server is killed and restarted on the
    same folder, then the second half arrives. Every message carries its transaction (header
    cep-txn); as in check_exactly_once.py (the mock writes no transaction markers), committed
    transactions are the killed server's up to the one the restart names ("resuming after
    transaction L") and every one of the last server. The republished events of committed
    transactions are the input's, each once (the first stage resumed at its checkpointed
    offsets: not from the start, not past the second half), and the alerts of committed
    transactions equal `cep run`'s;
  * a deploy of orders.cep (a Payment keyed by its order_id) to the running --repartition
    server is refused naming both patterns and keys, and the server goes on;
  * with every rule of the example (orders.cep keys a Payment by its order_id, payments.cep by
    its card): refused at start, exit 2, naming both patterns and keys, before the input topic
    is opened.
"""

import collections
import json
import os
import random
import re
import subprocess
import sys
import zlib

from kafka_bed import (KafkaBed, check, example_case, failures, parse_output, run_records,
                       strip_version, wait_for)


def exactly_once(args, bed, rules, by_partition, last, expected, events):
    """--repartition --state across a SIGKILL taken after a committed checkpoint."""
    state = os.path.join(args.workdir, "once-state")
    serve_args = [*rules, "-i", bed.url("once", group="once"), "--repartition",
                  "-o", bed.url("once-alerts"), "--max-delay", "30d", "--state", state,
                  "--checkpoint-every", "200ms", "--workers", args.workers]
    halves = [(part[:len(part) // 2], part[len(part) // 2:]) for part in by_partition]
    first = sum(len(h[0]) for h in halves)
    for p in range(4):
        bed.produce("once", halves[p][0], key=lambda value: f"r-{zlib.crc32(value)}",
                    partition=p)
    killed = bed.serve(serve_args, name="once-killed")
    wait_for(f"{first} events republished", lambda: killed.metric(
        "cep_kafka_republished_total", **{"from": "once", "to": "once-repartition"}) == first)
    # Two transactions committed after the republish: the second's checkpoint holds both
    # stages' positions past the first half.
    done = killed.metric("cep_kafka_transactions_total", outcome="committed") or 0
    wait_for("two more committed transactions", lambda: (killed.metric(
        "cep_kafka_transactions_total", outcome="committed") or 0) >= done + 2)
    check(killed.proc.poll() is None, "the --repartition --state server runs until killed")
    killed.proc.kill()
    killed.proc.wait()
    killed.stderr.close()
    bed.servers.remove(killed)
    for p in range(4):
        bed.produce("once", halves[p][1], key=lambda value: f"r-{zlib.crc32(value)}",
                    partition=p)
        bed.produce("once", [json.dumps({"@watermark": last + 86400000}).encode()], partition=p)
    earlier = {label.split("-")[0] for label, _ in
               parse_output(bed.consume("once-repartition", "%h\\t%s\\n")) if label}
    final = bed.serve(serve_args, name="once-final")
    final.wait_log("resuming after transaction")
    upto = {}
    for base, seq in re.findall(r"resuming after transaction (\d+)-(\d+)", final.log()):
        upto[base] = max(upto.get(base, 0), int(seq))

    def committed(label):
        if label is None:
            return False
        base, seq = label.split("-")
        return base not in earlier or int(seq) <= upto.get(base, 0)

    def alerts():
        return [strip_version(r) for label, r in
                parse_output(bed.consume("once-alerts", "%h\\t%s\\n")) if committed(label)]
    wait_for(f"{len(expected)} committed alerts",
             lambda: len(alerts()) >= len(expected) or None)
    check(final.stop() == 0, "SIGTERM: the restarted --repartition --state server exits 0")
    republished = [(label, v) for label, v in
                   parse_output(bed.consume("once-repartition", "%h\\t%s\\n"))
                   if '"@watermark"' not in v]
    kept = collections.Counter(v.encode() for label, v in republished if committed(label))
    aborted = sum(1 for label, _ in republished if not committed(label))
    check(kept == collections.Counter(events),
          f"across the kill, the republished events of committed transactions are the input's, "
          f"each once (lost: {sum((collections.Counter(events) - kept).values())}, twice: "
          f"{sum((kept - collections.Counter(events)).values())}; in aborted transactions: "
          f"{aborted})")
    served = sorted(alerts())
    check(served == expected,
          f"across the kill, the alerts of committed transactions equal cep run's "
          f"({len(expected)}; {len(served)} served)")


def main():
    args, all_rules, events_path, events, _, last = example_case(
        lambda ap: ap.add_argument("--workers", default="1"))
    rules = [os.path.join(args.example, f) for f in ("payments.cep", "accounts.cep")]
    run = subprocess.run([args.cep, "run", *rules, "--input", events_path, "--max-delay", "2s"],
                         capture_output=True, timeout=120)
    check(run.returncode == 0, "cep run on payments.cep and accounts.cep exits 0")
    expected = sorted(run_records(run.stdout))
    rng = random.Random(12)
    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "alerts:4", "fraud-repartition:4", "plain-alerts:4",
                   "all-repartition:4", "once:4", "once-alerts:4", "once-repartition:4"]) as bed:
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
                            "-o", bed.url("alerts"), "--max-delay", "30d",
                            "--workers", args.workers])
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
        said = sorted((int(m.split("\t")[0]), json.loads(m.split("\t", 2)[2])["@partition"],
                       json.loads(m.split("\t", 2)[2])["@watermark"]) for m in marks)
        check(said == [(rp, ip, last + 86400000) for rp in range(4) for ip in range(4)],
              "the watermark of each input partition goes to each partition of "
              "fraud-repartition once, saying which input partition it is of")
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
        # A deploy keying an event type otherwise (orders.cep keys a Payment by order_id) is
        # refused by the running server, which goes on serving.
        with open(server.port_file, encoding="utf-8") as f:
            port = f.read().strip()
        orders = os.path.join(args.workdir, "orders.cepo")
        compiled = subprocess.run([args.cep, "compile", os.path.join(args.example, "orders.cep"),
                                   "-o", orders], capture_output=True, timeout=120)
        check(compiled.returncode == 0, f"orders.cep compiles ({compiled.stderr[-300:]!r})")
        deployed = subprocess.run([args.cep, "deploy", orders, "--server", f"127.0.0.1:{port}"],
                                  capture_output=True, timeout=60)
        said = deployed.stderr.decode(errors="replace") + deployed.stdout.decode(errors="replace")
        check(deployed.returncode != 0 and "unpaid keys it by (order_id)" in said and
              "keys Payment by (card)" in said,
              f"a deploy keying a Payment by order_id is refused, naming both patterns and keys "
              f"(got {deployed.returncode}: {said[-400:]})")
        check(server.proc.poll() is None, "the server goes on after the refused deploy")
        check(server.stop() == 0, "SIGTERM: the server with --repartition exits 0")

        exactly_once(args, bed, rules, by_partition, last, expected, events)

        # Patterns that key one event differently: refused.
        refused = subprocess.run([args.cep, "serve", *all_rules, "-i",
                                  bed.url("payments", group="all"), "--repartition",
                                  "-o", bed.url("alerts"), "--admin", "127.0.0.1:0"],
                                 capture_output=True, timeout=60)
        err = refused.stderr.decode(errors="replace")
        check(refused.returncode == 2 and
              re.search(r"pattern unpaid keys (Payment|it) by \(order_id\)", err) and
              re.search(r"pattern (velocity|card_testing) keys (Payment|it) by \(card\)", err)
              and "is republished to" not in err,
              f"patterns keying a Payment by card and by order_id are refused with exit 2 at "
              f"start, before the input is opened (got {refused.returncode}: {err[-400:]})")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
