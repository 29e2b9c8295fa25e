#!/usr/bin/env python3
"""`cep serve --rules-topic`: rule changes from a control topic, applied at the event time each
message carries (docs/kafka.md "Rules topic"; tests/kafka/README.md).

The rules: `big` (two payments over 100 on a card) in v1, served from the start; v2 replaces it
(over 50) in `fresh` mode at T1; v3 adds `small` (a payment under 5) at T2; `big` is undeployed
(`drop`) at T3; a `keep` deploy of `big` with renamed steps at TK, which must be refused when
applied (a card has a run waiting in step `a`). Events: one Payment a second from BASE.

The expectation, built with `cep run` over the input split at the switch times:
  cep run v1.cep  over ts <  T1          (big v1 until T1; its runs dropped by fresh)
  cep run v2.cep  over T1 <= ts < T3     (big v2 from empty until its drop at T3)
  cep run v3.cep  over ts >= T2          (small from T2 on)
their records together (a multiset, "@version" aside) are what a server must write. The
patterns have no `within`, so `cep run`'s end of input adds nothing, and fresh and drop leave
nothing behind that the split runs would not.

  A: its rules topic holds every change (in the order T3, T1, T2, TK) and two bad messages
     (not an artifact; an unknown op) before it starts; events from a file.
  B: starts with an empty rules topic and the events before T1 (a followed file); the changes
     arrive while it runs (in another order: T2, TK, T3, T1), then the rest of the events.
     Its output equals A's byte for byte; both equal the expectation. A change published after
     its time (behind B's watermark) is applied at once and said to be late.
  C: A's topic with --state: stopped (SIGTERM) between T1 and T2, restarted: only the two
     pending changes are read again (none applied twice, none skipped), no new dead letter, and
     the output across the restart equals A's byte for byte.
  D: --trust: an unsigned artifact on the rules topic is rejected (its signature checked as
     `cep deploy`'s), a signed one applied.

With --workers N (kafka.rules_workers2), every server matches on N workers (docs/serve.md
"Workers"): each change is applied with every worker stopped at the same point of the event
stream, so every scene writes the same bytes, and A's output is also compared byte for byte
with a server of one worker over the same topic and events.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.request

from kafka_bed import KafkaBed, check, failures, run_records, strip_version, wait_for

BASE = 1767607200000  # 2026-01-05T10:00:00Z
T1 = BASE + 100_000
TK = BASE + 110_000
T2 = BASE + 150_000
T3 = BASE + 220_000
COUNT = 300

COMMON = "event Pay { card: string, amount: float, ts: time }\n"
V1 = """import "common.cep"
pattern big partition by card { a: Pay(amount > 100.0) -> b: Pay(amount > 100.0) }
emit Big { card: a.card, first: a.amount, second: b.amount }
"""
V2 = V1.replace("100.0", "50.0")
V3 = """import "common.cep"
pattern small { p: Pay(amount < 5.0) }
emit Small { card: p.card, amount: p.amount }
"""
VK = """import "common.cep"
pattern big partition by card { x: Pay(amount > 50.0) -> y: Pay(amount > 50.0) }
emit Big { card: x.card, first: x.amount, second: y.amount }
"""


def events():
    out = []
    for i in range(COUNT):
        ts = BASE + i * 1000
        out.append({"@type": "Pay", "card": f"c{i % 5}", "amount": (i * 37) % 200 + 0.5, "ts": ts})
        if ts == T1 + 5000:  # c9 waits in step `a` of big v2 when TK comes: keep is refused
            out.append({"@type": "Pay", "card": "c9", "amount": 500.5, "ts": ts})
    return [json.dumps(e, separators=(",", ":")) for e in out]


def metric(port_file, name, **labels):
    """The value of series `name{labels}` in the server's /metrics; None when absent."""
    with open(port_file) as f:
        port = int(f.read().strip())
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            series, _, value = line.rpartition(" ")
            got, _, rest = series.partition("{")
            pairs = dict(p.split("=", 1) for p in rest.rstrip("}").split(",")) if rest else {}
            if got == name and {k: v.strip('"') for k, v in pairs.items()} == labels:
                return float(value)
    return None


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cep", required=True)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--example")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    w = lambda name: os.path.join(args.workdir, name)
    cep = args.cep

    for name, text in [("common.cep", COMMON), ("v1.cep", V1), ("v2.cep", V2), ("v3.cep", V3),
                       ("vk.cep", VK)]:
        with open(w(name), "w") as f:
            f.write(text)
    for v in ["v1", "v2", "v3", "vk"]:
        subprocess.run([cep, "compile", w(v + ".cep"), "-o", w(v + ".cepo")], check=True,
                       capture_output=True, timeout=120)  # warnings: no `within`
    all_events = events()
    with open(w("events.jsonl"), "w") as f:
        f.write("\n".join(all_events) + "\n")

    # The expectation: three `cep run`s over the input split at the switch times.
    def run_over(rules, lo, hi):
        part = [e for e in all_events if lo <= json.loads(e)["ts"] < hi]
        path = w(f"split_{os.path.basename(rules)}.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(part) + "\n")
        p = subprocess.run([cep, "run", rules, "-i", path], capture_output=True, timeout=120,
                           check=True)
        return run_records(p.stdout)
    r1 = run_over(w("v1.cep"), 0, T1)
    r2 = run_over(w("v2.cep"), T1, T3)
    r3 = run_over(w("v3.cep"), T2, 1 << 62)
    expected = sorted(r1 + r2 + r3)
    check(len(r1) > 0 and len(r2) > 0 and len(r3) > 0,
          f"the expectation has records of every segment ({len(r1)}, {len(r2)}, {len(r3)})")

    with KafkaBed(cep, args.mock, args.workdir, ["rulesA:1", "rulesB:1", "rulesD:1"], brokers=1) as bed:
        workers = ["--workers", str(args.workers)] if args.workers > 1 else []

        def serve(argv, name):
            return bed.serve(argv + workers, name=name)

        def publish(topic, *extra):
            p = subprocess.run([cep, "publish-rule", "--to", bed.url(topic), *extra],
                               capture_output=True, timeout=60)
            if p.returncode != 0:
                raise RuntimeError("publish-rule failed: " + p.stderr.decode())
            return p.stdout.decode().strip()

        m1 = ["--at", str(T1), "--mode", "fresh", w("v2.cepo")]
        m2 = ["--at", "2026-01-05T10:02:30Z", w("v3.cepo")]  # T2 as RFC 3339
        m3 = ["--at", str(T3), "--undeploy", "big", "--mode", "drop"]
        mk = ["--at", str(TK), "--mode", "keep", w("vk.cepo")]

        # ---- A: everything in the topic before it starts -------------------------------
        publish("rulesA", *m3)
        publish("rulesA", *m1)
        printed = publish("rulesA", *m2)
        check(printed.startswith("rulesA[0]@2: deploy (keep) at 2026-01-05T10:02:30.000Z"),
              "cep publish-rule says where the message went: " + printed)
        publish("rulesA", *mk)
        bad = bed.kcat(["-P", "-t", "rulesA", "-H", "cep-op=deploy",
                        "-H", f"cep-effective-time={T1}"], data=b"not an artifact")
        unknown = bed.kcat(["-P", "-t", "rulesA", "-H", "cep-op=redeploy",
                            "-H", f"cep-effective-time={T1}"], data=b"x")
        check(bad.returncode == 0 and unknown.returncode == 0, "kcat wrote two bad messages")
        a = serve([w("v1.cepo"), "-i", w("events.jsonl"), "-o", w("a.jsonl"),
                       "--dead-letter", w("a_dead.jsonl"), "--max-delay", "1s",
                       "--rules-topic", bed.url("rulesA")], name="a")
        wait_for(f"{len(expected)} records from A", lambda: len(lines(w("a.jsonl"))) >= len(expected))
        a.wait_log("rulesA[0]@0: undeploy of big (drop) applied at event time")
        got_a = lines(w("a.jsonl"))
        check(sorted(strip_version(r) for r in got_a) == expected,
              f"A: its output equals the cep runs over the split input ({len(expected)} records)")
        log = a.log()
        check("rulesA[0]@3: rejected when applied:" in log,
              "A: the keep deploy with renamed steps is rejected when applied")
        check("rulesA[0]@4: rejected: " in log and "rulesA[0]@5: rejected: cep-op: unknown operation"
              in log, "A: the bad messages are rejected with a log line")
        dead = [json.loads(l) for l in lines(w("a_dead.jsonl"))]
        # read in topic order; the keep deploy's is written when applied, after both
        check([(d.get("topic"), d.get("partition"), d.get("offset")) for d in dead] ==
              [("rulesA", 0, 4), ("rulesA", 0, 5), ("rulesA", 0, 3)],
              f"A: three dead letters with topic, partition and offset: {dead}")
        check(all(d.get("reason", "").startswith("rules message: ") for d in dead),
              "A: each dead letter says why")
        port_a = w("a.port")
        check(metric(port_a, "cep_rules_messages_total", result="applied") == 3 and
              metric(port_a, "cep_rules_messages_total", result="rejected") == 3 and
              metric(port_a, "cep_rules_pending") == 0 and
              metric(port_a, "cep_rules_topic_offset", partition="0", topic="rulesA") == 6,
              "A: /metrics: 3 applied, 3 rejected, 0 pending, offset 6")
        status = subprocess.run([cep, "status", "--server",
                                 "127.0.0.1:" + open(port_a).read().strip()],
                                capture_output=True, timeout=30)
        check("rules topic: 3 applied (0 late), 3 rejected, 0 pending; next offset rulesA[0]=6"
              in status.stdout.decode(), "A: cep status has a rules line: " +
              status.stdout.decode().strip().splitlines()[-1])
        check(a.stop() == 0, "A: SIGTERM: exit 0")
        if workers:
            one = bed.serve([w("v1.cepo"), "-i", w("events.jsonl"), "-o", w("a1.jsonl"),
                             "--max-delay", "1s", "--rules-topic", bed.url("rulesA")], name="a1")
            wait_for(f"{len(expected)} records from A on one worker",
                     lambda: len(lines(w("a1.jsonl"))) >= len(expected))
            one.wait_log("rulesA[0]@0: undeploy of big (drop) applied at event time")
            check(lines(w("a1.jsonl")) == got_a,
                  f"A: --workers {args.workers} writes one worker's bytes")
            check(one.stop() == 0, "A on one worker: SIGTERM: exit 0")

        # ---- B: the changes arrive while it runs, in another order ------------------------
        early = [e for e in all_events if json.loads(e)["ts"] < BASE + 60_000]
        with open(w("b_events.jsonl"), "w") as f:
            f.write("\n".join(early) + "\n")
        b = serve([w("v1.cepo"), "-i", w("b_events.jsonl"), "--follow", "-o", w("b.jsonl"),
                       "--max-delay", "1s", "--rules-topic", bed.url("rulesB")], name="b")
        b.wait_log("read 0 messages of")
        port_b = w("b.port")
        wait_for("B read the early events", lambda: metric(
            port_b, "cep_input_records_total", input=w("b_events.jsonl"), outcome="accepted")
            == len(early))
        for m in [m2, mk, m3, m1]:
            publish("rulesB", *m)
        wait_for("4 pending changes in B", lambda: metric(port_b, "cep_rules_pending") == 4)
        with open(w("b_events.jsonl"), "a") as f:
            f.write("\n".join(all_events[len(early):]) + "\n")
        wait_for(f"{len(expected)} records from B", lambda: len(lines(w("b.jsonl"))) >= len(expected))
        b.wait_log("rulesB[0]@2: undeploy of big (drop) applied at event time")
        check(lines(w("b.jsonl")) == got_a,
              "B: the same output as A byte for byte (other order, other arrival times)")
        publish("rulesB", "--at", str(BASE), w("v2.cepo"))  # long behind B's watermark
        b.wait_log("rulesB[0]@4: deploy of")
        check("applied LATE" in b.log() and
              metric(port_b, "cep_rules_applied_late_total") == 1,
              "B: a change behind the watermark is applied at once, logged and counted as late")
        check(b.stop() == 0, "B: SIGTERM: exit 0")

        # ---- C: --state: a restart neither applies a change twice nor skips one -----------
        first = [e for e in all_events if json.loads(e)["ts"] < T1 + 30_000]
        with open(w("c_events.jsonl"), "w") as f:
            f.write("\n".join(first) + "\n")
        c_args = [w("v1.cepo"), "-i", w("c_events.jsonl"), "--follow", "-o", w("c.jsonl"),
                  "--dead-letter", w("c_dead.jsonl"), "--max-delay", "1s",
                  "--rules-topic", bed.url("rulesA"), "--state", w("c_state")]
        c = serve(c_args, name="c1")
        c.wait_log("rulesA[0]@3: rejected when applied")
        port_c = w("c1.port")
        wait_for("C read the first events", lambda: metric(
            port_c, "cep_input_records_total", input=w("c_events.jsonl"), outcome="accepted")
            == len(first))
        check(metric(port_c, "cep_rules_pending") == 2, "C: 2 changes pending before the stop")
        check(c.stop() == 0, "C: SIGTERM: exit 0 (the last checkpoint)")
        dead_before = lines(w("c_dead.jsonl"))
        c2 = serve(c_args, name="c2")
        c2.wait_log("read 2 messages of")
        port_c2 = w("c2.port")
        check(metric(port_c2, "cep_rules_pending") == 2 and
              metric(port_c2, "cep_rules_messages_total", result="applied") == 0 and
              metric(port_c2, "cep_rules_messages_total", result="rejected") == 0,
              "C restarted: the 2 pending changes read again, nothing applied or rejected twice")
        with open(w("c_events.jsonl"), "a") as f:
            f.write("\n".join(all_events[len(first):]) + "\n")
        wait_for(f"{len(expected)} records from C", lambda: len(lines(w("c.jsonl"))) >= len(expected))
        c2.wait_log("rulesA[0]@0: undeploy of big (drop) applied at event time")
        check(lines(w("c.jsonl")) == got_a, "C: across the restart, the output equals A's")
        check(lines(w("c_dead.jsonl")) == dead_before and len(dead_before) == 3,
              "C: no dead letter written again after the restart")
        check(c2.stop() == 0, "C restarted: SIGTERM: exit 0")
        # A third start: everything was applied or rejected before its checkpoint.
        c3 = serve(c_args, name="c3")
        c3.wait_log("read 0 messages of")
        port_c3 = w("c3.port")
        check(metric(port_c3, "cep_rules_pending") == 0 and
              metric(port_c3, "cep_rules_topic_offset", partition="0", topic="rulesA") == 6,
              "C started a third time: nothing read again, the offset still 6")
        check(c3.stop() == 0 and lines(w("c.jsonl")) == got_a and
              lines(w("c_dead.jsonl")) == dead_before,
              "C's third life changes no output")

        # ---- D: --trust checks the artifacts of the rules topic ------------------------------
        subprocess.run([cep, "keygen", "-o", w("ci")], check=True, capture_output=True, timeout=60)
        for v in ["v1", "v3"]:
            subprocess.run([cep, "compile", w(v + ".cep"), "--sign", w("ci.key"), "-o",
                            w(v + "_signed.cepo")], check=True, capture_output=True, timeout=120)
        publish("rulesD", "--at", str(T2), w("v2.cepo"))         # unsigned
        publish("rulesD", "--at", str(T2), w("v3_signed.cepo"))  # signed by ci.key
        d = serve([w("v1_signed.cepo"), "--trust", w("ci.pub"), "-i", w("events.jsonl"),
                       "-o", w("d.jsonl"), "--dead-letter", w("d_dead.jsonl"),
                       "--rules-topic", bed.url("rulesD")], name="d")
        d.wait_log("rulesD[0]@1: deploy of")
        d.wait_log("applied at event time")
        check("rulesD[0]@0: rejected: " in d.log() and "not signed" in d.log(),
              "D: an unsigned artifact on the rules topic is rejected under --trust")
        check([json.loads(l).get("offset") for l in lines(w("d_dead.jsonl"))] == [0],
              "D: its dead letter names offset 0")
        check(d.stop() == 0, "D: SIGTERM: exit 0")

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
