#!/usr/bin/env python3
"""A partition moved mid-drain of an aggregate (tests/kafka/README.md, docs/kafka.md
"Aggregates' window state", #13): under `--scale-out` the taker, draining the same versions,
puts the draining version's open windows of the partition into its own draining version (by
name and version, never into the active one) and both versions write them as one server would.

Members A and B of group `gd` (check_catchup.py's two_members: one partition each of a
2-partition topic, `--rules-topic`) serve v1 (a tumbling 1h and a session 20m aggregate per
card, every window written). The rules topic holds a deploy of v2 (the same aggregates, records
in streams of other names) in mode `drain` at T = T0+30 min: both members switch at T.

  1. PA (A's partition) and PB get payments from T0 to T0+40 min (PB's last a little earlier,
     so B is not ahead of PA and PA merges at once, no catch-up); both members drain v1 (its
     hour window and the sessions that started before T are open);
  2. A stops (SIGTERM): its checkpoint writes PA's record with both versions' windows; B takes
     PA over and logs v1's windows (draining) restored into its own v1;
  3. the rest up to T0+50 min and a far watermark in both partitions; v1 drains and is unloaded.

Checks: the alerts of A and B equal `cep run v1`'s windows that start before T plus `cep run
v2`'s that start at or after T (as a multiset). Without the draining version in the record, PA's
v1 windows open at the move are lost (checked by hand).

--patterns (kafka.group_pattern_drain, #12): two keyed patterns instead (P1, P2 below), runs
spanning T and the move; B's log says v1's runs of PA went into its own draining v1, and the
alerts of A and B equal those of a server R never interrupted (no group, both partitions, the
same rules topic). Without the draining pattern entries marked, B stops at the takeover (v1's
runs restored into v2 beside v2's own: "two records of key"; checked by hand).

--catchup (kafka.catchup_drain, kafka.catchup_pattern_drain, #12): PB gets payments up to
T0+80 min (aggregates: with a gap from T0+35 to T0+60 min, so that its sessions end), so B's v1
has drained and is unloaded before A stops; PA, taken over at about T0+40 min, is behind B and
catches up on its own, and its catch-up set (B's versions now: v2 alone) has no v1: B's log says
v1 is served again in the catch-up, draining, from its artifact in the changelog topic (as a
changelog restore does), its windows or runs its own, and at the merge the v1 state left
(sessions still open) is served again on B, draining, until it drains. The alerts are compared
as above. Before this (#12), PA's v1 entries went into the catch-up's v2: with the patterns, a
card with runs of both versions stopped the takeover ("two records of key"); with the
aggregates, v1's windows were lost and written by v2 (both checked by hand: the test fails).
"""

import collections
import json
import os
import subprocess
import sys

from check_catchup import (MIN, T0, cards, committed, consumed, enc, key, setup, stream,
                           two_members, watermark)
from kafka_bed import KafkaBed, check, check_alerts, failures, run_records, strip_version, wait_for

PAYMENT = """event Payment {
    card:   string
    amount: float
    ts:     time
}
"""

V1 = PAYMENT + """
aggregate card_hour partition by card window tumbling 1h { p: Payment }
emit CardHour { uses: count(p), total: sum(p.amount) }

aggregate card_visit partition by card window session gap 20m { p: Payment }
emit CardVisit { uses: count(p), last_at: max(p.ts) }
"""

V2 = PAYMENT + """
aggregate card_hour partition by card window tumbling 1h { p: Payment }
emit CardHourV2 { uses: count(p), top: max(p.amount) }

aggregate card_visit partition by card window session gap 20m { p: Payment }
emit CardVisitV2 { uses: count(p) }
"""

# --patterns: two keyed patterns whose runs span the switch and the move (#12): the taker puts
# PA's v1 runs into its own draining v1. A pattern's runs are not independent of the ones
# before (`skip past last`), so the reference is a server R that is never interrupted (no
# group: both partitions, the same rules topic), not `cep run` split at T.
P1 = PAYMENT + """
pattern velocity partition by card within 30m skip none { p: Payment{8} }
emit Velocity { card: first(p).card, uses: count(p), total: sum(p.amount) }

pattern medium_then_small partition by card within 30m {
    a: Payment(amount > 30.0) -> b: Payment(amount < 1.0)
}
emit MediumThenSmall { card: a.card, small: b.amount }
"""

P2 = PAYMENT + """
pattern velocity partition by card within 30m skip none { p: Payment{6} }
emit VelocityV2 { card: first(p).card, uses: count(p), total: sum(p.amount) }

pattern medium_then_small partition by card within 20m {
    a: Payment(amount > 30.0) -> b: Payment(amount < 1.0)
}
emit MediumThenSmallV2 { card: a.card, small: b.amount }
"""

T = T0 + 30 * MIN
T_TEXT = "2026-01-05T10:30:00.000Z"


def cep_run(args, artifact, events, name):
    path = os.path.join(args.workdir, f"events-{name}.jsonl")
    with open(path, "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in sorted(events, key=lambda e: e["ts"]))
    run = subprocess.run([args.cep, "run", artifact, "--input", path, "--max-delay", "2s"],
                         capture_output=True, timeout=60)
    check(run.returncode == 0, f"cep run {name} exits 0")
    return run_records(run.stdout)


def main():
    args, _ = setup()
    artifacts = {}
    versions = (("v1", P1), ("v2", P2)) if args.patterns else (("v1", V1), ("v2", V2))
    names = ("velocity", "medium_then_small") if args.patterns else ("card_hour", "card_visit")
    for name, text in versions:
        source = os.path.join(args.workdir, name + ".cep")
        with open(source, "w") as f:
            f.write(text)
        artifacts[name] = os.path.join(args.workdir, name + ".cepo")
        compiled = subprocess.run([args.cep, "compile", source, "-o", artifacts[name]],
                                  capture_output=True, timeout=60)
        check(compiled.returncode == 0, f"cep compile {name}.cep")

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:2", "alerts:2", "alerts-ref:2", "rules:1"]) as bed:
        published = subprocess.run([args.cep, "publish-rule", "--to", bed.url("rules"),
                                    artifacts["v2"], "--mode", "drain", "--at", str(T)],
                                   capture_output=True, timeout=30)
        check(published.returncode == 0, "cep publish-rule: v2 (drain) at T0+30 min")
        a, b, port_a, port_b, pa, pb, _ = two_members(
            bed, args, artifacts["v1"], "gd", extra=["--rules-topic", bed.url("rules")])
        r = None
        if args.patterns:  # the reference: one server, never interrupted, the same drain
            config_r = os.path.join(args.workdir, "r.properties")
            with open(config_r, "w") as f:
                f.write("transactional.id=cep-gd-ref\n")
            r = bed.serve([artifacts["v1"], "-i", bed.url("payments", group="ref"), "-o",
                           bed.url("alerts-ref"), "--max-delay", "2s", "--state",
                           os.path.join(args.workdir, "state-r"), "--checkpoint-every", "300ms",
                           "--rules-topic", bed.url("rules"), "--kafka-config", config_r],
                          name="r")
        ca, cb = cards(pa, 6, "ca"), cards(pb, 6, "cb")
        first_a = stream(ca, T0, T0 + 40 * MIN, 20000)
        first_b = stream(cb, T0, T0 + 39 * MIN, 20000)
        rest_a = stream(ca, T0 + 40 * MIN, T0 + 50 * MIN, 20000)
        rest_b = stream(cb, T0 + 39 * MIN, T0 + 50 * MIN, 20000)
        if args.catchup:  # B far ahead (its v1 drained), PA caught up to T0+90 min
            first_b = (stream(cb, T0, T0 + 80 * MIN, 20000) if args.patterns else
                       stream(cb, T0, T0 + 35 * MIN, 20000) +
                       stream(cb, T0 + 60 * MIN, T0 + 80 * MIN, 20000))
            rest_a = stream(ca, T0 + 40 * MIN, T0 + 90 * MIN, 20000)
            rest_b = stream(cb, T0 + 80 * MIN, T0 + 90 * MIN, 20000)
        every = first_a + first_b + rest_a + rest_b
        expected = collections.Counter(
            [r for r in cep_run(args, artifacts["v1"], every, "v1")
             if json.loads(r)["@start"] < T_TEXT] +
            [r for r in cep_run(args, artifacts["v2"], every, "v2")
             if json.loads(r)["@start"] >= T_TEXT])

        bed.produce("payments", enc(first_a), key=key)
        bed.produce("payments", enc(first_b), key=key)
        wait_for("A and B read the first part",
                 lambda: consumed(port_a) >= len(first_a) and consumed(port_b) >= len(first_b))
        switched = f"drain) applied at event time {T_TEXT}"
        wait_for("both members switch at T (their v1 drains)",
                 lambda: switched in a.log() and switched in b.log())
        last_b = (T0 + 79 * MIN) if args.catchup else (T0 + 38 * MIN)
        wait_for("both members' watermarks near their last events",
                 lambda: watermark(port_a, pa) >= (T0 + 39 * MIN) / 1000 and
                 watermark(port_b, pb) >= last_b / 1000)
        if args.catchup:
            wait_for("v1 drained on B (its partition far past T)",
                     lambda: b.log().count("(drained)") >= len(names))

        # 2. A leaves mid-drain: B takes PA over.
        check(a.stop() == 0, "A stops with SIGTERM, exit 0")
        bed.servers.remove(a)
        b.wait_log(f"took over payments[{pa}]", timeout=60)
        log = b.log()
        if args.catchup:
            check(f"payments[{pa}]: catching up: its watermark" in log,
                  "B's log: PA, behind B, catches up on its own")
            for name in names:
                check(any(f"payments[{pa}]: catching up: {name} " in line and
                          "served again in the catch-up, draining, from its artifact" in line
                          and ": 0 keys" not in line for line in log.splitlines()),
                      f"B's log: v1's {name} state of PA served again in the catch-up, draining")
        else:
            check(f"payments[{pa}]: catching up" not in log,
                  "B's log: PA merges at once (no catch-up)")
        for name in () if args.catchup else names:
            check(f"restored from the changelog: {name} " in log and
                  any(f"restored from the changelog: {name} " in line and "(draining): " in line
                      and " 0 keys" not in line for line in log.splitlines()),
                  f"B's log: v1's {name} state of PA restored into B's draining v1")

        if args.stop:  # 2b. B stops mid-catch-up; C, started with v2 alone, takes both
            part = [e for e in rest_a if e["ts"] < T0 + 50 * MIN]
            rest_a = rest_a[len(part):]
            seen = consumed(port_b)
            bed.produce("payments", enc(part), key=key)
            wait_for("B's catch-up reads PA up to T0+50 min",
                     lambda: consumed(port_b) >= seen + len(part))
            at = committed(port_b)
            wait_for("a checkpoint of B commits PA's catch-up", lambda: committed(port_b) > at)
            check(b.stop() == 0, "B stops with SIGTERM, exit 0 (PA still catching up)")
            bed.servers.remove(b)
            check(f"payments[{pa}]: caught up with this member" not in b.log(),
                  "B's log: PA had not merged when B stopped")
            b = bed.serve([artifacts["v2"], "-i", bed.url("payments", group="gd"), "-o",
                           bed.url("alerts"), "--max-delay", "2s", "--state",
                           os.path.join(args.workdir, "state-c"), "--checkpoint-every", "300ms",
                           "--scale-out", "--kafka-config",
                           os.path.join(args.workdir, "group.properties")], name="c")
            port_b = os.path.join(args.workdir, "c.port")
            b.wait_log(f"payments[{pa}]: catching up: its watermark", timeout=60)
            log = b.log()
            for name in names:
                check(any(f"payments[{pa}]: catching up: {name} " in line and
                          "served again in the catch-up, draining, from its artifact" in line
                          and ": 0 keys" not in line for line in log.splitlines()),
                      f"C's log: v1's {name} windows of PA, in B's record written from its "
                      "catch-up, served again in C's catch-up")

        # 3. The rest, a far watermark: v1 drains.
        bed.produce("payments", enc(rest_a), key=key)
        if args.catchup and not args.stop:  # PA reaches B's T0+80 min and merges first
            b.wait_log(f"payments[{pa}]: caught up with this member", timeout=60)
            if not args.patterns:  # v1's sessions spanning T still open: on B from here
                check(any("merged from the catch-up: card_visit " in line and
                          "served again, draining, with the catch-up's state" in line
                          for line in b.log().splitlines()),
                      "B's log: v1's open sessions served again on B, draining, at the merge")
        bed.produce("payments", enc(rest_b), key=key)
        far = T0 + 24 * 60 * MIN
        for p in range(2):
            bed.produce("payments", [json.dumps({"@watermark": far}).encode()], partition=p)
        wait_for("B's watermark far in both partitions",
                 lambda: all(watermark(port_b, p) >= far / 1000 - 1 for p in range(2)))
        # (with --catchup: B's own v1, then each v1 served again at the merge)
        own = 0 if args.stop else len(names)
        wait_for("v1 drained on B", lambda: b.log().count("(drained)") >= own + b.log().count(
            "served again, draining, with the catch-up's state"))
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        bed.servers.remove(b)
        if r is not None:
            wait_for("R's watermark far in both partitions",
                     lambda: all(watermark(r.port_file, p) >= far / 1000 - 1 for p in range(2)))
            wait_for("v1 drained on R", lambda: r.log().count("(drained)") >= len(names))
            done = committed(r.port_file)
            wait_for("two more committed checkpoints of R",
                     lambda: committed(r.port_file) >= done + 2)
            check(r.stop() == 0, "R stops with SIGTERM, exit 0")
            bed.servers.remove(r)
            expected = collections.Counter(strip_version(x) for x in bed.consume("alerts-ref"))
            streams = collections.Counter(json.loads(x)["@stream"] for x in expected.elements())
            check(all(streams[s] > 0 for s in ("Velocity", "MediumThenSmall", "VelocityV2",
                                               "MediumThenSmallV2")),
                  f"R writes both versions' matches ({dict(streams)})")
        got = collections.Counter(strip_version(x) for x in bed.consume("alerts"))
        check_alerts(got, expected, "A and B (" + ("an uninterrupted server R's" if args.patterns
                                                   else "cep run v1 and v2 split at T") + ")")
        if failures:
            print(b.log()[-4000:], file=sys.stderr)

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
