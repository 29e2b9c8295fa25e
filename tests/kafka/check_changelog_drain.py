#!/usr/bin/env python3
"""A drain in the changelog topic `<group>-state` (tests/kafka/README.md, docs/kafka.md
"Aggregates' window state", #12, #13): the draining version's state survives the loss of the
machine mid-drain, restored into that version (served again from its artifact in the topic),
never into the active one.

Aggregates (kafka.changelog_drain): v1 (a tumbling 1h, a hopping 2h-every-30m and a session
aggregate per card, every window written) and v2 (the same aggregates, their records in streams
of other names) are compiled to .cepo files. kcat produces the first half of the example's
payments into a 4-partition topic keyed by card (manual assignment: no group join); server A
(`cep serve v1.cepo --state A`, a Kafka output, so a transactional producer and the changelog)
reads it, then v2 is deployed with `?mode=drain` (POST /deploy): the windows that started
before the switch time S (the answer's `switch_time`) stay v1's.

--patterns (kafka.changelog_pattern_drain): v1 is two keyed patterns whose runs last up to an
hour of event time, v2 the same names with other thresholds (matches in streams of other
names). The first half is sorted by time and followed by a watermark per partition between the
halves; a reference server R (group `ref`, its own output topic) starts with v1 beside A, and
v2 is deployed `drain` to both once each has released the first half: v1 keeps its runs and
starts no new one, v2 starts from the second half. A pattern's runs are not independent of
the ones before, so the reference is R, not `cep run` split at S.

Then, both: A commits two more checkpoints (its partition records carry both versions' state,
v1's marked draining, and v1's artifact is in the topic) and is SIGKILLed while v1 still
drains; its folder is thrown away. The second half and a far watermark per partition follow;
server B (`cep serve v2.cepo`, an EMPTY folder) restores every partition (R goes on).

Checks:
  * B's log: per aggregate or pattern, v1 served again, draining, from its artifact in the
    changelog topic, with open windows or partial matches; v1 drains there and is unloaded
    ("drained");
  * the records of committed transactions equal `cep run v1`'s whose window starts before S
    plus `cep run v2`'s whose window starts at or after S (aggregates), or R's (patterns; R's
    hold v1 matches that ended after the switch and v2 matches), as multisets, "@version"
    aside; every other record is a duplicate in an aborted transaction. Without the draining
    version in the records (before format 5) v1's windows open at the kill are lost, and v1's
    runs restored by name into v2 make B's records differ (both checked by hand).
"""

import argparse
import collections
import datetime
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

AGGREGATES_V1 = PAYMENT + """
aggregate card_hour partition by card window tumbling 1h { p: Payment }
emit CardHour { uses: count(p), total: sum(p.amount), top: max(p.amount) }

aggregate card_2h partition by card window hopping 2h every 30m { p: Payment }
emit Card2h { uses: count(p), low: min(p.amount) }

aggregate card_visit partition by card window session gap 20m { p: Payment }
emit CardVisit { uses: count(p), first_at: min(p.ts), last_at: max(p.ts) }
"""

AGGREGATES_V2 = PAYMENT + """
aggregate card_hour partition by card window tumbling 1h { p: Payment }
emit CardHourV2 { uses: count(p), total: sum(p.amount) }

aggregate card_2h partition by card window hopping 2h every 30m { p: Payment }
emit Card2hV2 { uses: count(p), top: max(p.amount) }

aggregate card_visit partition by card window session gap 20m { p: Payment }
emit CardVisitV2 { uses: count(p), last_at: max(p.ts) }
"""

PATTERNS_V1 = PAYMENT + """
pattern velocity partition by card within 1h { p: Payment{5} }
emit Velocity { card: first(p).card, uses: count(p), total: sum(p.amount) }

pattern small_then_big partition by card within 30m {
    a: Payment(amount < 20.0) -> b: Payment(amount > 100.0)
}
emit SmallThenBig { card: a.card, small: a.amount, big: b.amount }
"""

PATTERNS_V2 = PAYMENT + """
pattern velocity partition by card within 1h { p: Payment{4} }
emit VelocityV2 { card: first(p).card, uses: count(p), total: sum(p.amount) }

pattern small_then_big partition by card within 30m {
    a: Payment(amount < 20.0) -> b: Payment(amount > 200.0)
}
emit SmallThenBigV2 { card: a.card, small: a.amount, big: b.amount }
"""


def millis(t):
    """Epoch ms of a record's RFC 3339 time (or of a number already)."""
    if isinstance(t, (int, float)):
        return int(t)
    when = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return round(when.timestamp() * 1000)


def deploy_drain(server, artifact):
    """POST /deploy?mode=drain of `artifact` to `server`: its JSON answer."""
    with open(server.port_file) as f:
        port = int(f.read().strip())
    with open(artifact, "rb") as f:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/deploy?mode=drain",
                                         data=f.read(), method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read().decode())


def version_of(server):
    """The version label of server's card_visit series in /metrics (None before it has one)."""
    with open(server.port_file) as f:
        port = int(f.read().strip())
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        found = re.search(r'cep_aggregate_open_windows\{aggregate="card_visit",version="(\w+)"',
                          r.read().decode())
    return found.group(1) if found else None


def main():
    ap = argparse.ArgumentParser()
    for name in ("--cep", "--mock", "--example", "--workdir"):
        ap.add_argument(name, required=True)
    ap.add_argument("--patterns", action="store_true",
                    help="pattern versions drain (kafka.changelog_pattern_drain), not aggregates")
    args = ap.parse_args()
    patterns = args.patterns
    names = (("velocity", "small_then_big") if patterns else
             ("card_hour", "card_2h", "card_visit"))
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    with open(os.path.join(args.example, "events.jsonl"), "rb") as f:
        events = [line.rstrip(b"\n") for line in f if b'"@type":"Payment"' in line]
    half = len(events) // 2
    switch = None  # patterns: the switch is after every event of the first half
    if patterns:
        events.sort(key=lambda e: json.loads(e)["ts"])
        times = [json.loads(e)["ts"] for e in events]
        while half < len(events) and times[half - 1] == times[half]:
            half += 1
        switch = times[half] - 1
    last = max(json.loads(e)["ts"] for e in events)
    events_path = os.path.join(args.workdir, "payments.jsonl")
    with open(events_path, "wb") as f:
        f.write(b"\n".join(events) + b"\n")
    artifacts, runs = {}, {}
    texts = (("v1", PATTERNS_V1), ("v2", PATTERNS_V2)) if patterns else \
        (("v1", AGGREGATES_V1), ("v2", AGGREGATES_V2))
    for name, text in texts:
        source = os.path.join(args.workdir, name + ".cep")
        with open(source, "w") as f:
            f.write(text)
        artifacts[name] = os.path.join(args.workdir, name + ".cepo")
        compiled = subprocess.run([args.cep, "compile", source, "-o", artifacts[name]],
                                  capture_output=True, timeout=60)
        check(compiled.returncode == 0, f"cep compile {name}.cep")
        if not patterns:
            run = subprocess.run([args.cep, "run", artifacts[name], "--input", events_path,
                                  "--max-delay", "2s"], capture_output=True, timeout=120)
            check(run.returncode == 0, f"cep run {name}.cepo exits 0")
            runs[name] = run_records(run.stdout)

    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "alerts:4"] + (["alerts-ref:4"] if patterns else [])) as bed:
        def serve_args(artifact, state, group="fraud", out="alerts"):
            return [artifact, "-i", bed.url("payments", group=group), "-o", bed.url(out),
                    "--max-delay", "2s", "--state", state, "--checkpoint-every", "300ms"]

        def card(value):
            return json.loads(value)["card"]

        def watermarks(at):
            for p in range(4):
                bed.produce("payments", [json.dumps({"@watermark": at}).encode()], partition=p)

        state_a = os.path.join(args.workdir, "state-a")
        bed.produce("payments", events[:half], key=card)
        servers = []  # the servers v2 is deployed to: A, and R with --patterns
        if patterns:
            watermarks(switch)  # every event of the first half released before the deploy
        a = bed.serve(serve_args(artifacts["v1"], state_a), name="a")
        servers.append((a, "A"))
        r = None
        if patterns:  # the reference: never interrupted, the same drain
            config_r = os.path.join(args.workdir, "r.properties")
            with open(config_r, "w") as f:
                f.write("transactional.id=cep-ref-r\n")
            r = bed.serve(serve_args(artifacts["v1"], os.path.join(args.workdir, "state-r"),
                                     group="ref", out="alerts-ref") + ["--kafka-config", config_r],
                          name="r")
            servers.append((r, "R"))
        for server, who in servers:
            server.wait_log("admin endpoint on")
            if patterns:
                wait_for(f"{who} releases every event of the first half",
                         lambda: (server.metric("cep_events_released_total") or 0) >= half)
            else:
                wait_for(f"{who} reads the first half",
                         lambda: (server.metric("cep_kafka_messages_consumed_total",
                                                topic="payments") or 0) >= half)
                # Its watermark past every event of the first half: the switch after them.
                wait_for(f"{who}'s watermark at its latest event",
                         lambda: (server.metric("cep_aggregate_open_windows",
                                                aggregate="card_visit",
                                                version=version_of(server)) or 0) > 0)
        answers = {who: deploy_drain(server, artifacts["v2"]) for server, who in servers}
        if patterns:
            for who, answer in answers.items():
                drained = {p["pattern"]: p.get("draining_runs", 0) for p in answer["patterns"]}
                check(set(drained) == set(names) and all(n > 0 for n in drained.values()),
                      f"{who}: v1 drains with partial matches of every pattern ({drained})")
            check(answers["A"] == answers["R"] or
                  [p.get("draining_runs") for p in answers["A"]["patterns"]] ==
                  [p.get("draining_runs") for p in answers["R"]["patterns"]],
                  "A and R drain the same runs")
        else:
            split = {p["pattern"]: p["switch_time"] for p in answers["A"]["patterns"]}
            check(set(split) == set(names) and len(set(split.values())) == 1,
                  f"the drain deploy splits every aggregate at one switch time ({split})")
            switch = next(iter(split.values()))
            draining = sum(p.get("draining_windows", 0) for p in answers["A"]["patterns"])
            check(draining > 0, f"v1 drains with open windows ({draining})")
        committed = a.metric("cep_kafka_transactions_total", outcome="committed") or 0
        wait_for("two more committed checkpoints of A after the drain",
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
        watermarks(last + 86400000)  # every window closes and every run ends, as at a file's end
        config_b = os.path.join(args.workdir, "b.properties")
        with open(config_b, "w") as f:
            f.write("transactional.id=cep-fraud-b\n")
        b = bed.serve(serve_args(artifacts["v2"], os.path.join(args.workdir, "state-b")) +
                      ["--kafka-config", config_b], name="b")
        b.wait_log("partitions from the changelog")
        log = b.log()
        revived = check_served_again(log, names,
                                     "partial matches" if patterns else "open windows")
        upto_a = restored_transaction(log, base_a, committed_a)

        for server, who in [(b, "B")] + ([(r, "R")] if r else []):
            wait_for(f"{who} reads every partition to its end",
                     lambda: all(server.metric("cep_kafka_consumer_lag", topic="payments",
                                               partition=str(p)) == 0 for p in range(4)),
                     timeout=60)
            if who == "R" or revived == len(names):  # (else failed above)
                wait_for(f"v1 drained on {who}",
                         lambda: server.log().count("(drained)") >= len(names))
            done = server.metric("cep_kafka_transactions_total", outcome="committed") or 0
            wait_for(f"two more committed checkpoints of {who}",
                     lambda: (server.metric("cep_kafka_transactions_total",
                                            outcome="committed") or 0) >= done + 2)
            check(server.stop() == 0, f"{who} stops with SIGTERM, exit 0")

        got, aborted = collections.Counter(), collections.Counter()
        for label, record in parse_output(bed.consume("alerts", "%h\\t%s\\n")):
            base, _, seq = (label or "-").partition("-")
            if base not in base_a or int(seq) <= upto_a:
                got[strip_version(record)] += 1
            else:
                aborted[strip_version(record)] += 1
        if patterns:
            expected = collections.Counter(
                strip_version(record)
                for _, record in parse_output(bed.consume("alerts-ref", "%h\\t%s\\n")))

    streams = collections.Counter(json.loads(x)["@stream"] for x in
                                  (expected.elements() if patterns else []))
    if patterns:
        spanning = collections.Counter(
            json.loads(x)["@stream"] for x in expected.elements()
            if json.loads(x)["@stream"] in ("Velocity", "SmallThenBig") and
            millis(json.loads(x)["@end"]) > switch)
        check(all(streams[s] > 0 for s in ("VelocityV2", "SmallThenBigV2")) and
              all(spanning[s] > 0 for s in ("Velocity", "SmallThenBig")),
              f"R writes v2's matches and v1's runs that span the switch ({dict(streams)}; v1 "
              f"ended after the switch: {dict(spanning)})")
    else:
        expected = collections.Counter(
            [x for x in runs["v1"] if json.loads(x)["@start"] < switch] +
            [x for x in runs["v2"] if json.loads(x)["@start"] >= switch])
        streams = collections.Counter(json.loads(x)["@stream"] for x in expected.elements())
        check(all(streams[s] > 0 for s in ("CardHour", "Card2h", "CardVisit", "Card2hV2",
                                           "CardVisitV2")),
              f"both versions write windows around the switch at {switch} ({dict(streams)})")
    check_alerts(got, expected, "A and B (committed)")
    check(not (aborted - expected),
          f"every record of an aborted transaction ({sum(aborted.values())}) is a duplicate")

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
