#!/usr/bin/env python3
"""A PATTERN drain in the changelog topic `<group>-state` (tests/kafka/README.md, docs/kafka.md
"The changelog topic", #12): a server lost mid-drain and one started with an empty folder write
the same alerts as a server that was never interrupted.

v1 (two keyed patterns whose runs last up to an hour of event time) and v2 (the same names with
other thresholds, their matches in streams of other names) are compiled to .cepo files. kcat
produces the first half of the example's payments (sorted by time) into a 4-partition topic
keyed by card, then a watermark per partition between the halves (manual assignment: no group
join). Two servers start with v1: A (`--state A`, group `fraud`) and the reference R (group
`ref`, its own output topic). Once each has released every event of the first half to its
matchers, v2 is deployed to both with `?mode=drain`: v1 keeps its runs and starts no new one,
v2 starts from the second half. A commits two more checkpoints (its partition records carry
v1's runs marked draining, and v1's artifact is in the topic) and is SIGKILLed while v1 still
has runs; its folder is thrown away. The second half and a far watermark per partition follow;
server B (`cep serve v2.cepo`, an EMPTY folder) restores every partition; R goes on.

Checks:
  * B's log: per pattern, v1 served again, draining, from its artifact in the changelog topic
    with partial matches; it drains there and is unloaded ("drained");
  * the records of A's and B's committed transactions equal R's (as multisets, "@version"
    aside), every other record of theirs a duplicate in an aborted transaction; R's hold v1
    matches that ended after the switch (runs that spanned it) and v2 matches.
Without the draining pattern entries in the records (v1's runs restored by name into v2, as
before) B's records differ (checked by hand).
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import urllib.request

from kafka_bed import (KafkaBed, check, check_alerts, check_served_again, failures, parse_output,
                       restored_transaction, strip_version, wait_for)

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
pattern velocity partition by card within 1h { p: Payment{5} }
emit Velocity { card: first(p).card, uses: count(p), total: sum(p.amount) }

pattern small_then_big partition by card within 30m {
    a: Payment(amount < 20.0) -> b: Payment(amount > 100.0)
}
emit SmallThenBig { card: a.card, small: a.amount, big: b.amount }
"""

V2 = PAYMENT + """
pattern velocity partition by card within 1h { p: Payment{4} }
emit VelocityV2 { card: first(p).card, uses: count(p), total: sum(p.amount) }

pattern small_then_big partition by card within 30m {
    a: Payment(amount < 20.0) -> b: Payment(amount > 200.0)
}
emit SmallThenBigV2 { card: a.card, small: a.amount, big: b.amount }
"""

PATTERNS = ("velocity", "small_then_big")


def millis(t):
    """Epoch ms of a record's RFC 3339 time (or of a number already)."""
    if isinstance(t, (int, float)):
        return int(t)
    import datetime
    when = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return round(when.timestamp() * 1000)


def deploy_drain(server, artifact):
    with open(server.port_file) as f:
        port = int(f.read().strip())
    with open(artifact, "rb") as f:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/deploy?mode=drain",
                                         data=f.read(), method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read().decode())


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
    events.sort(key=lambda e: json.loads(e)["ts"])
    times = [json.loads(e)["ts"] for e in events]
    half = len(events) // 2
    while half < len(events) and times[half - 1] == times[half]:
        half += 1
    switch = times[half] - 1  # after every event of the first half, before the second's
    last = times[-1]
    artifacts = {}
    for name, text in (("v1", V1), ("v2", V2)):
        source = os.path.join(args.workdir, name + ".cep")
        with open(source, "w") as f:
            f.write(text)
        artifacts[name] = os.path.join(args.workdir, name + ".cepo")
        compiled = subprocess.run([args.cep, "compile", source, "-o", artifacts[name]],
                                  capture_output=True, timeout=60)
        check(compiled.returncode == 0, f"cep compile {name}.cep")

    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "alerts:4", "alerts-ref:4"]) as bed:
        def serve_args(artifact, state, group="fraud", out="alerts"):
            return [artifact, "-i", bed.url("payments", group=group), "-o", bed.url(out),
                    "--max-delay", "2s", "--state", state, "--checkpoint-every", "300ms"]

        def card(value):
            return json.loads(value)["card"]

        def watermarks(at):
            for p in range(4):
                bed.produce("payments", [json.dumps({"@watermark": at}).encode()], partition=p)

        bed.produce("payments", events[:half], key=card)
        watermarks(switch)  # every event of the first half released before the deploy
        state_a = os.path.join(args.workdir, "state-a")
        a = bed.serve(serve_args(artifacts["v1"], state_a), name="a")
        config_r = os.path.join(args.workdir, "r.properties")
        with open(config_r, "w") as f:
            f.write("transactional.id=cep-ref-r\n")
        r = bed.serve(serve_args(artifacts["v1"], os.path.join(args.workdir, "state-r"),
                                 group="ref", out="alerts-ref") + ["--kafka-config", config_r],
                      name="r")
        for server, who in ((a, "A"), (r, "R")):
            server.wait_log("admin endpoint on")
            wait_for(f"{who} releases every event of the first half",
                     lambda: (server.metric("cep_events_released_total") or 0) >= half)
        answers = {who: deploy_drain(server, artifacts["v2"]) for server, who in ((a, "A"),
                                                                                  (r, "R"))}
        for who, answer in answers.items():
            runs = {p["pattern"]: p.get("draining_runs", 0) for p in answer["patterns"]}
            check(set(runs) == set(PATTERNS) and all(n > 0 for n in runs.values()),
                  f"{who}: v1 drains with partial matches of every pattern ({runs})")
        check(answers["A"] == answers["R"] or
              [p.get("draining_runs") for p in answers["A"]["patterns"]] ==
              [p.get("draining_runs") for p in answers["R"]["patterns"]],
              "A and R drain the same runs")
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
        watermarks(last + 86400000)  # every run ends, as at the end of a file
        config_b = os.path.join(args.workdir, "b.properties")
        with open(config_b, "w") as f:
            f.write("transactional.id=cep-fraud-b\n")
        b = bed.serve(serve_args(artifacts["v2"], os.path.join(args.workdir, "state-b")) +
                      ["--kafka-config", config_b], name="b")
        b.wait_log("partitions from the changelog")
        log = b.log()
        revived = check_served_again(log, PATTERNS, "partial matches")
        upto_a = restored_transaction(log, base_a, committed_a)

        for server, who in ((b, "B"), (r, "R")):
            wait_for(f"{who} reads every partition to its end",
                     lambda: all(server.metric("cep_kafka_consumer_lag", topic="payments",
                                               partition=str(p)) == 0 for p in range(4)),
                     timeout=60)
            if who == "R" or revived == len(PATTERNS):  # (else failed above)
                wait_for(f"v1 drained on {who}",
                         lambda: server.log().count("(drained)") >= len(PATTERNS))
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
        expected = collections.Counter(
            strip_version(record)
            for _, record in parse_output(bed.consume("alerts-ref", "%h\\t%s\\n")))

    streams = collections.Counter(json.loads(r)["@stream"] for r in expected.elements())
    spanning = collections.Counter(
        json.loads(r)["@stream"] for r in expected.elements()
        if json.loads(r)["@stream"] in ("Velocity", "SmallThenBig") and
        millis(json.loads(r)["@end"]) > switch)
    check(all(streams[s] > 0 for s in ("VelocityV2", "SmallThenBigV2")) and
          all(spanning[s] > 0 for s in ("Velocity", "SmallThenBig")),
          f"R writes v2's matches and v1's runs that span the switch ({dict(streams)}; v1 "
          f"ended after the switch: {dict(spanning)})")
    check_alerts(got, expected, "A and B (committed)")
    check(not (aborted - expected),
          f"every record of an aborted transaction ({sum(aborted.values())}) is a duplicate")

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
