#!/usr/bin/env python3
"""An aggregate drain in the changelog topic `<group>-state` (tests/kafka/README.md,
docs/kafka.md "Aggregates' window state", #13): the draining version's open windows survive the
loss of the machine mid-drain, restored into that version (served again from its artifact in
the topic), never into the active one.

v1 (a tumbling 1h, a hopping 2h-every-30m and a session aggregate per card, every window
written) and v2 (the same aggregates, their records in streams of other names) are compiled to
.cepo files. kcat produces the first half of the example's payments into a 4-partition topic
keyed by card (manual assignment: no group join); server A (`cep serve v1.cepo --state A`, a
Kafka output, so a transactional producer and the changelog) reads it, then v2 is deployed
with `?mode=drain` (POST /deploy): the windows that started before the switch time S (the
answer's `switch_time`) stay v1's. A commits two more checkpoints (its partition records carry
both versions' windows, v1's marked draining, and v1's artifact is in the topic) and is
SIGKILLed while v1 still drains; its folder is thrown away. The second half and a far watermark
per partition follow; server B (`cep serve v2.cepo`, an EMPTY folder) restores every partition.

Checks:
  * B's log: per aggregate, v1 served again, draining, from its artifact in the changelog
    topic, with open windows; v1 drains there and is unloaded ("drained");
  * the records of committed transactions equal `cep run v1`'s whose window starts before S
    plus `cep run v2`'s whose window starts at or after S (as multisets; "@version" aside),
    every other record a duplicate in an aborted transaction. Without the draining version in
    the records (before format 5) v1's windows open at the kill are lost (checked by hand).
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

from kafka_bed import (KafkaBed, check, check_alerts, check_served_again, failures, parse_output,
                       restored_transaction, run_records, strip_version, wait_for)

PAYMENT = """event Payment {
    card:     string
    amount:   float
    country:  string
    merchant: string?
    order_id: string
    ts:       time
}
"""

V1 = PAYMENT + """
aggregate card_hour partition by card window tumbling 1h { p: Payment }
emit CardHour { uses: count(p), total: sum(p.amount), top: max(p.amount) }

aggregate card_2h partition by card window hopping 2h every 30m { p: Payment }
emit Card2h { uses: count(p), low: min(p.amount) }

aggregate card_visit partition by card window session gap 20m { p: Payment }
emit CardVisit { uses: count(p), first_at: min(p.ts), last_at: max(p.ts) }
"""

V2 = PAYMENT + """
aggregate card_hour partition by card window tumbling 1h { p: Payment }
emit CardHourV2 { uses: count(p), total: sum(p.amount) }

aggregate card_2h partition by card window hopping 2h every 30m { p: Payment }
emit Card2hV2 { uses: count(p), top: max(p.amount) }

aggregate card_visit partition by card window session gap 20m { p: Payment }
emit CardVisitV2 { uses: count(p), last_at: max(p.ts) }
"""

AGGREGATES = ("card_hour", "card_2h", "card_visit")


def main():
    import argparse
    ap = argparse.ArgumentParser()
    for name in ("--cep", "--mock", "--example", "--workdir"):
        ap.add_argument(name, required=True)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    with open(os.path.join(args.example, "events.jsonl"), "rb") as f:
        events = [line.rstrip(b"\n") for line in f if b'"@type":"Payment"' in line]
    events_path = os.path.join(args.workdir, "payments.jsonl")
    with open(events_path, "wb") as f:
        f.write(b"\n".join(events) + b"\n")
    last = max(json.loads(e)["ts"] for e in events)
    artifacts, runs = {}, {}
    for name, text in (("v1", V1), ("v2", V2)):
        source = os.path.join(args.workdir, name + ".cep")
        with open(source, "w") as f:
            f.write(text)
        artifacts[name] = os.path.join(args.workdir, name + ".cepo")
        compiled = subprocess.run([args.cep, "compile", source, "-o", artifacts[name]],
                                  capture_output=True, timeout=60)
        check(compiled.returncode == 0, f"cep compile {name}.cep")
        run = subprocess.run([args.cep, "run", artifacts[name], "--input", events_path,
                              "--max-delay", "2s"], capture_output=True, timeout=120)
        check(run.returncode == 0, f"cep run {name}.cepo exits 0")
        runs[name] = run_records(run.stdout)
    half = len(events) // 2

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:4"]) as bed:
        def serve_args(artifact, state):
            return [artifact, "-i", bed.url("payments", group="fraud"), "-o", bed.url("alerts"),
                    "--max-delay", "2s", "--state", state, "--checkpoint-every", "300ms"]

        def card(value):
            return json.loads(value)["card"]

        state_a = os.path.join(args.workdir, "state-a")
        bed.produce("payments", events[:half], key=card)
        a = bed.serve(serve_args(artifacts["v1"], state_a), name="a")
        a.wait_log("admin endpoint on")
        wait_for("A reads the first half",
                 lambda: (a.metric("cep_kafka_messages_consumed_total", topic="payments")
                          or 0) >= half)
        # Its watermark past every event of the first half: the switch time is after them.
        wait_for("A's watermark at its latest event",
                 lambda: (a.metric("cep_aggregate_open_windows", aggregate="card_visit",
                                   version=version_of(a)) or 0) > 0)
        with open(a.port_file) as f:
            port = int(f.read().strip())
        with open(artifacts["v2"], "rb") as f:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/deploy?mode=drain",
                                             data=f.read(), method="POST",
                                             headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.loads(r.read().decode())
        switch = {p["pattern"]: p["switch_time"] for p in answer["patterns"]}
        check(set(switch) == set(AGGREGATES) and len(set(switch.values())) == 1,
              f"the drain deploy splits every aggregate at one switch time ({switch})")
        s_time = next(iter(switch.values()))
        draining = sum(p.get("draining_windows", 0) for p in answer["patterns"])
        check(draining > 0, f"v1 drains with open windows ({draining})")
        committed = a.metric("cep_kafka_transactions_total", outcome="committed") or 0
        wait_for("two more committed checkpoints after the drain",
                 lambda: (a.metric("cep_kafka_transactions_total", outcome="committed")
                          or 0) >= committed + 2)
        check("its artifact is in fraud-state" in a.log(),
              "A writes the draining version's artifact to the changelog topic")
        committed_a = int(a.metric("cep_kafka_transactions_total", outcome="committed"))
        a.proc.kill()  # the machine is lost mid-drain: its process and its folder
        a.proc.wait()
        a.stderr.close()
        bed.servers.remove(a)
        shutil.rmtree(state_a)
        base_a = {label.split("-")[0] for label, _ in
                  parse_output(bed.consume("alerts", "%h\\t%s\\n")) if label}
        check(len(base_a) <= 1, f"A's records carry one transaction base ({base_a})")

        bed.produce("payments", events[half:], key=card)
        for p in range(4):  # every window closes, as at the end of cep run's file
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        config_b = os.path.join(args.workdir, "b.properties")
        with open(config_b, "w") as f:
            f.write("transactional.id=cep-fraud-b\n")
        b = bed.serve(serve_args(artifacts["v2"], os.path.join(args.workdir, "state-b")) +
                      ["--kafka-config", config_b], name="b")
        b.wait_log("partitions from the changelog")
        log = b.log()
        revived = check_served_again(log, AGGREGATES, "open windows")
        upto_a = restored_transaction(log, base_a, committed_a)

        wait_for("B reads every partition to its end",
                 lambda: all(b.metric("cep_kafka_consumer_lag", topic="payments",
                                      partition=str(p)) == 0 for p in range(4)), timeout=60)
        if revived:  # (else failed above; the comparison below says what was lost)
            wait_for("v1 drained on B", lambda: b.log().count("(drained)") >= revived)
        done = b.metric("cep_kafka_transactions_total", outcome="committed") or 0
        wait_for("two more committed checkpoints of B",
                 lambda: (b.metric("cep_kafka_transactions_total", outcome="committed") or 0)
                 >= done + 2)
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")

        got, aborted = collections.Counter(), collections.Counter()
        for label, record in parse_output(bed.consume("alerts", "%h\\t%s\\n")):
            base, _, seq = (label or "-").partition("-")
            if base not in base_a or int(seq) <= upto_a:
                got[strip_version(record)] += 1
            else:
                aborted[strip_version(record)] += 1

    expected = collections.Counter(
        [r for r in runs["v1"] if json.loads(r)["@start"] < s_time] +
        [r for r in runs["v2"] if json.loads(r)["@start"] >= s_time])
    versions = collections.Counter(json.loads(r)["@stream"] for r in expected.elements())
    check(all(versions[s] > 0 for s in ("CardHour", "Card2h", "CardVisit", "Card2hV2",
                                        "CardVisitV2")),
          f"both versions write windows around the switch at {s_time} ({dict(versions)})")
    check_alerts(got, expected, "A and B (committed)")
    check(not (aborted - expected),
          f"every record of an aborted transaction ({sum(aborted.values())}) is a duplicate")

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


def version_of(server):
    """The version label of server's card_visit series in /metrics (None before it has one)."""
    with open(server.port_file) as f:
        port = int(f.read().strip())
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        found = re.search(r'cep_aggregate_open_windows\{aggregate="card_visit",version="(\w+)"',
                          r.read().decode())
    return found.group(1) if found else None


if __name__ == "__main__":
    sys.exit(main())
