#!/usr/bin/env python3
"""A rule change from the rules topic that comes due while a partition catches up
(tests/kafka/README.md, docs/kafka.md "A partition taken over behind the member", #12 §3): the
member applies it at its own watermark, the catch-up at the partition's, so every key switches
at the change's event time.

check_catchup.py's scene (members A and B of group `cur`, payments PA and PB, PB 50 minutes of
event time ahead of PA when B takes PA over) with `--rules-topic`: the topic holds, before
either starts, a deploy at T = T0+70 min of v2's `pair` (a large payment followed by a
confirmation, instead of by another large one) in mode `fresh` (`--mode drain`:
kafka.catchup_rules_drain; `--mode keep`, kafka.catchup_rules_keep: v1's pair with its records
marked, runs in flight moving into it), and an undeploy of `pair` (`drop`) at T2 = T0+80 min; `unconfirmed`
stays v1's. Card W of PA has a large payment just
before T and another after it: a pair of v1 that a drain completes and fresh drops.

  1. PA up to T0+10 min, PB up to T0+60 min; A stops (SIGTERM), B takes PA over, which catches
     up from about T0+10 min;
  2. PB's rest up to T0+90 min: B's watermark passes T: B applies the change (logged as
     applied, not rejected) while PA still catches up, and PA's catch-up schedules it for its
     own watermark (logged);
  3. PA's rest up to T0+90 min: PA's catch-up applies the change when its watermark reaches T
     (logged), then merges; a far watermark in both partitions.

`--between` (kafka.catchup_rules_between_fresh, kafka.catchup_rules_between_keep): the deploy is
due at T = T0+30 min instead, between PA's watermark (about T0+10 min) and B's (about T0+60
min) when B takes PA over: B applied it before the takeover (checked before A stops), so PA's
catch-up starts from the versions served before it (v1's `pair`, which PA's record holds) and
applies it at T from the member's history of changes (logged). Without that (the catch-up made
of the versions served now, as before) PA's events before T are matched by v2 and the alerts
differ (checked by hand). `--between --aggregates` (kafka.catchup_rules_between_aggregates,
fresh): check_catchup.py's card_10m (five uses of a card in a tumbling 10 minutes) beside the
patterns, replaced by v2's (three uses, its records marked) in the same deploy, due at T =
T0+35 min (inside a window: one ending at T exactly is open at the switch and fresh drops it);
v1's windows that ended by T, v2's over the events from T on. Without the fix, PA's record's
windows go into v2 and are judged by its `having` (checked by hand: 9 missing, 38 extra).

`--between --restart` (kafka.catchup_rules_between_restart, fresh): after B applied the deploy,
B is killed (SIGKILL, idle) and started again from its --state folder (with --scale-out its
checkpoint is not restored: it reads the rules topic whole, the deploy pending); the group gives
it PB back, whose record B wrote under v2: B applies the deploy before PB's keys go in
(docs/kafka.md "A partition taken over behind the member"). Then A stops and B takes PA over,
behind the deploy: its catch-up starts from v1's `pair` and applies the deploy at T, from the
history B made again. Without applying the deploy first, PB's v2 runs go into v1's `pair` and
the deploy (fresh) then drops them (checked by hand: cb-9's pair missing).

`--between --http` (kafka.catchup_rules_between_http, fresh): the same scene with the deploy
sent to B over HTTP (`cep deploy v2.cepo --mode fresh`) once B's watermark is about T0+60 min,
instead of published (the rules topic holds only the undeploy at T2). An HTTP change has no
event time: B applies it where its loop is and records it in its history at its watermark + 1,
T (its answer's `switched_at`, its log); the scene then goes on as above with that T: PA's
catch-up starts from v1's `pair` and applies the HTTP deploy at T, so the alerts equal the
`cep run`s split at T. Without the record (as before: the catch-up made of the versions served
now) PA's events before T are matched by v2 and the alerts differ (checked by hand).

`--between --retention` (kafka.catchup_rules_between_retention, fresh): B runs with
`--rule-history-retention 10m`; when it takes PA over its event time is about T0+60 min, so the
deploy due at T0+30 min is dropped from its history (logged, counted by
cep_kafka_rule_history_dropped_total, cep_kafka_rule_history_changes 0) and PA's catch-up,
whose watermark is before it, falls back to the versions served now, said in its start line.
The scene ends there (the alerts then differ from the split `cep run`s, as documented).

`--between --ahead` (kafka.catchup_rules_ahead, fresh): the roles swapped: PA gets payments up
to T0+60 min (A applies the deploy at T = T0+30 min), PB up to T0+10 min (B has it pending),
card Y of PA a pair of v1 before T, and card X of PA a large payment at T0+59 min (a run of v2's `pair` in PA's record) whose
confirmation comes at T0+61 min. A stops; B takes PA over AHEAD of its own watermark: the
record's entries of v2's `pair` wait for the pending deploy (logged) and go into v2 when B
applies it at T (logged), the others (v1's `unconfirmed`) at once. Then PB's rest, PA's rest.
Without holding them (as before) X's run goes into v1's `pair` and the deploy (fresh) drops it
at T: X's pair is missing (checked by hand).
`--between --ahead --mode drain` (kafka.catchup_rules_ahead_drain): the same with a drain
deploy, PA up to T0+33 min only (pair is within 5m: v1's runs started before T are still in
flight in PA's record, marked draining), X's large payment at T0+32 min, its confirmation at
T0+34 min, and card Z's large payment at T0+29:30 (a draining run of v1) whose second comes at
T0+33:40, after the takeover. B serves v1 as its active version: the record's draining v1 keys
wait for the drain (logged) and go into B's draining v1 at T (logged), v2's into v2. Without
holding them (as before) the restore says `NOT restored` and Z's pair of v1 is missing
(checked by hand). `--between --ahead --mode keep` (kafka.catchup_rules_ahead_keep): a keep
deploy (X's second payment a large one at T0+61 min): the record's entries, v1's runs A moved
into v2, wait for the deploy and go into v2 at T (logged); without holding them only the log
checks fail (they go into v1 and the keep moves them into v2 at T).
`--between --ahead --mode drain --aggregates` (kafka.catchup_rules_ahead_drain_aggregates): the
same drain with card_10m replaced too (T = T0+35 min inside a window, PA up to T0+38 min):
PA's record marks v1's windows that started before T draining (the window [T0+30, T0+40) of
PA's cards), which wait for the drain and go into B's draining v1 (logged); expected: v1's
windows that started before T over every event, v2's that start from T on. Without holding
them, Z's pair and PA's cards' windows [T0+30, T0+40) of v1 are missing (checked by hand).
`--between --ahead --mode fresh --aggregates` (kafka.catchup_rules_ahead_aggregates): PA's
record's v2 windows go in under B's own watermark, so B's own v2 windows ending in between are
written (before: 6 of PB's [T0+40, T0+50) windows missing). `--window hopping`
(kafka.catchup_rules_ahead_hopping): v2's card_10m hopping 10m every 5m, whose panes stay in
PA's record after a window fired: its keys carry PA's watermark as their "fired up to" mark, so
PA's windows that fired are not written again and B's own are (without the mark: B's windows
ending in between missing, or PA's written twice; checked by hand). `--window cumulate`
(kafka.catchup_rules_ahead_cumulate): v2's card_10m `cumulate 10m step 5m`, which shares
hopping's panes and marks (without the mark for cumulate: 1 window of PA written twice; checked
by hand). `--window session-lateness`
(kafka.catchup_rules_ahead_sessions): v2's card_10m `session gap 4m lateness 10m`, whose
sessions stay in PA's record after they fired: its keys carry PA's watermark as their mark too,
and B's own sessions go on under B's watermark (before, PA's record's later watermark was
taken: B's own events between the two were judged late under it and dropped; checked by hand).
`--between --ahead --mode drain --undeploy` (kafka.catchup_rules_ahead_undeploy_drain): the
change at T is an undeploy of `pair` in drain mode instead of a deploy (no v2; no drop at T2,
which would find no active pair): PA's record marks v1's runs started before T draining (Z's),
B still serves v1's pair as active: they wait for the undeploy (logged) and go into B's draining
pair at T (logged). Expected: v1's Unconfirmed over every event and its pairs started before T.
Without holding them for an undeploy (RulesTopic::pendingDrain seeing deploys only) the restore
says `NOT restored` and Z's pair is missing (checked by hand).

`--between --ahead --mode drain --stop-before` (kafka.catchup_rules_ahead_drain_stop): the drain
never comes to B: B, holding PA's record's draining runs (Z's) for the drain due at T, stops
(SIGTERM) while its watermark is before T. Its last checkpoint must not write PA's record (it
released no event of PA: the record stays A's) and its log puts the held keys into no version;
C, a new member with an empty folder, takes both partitions (PA's record at about T0+33 min,
PB's at about T0+10 min), combines their watermarks as the lower (checked in /metrics), holds
Z's runs in turn, applies the drain at T and puts them into its draining pair (logged). The
alerts of A, B and C equal the drain's split `cep run`s; C judged no event late. Before, C
counted PA in its watermark before PB and took PA's watermark: 47 of PB's events late, 16
alerts missing (runtime/engine/serve_loop.cpp now counts partitions assigned together lowest
watermark first).
`--between --ahead --from-changelog` (kafka.changelog_rules_before, fresh): PB goes up to T0+35
min instead (B applies the deploy too); B stops (A takes PB over), then A: the changelog holds
both records, written under v2, at about T0+35 and T0+60 min. C, `cep serve --state` WITHOUT
`--scale-out`, an empty folder and the rules topic (the deploy pending), restores both: it
applies the deploy (due before the records' watermark) before their keys go in (logged). Then
PA's and PB's rests. Without that (the topic read after the records are restored, as before)
X's run goes into v1's `pair` and the deploy drops it (checked by hand).
`--rule-history-retention 0` is refused (exit 2) before anything is opened.

Checks: the alerts of A and B together equal, as a multiset, `cep run v1.cep`'s Unconfirmed
over every event, plus its Pair records over the events before T (drain: its Pair records over
every event that started before T), plus `cep run v2.cep`'s over the events in [T, T2) (the
drop leaves nothing of it; keep: v1's pairs that ended before T and v2's that ended in [T, T2),
both over the events before T2); no event late; the rules topic rejected nothing. Without the change in
the catch-up (a change coming due during a catch-up rejected, as before) B keeps v1's `pair`
after T and the alerts differ (checked by hand).
"""

import collections
import datetime
import json
import os
import subprocess
import sys

from check_catchup import (MIN, T0, assigned, cards, committed, consumed, enc, key, payment,
                           setup, no_late_after_checkpoint, stream, two_members, watermark)
from kafka_bed import KafkaBed, check, check_alerts, failures, metric, run_records, strip_version, wait_for

V2 = """event Payment {
    card:   string
    amount: float
    ts:     time
}

// v2: a large payment followed by a confirmation within 5 minutes.
pattern pair partition by card within 5m {
    a: Payment(amount > 100) -> b: Payment(amount < 1)
}
emit Pair { card: a.card, first: a.amount, second: b.amount }
"""

# `--mode keep`: v1's pair, its records marked: runs in flight at T move into it and complete
# as v2's.
V2_KEEP = """event Payment {
    card:   string
    amount: float
    ts:     time
}

pattern pair partition by card within 5m {
    a: Payment(amount > 100) -> b: Payment(amount > 100)
}
emit Pair { card: a.card, first: a.amount, second: b.amount, rule: "v2" }
"""

# `--aggregates` (with `--between`, fresh): v1 has check_catchup.py's card_10m (five uses of a
# card in a tumbling 10 minutes); v2 replaces it too, three uses, its records marked.
V2_AGGREGATE = """
aggregate card_10m partition by card window tumbling 10m { p: Payment }
having count(p) >= 3
emit Card10m { card: last(p).card, uses: count(p), total: sum(p.amount), rule: "v2" }
"""

T2 = T0 + 80 * MIN


def iso(ms):
    """`ms` as the server writes an event time: 2026-01-05T11:10:00.000Z."""
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def cep_run(args, rules, events, name):
    """`cep run rules` over `events` in time order: its records."""
    path = os.path.join(args.workdir, name + ".jsonl")
    with open(path, "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in sorted(events, key=lambda e: e["ts"]))
    run = subprocess.run([args.cep, "run", rules, "--input", path, "--max-delay", "2s"],
                         capture_output=True, timeout=60)
    check(run.returncode == 0, f"cep run {os.path.basename(rules)} over {name} exits 0")
    return run_records(run.stdout)


def c_finishes(bed, c, port_c, out_a, out_b, expected, split, rules_rejected_nothing=False):
    """The end of the scenes where C takes both partitions over: every partition's watermark
    far, the undeploy applied, C stopped; A's, B's and C's alerts must equal the cep runs split
    at `split`. Returns the exit code."""
    far = T0 + 24 * 60 * MIN
    for p in range(2):
        bed.produce("payments", [json.dumps({"@watermark": far}).encode()], partition=p)
    wait_for("C's watermark far in both partitions",
             lambda: all(watermark(port_c, p) >= far / 1000 - 1 for p in range(2)))
    c.wait_log("undeploy of pair (drop) applied at event time 2026-01-05T11:20:00.000Z")
    if rules_rejected_nothing:
        rejected = metric(port_c, "cep_rules_messages_total", result="rejected") or 0
        check(rejected == 0, f"/metrics: the rules topic rejected nothing on C ({rejected:.0f})")
    no_late_after_checkpoint(port_c, "C")
    out_c = metric(port_c, "cep_output_records_total") or 0
    check(c.stop() == 0, "C stops with SIGTERM, exit 0")
    bed.servers.remove(c)
    got = collections.Counter(strip_version(r) for r in bed.consume("alerts"))
    check(out_a + out_b + out_c == sum(got.values()),
          f"/metrics: A's, B's and C's cep_output_records_total ({out_a:.0f} + {out_b:.0f} + "
          f"{out_c:.0f}) count every alert ({sum(got.values())})")
    check_alerts(got, expected, f"A, B and C (the cep runs split at {split})")
    if failures:
        print(c.log()[-4000:], file=sys.stderr)
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


def from_changelog(args, bed, rules, a, b, port_a, port_b, pa, pb, T, expected, rest_a,
                   rest_b):
    """--ahead --from-changelog: B stops (A takes PB over), then A; C starts without
    --scale-out from the changelog, the rules topic's deploy pending."""
    out_b = metric(port_b, "cep_output_records_total") or 0
    check(b.stop() == 0, "B stops with SIGTERM, exit 0")
    bed.servers.remove(b)
    a.wait_log(f"took over payments[{pb}]", timeout=60)
    at = committed(port_a)
    wait_for("a checkpoint of A commits after the takeover", lambda: committed(port_a) > at)
    out_a = metric(port_a, "cep_output_records_total") or 0
    check(a.stop() == 0, "A stops with SIGTERM, exit 0")
    bed.servers.remove(a)
    c = bed.serve([rules, "-i", bed.url("payments", group="cur"), "-o", bed.url("alerts"),
                   "--max-delay", "2s", "--state", os.path.join(args.workdir, "state-c"),
                   "--checkpoint-every", "300ms", "--rules-topic", bed.url("rules")], name="c")
    port_c = os.path.join(args.workdir, "c.port")
    c.wait_log("partitions from the changelog in", timeout=60)
    check("the rules topic's changes due up to their records' watermark " in c.log() and
          "applied before their keys are restored (1 change)" in c.log() and
          c.log().index(f"; {args.mode}) applied at event time {iso(T)}") <
          c.log().index("restored from the changelog: "),
          "C's log: the deploy applied before the records' keys are restored")
    bed.produce("payments", enc(rest_a), key=key)
    bed.produce("payments", enc(rest_b), key=key)
    return c_finishes(bed, c, port_c, out_a, out_b, expected, "the changes")


def stop_before_drain(args, bed, b, port_b, pa, pb, serve_args, T, expected, rest_a, rest_b,
                      out_a):
    """--between --ahead --mode drain --stop-before: the drain never comes to B, which holds
    PA's draining keys: B stops (SIGTERM) before its watermark reaches T. PA's record must stay
    A's (B released none of PA's events; its last checkpoint does not write what it holds);
    C, a new member with an empty folder, takes both partitions, holds the draining keys in
    turn and puts them into its draining pair at T."""
    check(watermark(port_b, pb) < (T - 1) / 1000 and "applied at event time" not in b.log(),
          "B's watermark is before T: B applied no change, the drain has not come")
    at = committed(port_b)
    wait_for("a checkpoint of B commits while it holds PA's draining keys",
             lambda: committed(port_b) > at)
    out_b = metric(port_b, "cep_output_records_total") or 0
    check(b.stop() == 0, "B stops with SIGTERM before the drain, exit 0")
    bed.servers.remove(b)
    check("restored into the draining version" not in b.log() and
          "NOT restored" not in b.log() and
          "restored into the active version that wrote them" not in b.log(),
          "B's log: PA's held draining keys went into no version of B (PA's record stays A's)")
    c = bed.serve(serve_args("state-c"), name="c")
    port_c = os.path.join(args.workdir, "c.port")
    wait_for("C holds both partitions", lambda: assigned(port_c) == {0, 1}, timeout=60)
    c.wait_log(f"took over payments[{pa}]")
    check(f"payments[{pa}]: taken over ahead of this member (its watermark " in c.log() and
          " (draining) wait for the rules topic's change due at "
          f"{iso(T)} that drains pair, which their writer had applied" in c.log(),
          "C's log: PA's draining keys of A's record wait for the drain")
    # C's watermark is PB's, the lower record's: the two partitions' restored watermarks are
    # combined as their minimum (before: PA's, counted first, so PB's events up to it were late)
    lower = min(watermark(port_c, p) for p in range(2))
    combined = metric(port_c, "cep_watermark_seconds") or 0
    check(abs(combined - lower) < 0.01 and lower < (T - 1) / 1000,
          f"/metrics: C's watermark is the lower record's, PB's ({combined:.3f}, {lower:.3f})")
    bed.produce("payments", enc(rest_b), key=key)
    c.wait_log(f"payments[{pa}]: its draining keys held for the deploy of ")
    check(f"(drain) restored into the draining version at event time {iso(T)}: pair " in c.log()
          and "NOT restored" not in c.log(),
          "C's log: PA's draining keys restored into C's draining pair at T")
    bed.produce("payments", enc(rest_a), key=key)
    return c_finishes(bed, c, port_c, out_a, out_b, expected, "the drain",
                      rules_rejected_nothing=True)


def over_http(args, bed, rules, v2, v2o):
    """--between --http: the deploy sent to B over HTTP once B is about T0+60 min; PA's
    catch-up replays it at the event time B applied it at."""
    published = subprocess.run([args.cep, "publish-rule", "--to", bed.url("rules"),
                                "--undeploy", "pair", "--mode", "drop", "--at", str(T2)],
                               capture_output=True, timeout=30)
    check(published.returncode == 0, "cep publish-rule: undeploy pair (drop) at T0+80 min")
    a, b, port_a, port_b, pa, pb, _ = two_members(
        bed, args, rules, "cur", extra=["--rules-topic", bed.url("rules")])
    ca, cb = cards(pa, 7, "ca"), cards(pb, 7, "cb")
    first_a = stream(ca, T0, T0 + 10 * MIN, 20000)
    first_b = stream(cb, T0, T0 + 60 * MIN, 30000)
    bed.produce("payments", enc(first_a), key=key)
    bed.produce("payments", enc(first_b), key=key)
    wait_for("A and B read the first part",
             lambda: consumed(port_a) >= len(first_a) and consumed(port_b) >= len(first_b))
    last_b = max(e["ts"] for e in first_b)
    wait_for("B's watermark at its last event less --max-delay, less 1 ms",
             lambda: watermark(port_b, pb) >= (last_b - 2001) / 1000)

    # The deploy over HTTP: B applies it where its loop is, at its watermark + 1.
    server_b = open(port_b).read().strip()
    deployed = subprocess.run([args.cep, "deploy", v2o, "--mode", "fresh", "--server",
                               f"127.0.0.1:{server_b}"], capture_output=True, timeout=30)
    check(deployed.returncode == 0, "cep deploy v2.cepo (fresh) to B over HTTP, exit 0")
    answer = json.loads(deployed.stdout) if deployed.returncode == 0 else {}
    T = last_b - 2001 + 1  # B's watermark (its last event less --max-delay 2s, less 1) + 1
    check(answer.get("switched_at") == iso(T),
          f"the answer's switched_at is B's watermark + 1, {iso(T)} ({answer.get('switched_at')})")
    # --scale-out serves the command line's artifacts and the rules topic's after a restart, not
    # the folder's checkpoint: the answer must not promise the change survives one.
    check(answer.get("durable") is False and
          "the change is applied but not durable: --scale-out does not restore" in b.log(),
          "the answer says \"durable\": false (--scale-out), B's log says why")
    b.wait_log("rules history: the HTTP deploy of ")
    check(f"(fresh) switched this member's keys at event time {iso(T)} (its watermark then + 1)"
          in b.log(), "B's log: the HTTP deploy recorded in its history at T")
    check(metric(port_b, "cep_kafka_rule_history_http_changes_total") == 1 and
          metric(port_b, "cep_kafka_rule_history_changes") == 1,
          "/metrics: one HTTP change recorded, one change in the history")

    # The expectation, split at T. Card W of PA: a large payment before T and one after it, a
    # pair of v1 that the fresh deploy drops (PA's catch-up must switch at T, not before).
    w = cards(pa, 1, "cw")[0]
    rest_a = stream(ca, T0 + 10 * MIN + 20000, T0 + 90 * MIN, 20000) + [
        payment(w, 300.0, T - MIN), payment(w, 310.0, T + 2 * MIN)]
    rest_a.sort(key=lambda e: e["ts"])
    rest_b = stream(cb, T0 + 60 * MIN, T0 + 90 * MIN, 30000)
    every = first_a + first_b + rest_a + rest_b
    v1_all = cep_run(args, rules, every, "all")
    v1_before = cep_run(args, rules, [e for e in every if e["ts"] < T], "before")
    v2_after = cep_run(args, v2, [e for e in every if T <= e["ts"] < T2], "after")
    v1_pairs = [r for r in v1_before if '"Pair"' in r]
    check(any('"ca-' in r for r in v1_pairs) and any('"ca-' in r for r in v2_after) and
          not any(f'"{w}"' in r for r in v1_pairs + v2_after),
          "the expectation has v1's pairs of PA's cards before T, v2's after it, none of W's")
    expected = collections.Counter(
        [r for r in v1_all if '"Unconfirmed"' in r] + v1_pairs + v2_after)

    # A leaves: B takes PA over, about 50 minutes behind it: PA's catch-up starts from v1's
    # `pair` and replays the HTTP deploy at T.
    out_a = metric(port_a, "cep_output_records_total") or 0
    check(a.stop() == 0, "A stops with SIGTERM, exit 0")
    bed.servers.remove(a)
    b.wait_log(f"took over payments[{pa}]", timeout=60)
    check(f"payments[{pa}]: catching up: its watermark" in b.log() and
          "its versions (as of its watermark): unconfirmed " in b.log() and
          "the rule changes the member applied after it (the rules topic's at their times, HTTP "
          "ones at the event time the member applied them) are applied here at their times: the "
          f"HTTP deploy of " in b.log() and f"(fresh) at {iso(T)}" in b.log(),
          "B's log: PA's catch-up starts from the versions before the HTTP deploy, applies it at T")
    refused = subprocess.run([args.cep, "undeploy", "pair", "--server", f"127.0.0.1:{server_b}"],
                             capture_output=True, timeout=30)
    check(refused.returncode != 0 and b"is catching up with this member's event time" in
          refused.stderr, "an HTTP undeploy while PA catches up is refused (409)")

    bed.produce("payments", enc(rest_b), key=key)
    b.wait_log("undeploy of pair (drop) applied at event time 2026-01-05T11:20:00.000Z")
    bed.produce("payments", enc(rest_a), key=key)
    far = T0 + 24 * 60 * MIN
    for p in range(2):
        bed.produce("payments", [json.dumps({"@watermark": far}).encode()], partition=p)
    wait_for("B's watermark far in both partitions",
             lambda: all(watermark(port_b, p) >= far / 1000 - 1 for p in range(2)))
    check(f"payments[{pa}]: catching up: the HTTP deploy of " in b.log() and
          f"(fresh) applied at event time {iso(T)}: pair replaced (fresh)" in b.log(),
          "B's log: PA's catch-up applied the HTTP deploy at T")
    check(f"payments[{pa}]: catching up: the undeploy of pair (drop) applied at event "
          "time 2026-01-05T11:20:00.000Z" in b.log(), "B's log: PA's catch-up applied the drop")
    check(f"payments[{pa}]: caught up with this member" in b.log(),
          "B's log: PA caught up and merged")
    no_late_after_checkpoint(port_b, "B")
    out_b = metric(port_b, "cep_output_records_total") or 0
    check(b.stop() == 0, "B stops with SIGTERM, exit 0")
    bed.servers.remove(b)
    got = collections.Counter(strip_version(r) for r in bed.consume("alerts"))
    check(out_a + out_b == sum(got.values()),
          f"/metrics: A's and B's cep_output_records_total ({out_a:.0f} + {out_b:.0f}) "
          f"count every alert ({sum(got.values())})")
    check_alerts(got, expected, "A and B (the cep runs split at the HTTP deploy's time)")
    if failures:
        print(b.log()[-4000:], file=sys.stderr)
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


def main():
    args, rules = setup()
    # The deploy's time. With aggregates it is inside a window (T0+35 min): a window ending at
    # T exactly fires at T, after the switch, so fresh drops it, which `cep run` over the events
    # before T would not.
    T = T0 + (70 if not args.between else 35 if args.aggregates else 30) * MIN
    v2 = os.path.join(args.workdir, "v2.cep")
    drain_ahead = args.ahead and args.mode == "drain"
    undeploy = args.undeploy  # --undeploy: the change at T undeploys pair (drain), no v2
    if args.stop_before and not (drain_ahead and args.between and not args.aggregates and
                                 not args.from_changelog and not undeploy):
        print("--stop-before goes with --between --ahead --mode drain (no --aggregates, "
              "--from-changelog or --undeploy)", file=sys.stderr)
        return 2
    if undeploy and not (drain_ahead and args.between and not args.aggregates and
                         not args.from_changelog):
        print("--undeploy goes with --between --ahead --mode drain (no --aggregates, no "
              "--from-changelog)", file=sys.stderr)
        return 2
    if ((args.restart or args.retention or args.from_changelog or args.http) and
            not (args.between and args.mode == "fresh")) or (
                args.from_changelog and not args.ahead) or (args.ahead and not args.between) or (
                    args.aggregates and not (args.between and
                                             (args.mode == "fresh" or drain_ahead))):
        print("--restart, --retention, --http and --from-changelog go with --between --mode "
              "fresh, --aggregates too or with --between --ahead --mode drain, --ahead with "
              "--between",
              file=sys.stderr)
        return 2
    with open(v2, "w") as f:
        window = {"hopping": "hopping 10m every 5m", "cumulate": "cumulate 10m step 5m",
                  "session-lateness": "session gap 4m lateness 10m"}.get(args.window)
        f.write((V2_KEEP if args.mode == "keep" else V2) +
                (V2_AGGREGATE.replace("tumbling 10m", window)
                 if args.aggregates and window else
                 V2_AGGREGATE if args.aggregates else ""))
    v2o = os.path.join(args.workdir, "v2.cepo")
    compiled = subprocess.run([args.cep, "compile", v2, "-o", v2o], capture_output=True,
                              timeout=60)
    check(compiled.returncode == 0, "cep compile v2.cep")

    if args.retention:  # a retention that is not a positive duration: exit 2, before connecting
        bad = subprocess.run([args.cep, "serve", rules, "-i",
                              "kafka://127.0.0.1:9/payments?group=g", "-o",
                              "kafka://127.0.0.1:9/alerts", "--rule-history-retention", "0"],
                             capture_output=True, timeout=30)
        check(bad.returncode == 2 and b"--rule-history-retention 0: expected a duration of "
              b"event time" in bad.stderr, "--rule-history-retention 0 is refused, exit 2")

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:2", "alerts:2", "rules:1"]) as bed:
        if args.http:
            return over_http(args, bed, rules, v2, v2o)
        if undeploy:  # pair undeployed at T in drain mode: nothing of it after (no drop at T2:
            # it would find no active pair to undeploy, and be rejected)
            published = subprocess.run([args.cep, "publish-rule", "--to", bed.url("rules"),
                                        "--undeploy", "pair", "--mode", "drain", "--at", str(T)],
                                       capture_output=True, timeout=30)
            check(published.returncode == 0, f"cep publish-rule: undeploy pair (drain) at {iso(T)}")
        else:
            published = subprocess.run([args.cep, "publish-rule", "--to", bed.url("rules"), v2o,
                                        "--mode", args.mode, "--at", str(T)],
                                       capture_output=True, timeout=30)
            check(published.returncode == 0, f"cep publish-rule: v2 ({args.mode}) at {iso(T)}")
            published = subprocess.run([args.cep, "publish-rule", "--to", bed.url("rules"),
                                        "--undeploy", "pair", "--mode", "drop", "--at", str(T2)],
                                       capture_output=True, timeout=30)
            check(published.returncode == 0, "cep publish-rule: undeploy pair (drop) at T0+80 min")

        a, b, port_a, port_b, pa, pb, serve_args = two_members(
            bed, args, rules, "cur", extra=["--rules-topic", bed.url("rules")] +
            (["--rule-history-retention", "10m"] if args.retention else []))
        ca, cb = cards(pa, 7, "ca"), cards(pb, 7, "cb")  # 7: a card has large and small ones

        # The partitions' first parts end at T0+10 min (PA) and T0+60 min (PB); --ahead swaps
        # them: PA is the one ahead, B's own partition the one behind. --ahead --mode drain: PA
        # up to T0+33 min, so that v1's runs started before T are still in flight (draining) in
        # PA's record (pair is within 5m).
        end_a, end_b = ((T - T0) // MIN + 3 if drain_ahead else 60,
                        35 if args.from_changelog else 10) if args.ahead else (10, 60)
        first_a = stream(ca, T0, T0 + end_a * MIN, 20000)
        first_b = stream(cb, T0, T0 + end_b * MIN, 30000)
        w = cards(pa, 1, "cw")[0]
        rest_a = stream(ca, T0 + end_a * MIN + 20000, T0 + 90 * MIN, 20000) + [
            payment(w, 300.0, T - MIN), payment(w, 310.0, T + 2 * MIN)]
        if args.ahead:  # X's run of v2 in PA's record, its end after the takeover (v2's pair:
            # a confirmation; keep's: another large payment)
            x = cards(pa, 1, "cx")[0]
            x_at = T0 + end_a * MIN - MIN
            first_a.append(payment(x, 300.0, x_at))
            y = cards(pa, 1, "cy")[0]  # a pair of v1 before T (the streams' phase makes none)
            first_a += [payment(y, 250.0, T0 + 20 * MIN), payment(y, 250.0, T0 + 22 * MIN)]
            rest_a.append(payment(x, 310.0 if args.mode == "keep" else 0.5, x_at + 2 * MIN))
            if drain_ahead:  # Z's run of v1 started before T, draining in PA's record, ended
                # by a large payment after the takeover: the drain completes it
                z = cards(pa, 1, "cz")[0]
                first_a.append(payment(z, 300.0, T - 30000))
                rest_a.append(payment(z, 310.0, T0 + end_a * MIN + 40000))
            first_a += [e for e in rest_a if e["ts"] < T0 + end_a * MIN]
            rest_a = [e for e in rest_a if e["ts"] >= T0 + end_a * MIN]
            first_a.sort(key=lambda e: e["ts"])
        rest_a.sort(key=lambda e: e["ts"])
        rest_b = stream(cb, T0 + end_b * MIN, T0 + 90 * MIN, 30000)
        every = first_a + first_b + rest_a + rest_b
        before = [e for e in every if e["ts"] < T]
        after = [e for e in every if T <= e["ts"] < T2]
        v1_all = cep_run(args, rules, every, "all")
        v1_before = cep_run(args, rules, before, "before")
        v2_after = cep_run(args, v2, after, "after")
        if args.mode == "keep":  # pairs ending before T are v1's, the others (until T2) v2's
            upto = [e for e in every if e["ts"] < T2]
            ends = lambda r: json.loads(r)["@end"] < iso(T)  # noqa: E731
            v1_pairs = [r for r in cep_run(args, rules, upto, "upto") if '"Pair"' in r and ends(r)]
            v2_after = [r for r in cep_run(args, v2, upto, "upto") if not ends(r)]
        if args.mode == "drain":  # v1's runs started before T go on
            v1_pairs = [r for r in v1_all if '"Pair"' in r and json.loads(r)["@start"] < iso(T)]
        else:
            v1_pairs = [r for r in v1_before if '"Pair"' in r]
        v2_after = [r for r in v2_after if '"Card10m"' not in r]  # pair's, up to T2
        if undeploy:  # no v2: pair's records are v1's that started before T
            v2_after = []
        if args.ahead and not undeploy:
            check(any(f'"{x}"' in r for r in v2_after),
                  "the expectation has X's pair of v2 (its run in PA's record)")
        if drain_ahead:
            check(any(f'"{z}"' in r for r in v1_pairs),
                  "the expectation has Z's pair of v1 (its draining run in PA's record)")
        windows = []
        if args.aggregates and args.mode == "drain":  # windows split by their start at T:
            # v1's that started before T (over every event), v2's that start from T on
            v1_windows = [r for r in v1_all if '"Card10m"' in r and
                          json.loads(r)["@start"] < iso(T)]
            v2_windows = [r for r in cep_run(args, v2, [e for e in every if e["ts"] >= T],
                                             "from_t") if '"Card10m"' in r and
                          json.loads(r)["@start"] >= iso(T)]
            windows = v1_windows + v2_windows
            check(any('"ca-' in r and json.loads(r)["@start"] < iso(T) <= json.loads(r)["@end"]
                      for r in v1_windows) and any('"ca-' in r for r in v2_windows),
                  "the expectation has v1's windows of PA's cards open at T and v2's after T")
        elif args.aggregates:  # v1's windows that ended before T (fresh drops the one open at
            # T), v2's over the events from T on
            v1_windows = [r for r in v1_before if '"Card10m"' in r and
                          json.loads(r)["@end"] <= iso(T)]
            v2_windows = [r for r in cep_run(args, v2, [e for e in every if e["ts"] >= T],
                                             "from_t") if '"Card10m"' in r]
            windows = v1_windows + v2_windows
            check(any('"ca-' in r and json.loads(r)["@end"] > iso(T0 + 10 * MIN)
                      for r in v1_windows) and any('"ca-' in r for r in v2_windows),
                  "the expectation has v1's windows of PA's cards between its watermark and T "
                  "and v2's after T")
        expected = collections.Counter(
            [r for r in v1_all if '"Unconfirmed"' in r] + v1_pairs + v2_after + windows)
        across = {"keep": v2_after, "drain": v1_pairs, "fresh": []}[args.mode]
        check((undeploy or any('"second":0.5' in r or '"v2"' in r for r in v2_after)) and
              any('"second":250' in r for r in v1_pairs) and
              any(f'"{w}"' in r for r in across) == (args.mode != "fresh"),
              f"the expectation has v1's pairs before T ({args.mode}: W's across T "
              f"{'dropped' if args.mode == 'fresh' else 'kept'}) and v2's after it"
              f"{' (--undeploy: none)' if undeploy else ''}")

        bed.produce("payments", enc(first_a), key=key)
        bed.produce("payments", enc(first_b), key=key)
        wait_for("A and B read the first part",
                 lambda: consumed(port_a) >= len(first_a) and consumed(port_b) >= len(first_b))
        if args.ahead:  # A applied the deploy; B did not reach it
            wait_for(f"A's watermark about T0+{end_a} min",
                     lambda: watermark(port_a, pa) >= (T0 + (end_a - 1) * MIN) / 1000)
            a.wait_log("undeploy of pair (drain) applied at event time " + iso(T) if undeploy
                       else f"; {args.mode}) applied at event time {iso(T)}")
            if args.from_changelog:
                b.wait_log(f"; {args.mode}) applied at event time {iso(T)}")
            else:
                check("applied at event time" not in b.log(), "B applied no rule change")
        else:
            wait_for("B's watermark about T0+60 min",
                     lambda: watermark(port_b, pb) >= (T0 + 59 * MIN) / 1000)

        if args.between and not args.ahead:  # B applied the deploy before the takeover
            b.wait_log(f"; {args.mode}) applied at event time {iso(T)}")
            check("applied at event time" not in a.log(), "A applied no rule change")

        if args.from_changelog:
            return from_changelog(args, bed, rules, a, b, port_a, port_b, pa, pb, T,
                                  expected, rest_a, rest_b)

        out_before = 0  # --restart: B's records before its restart
        if args.restart:
            # B is killed once idle (a checkpoint committed after its last record: its open
            # transaction holds none) and starts again from its folder before its session
            # times out: the group gives PB back to it, and it restores PB's record, written
            # under v2, with the deploy applied first. Then A leaves and B takes PA over.
            at = committed(port_b)
            wait_for("a checkpoint of B commits once it is idle", lambda: committed(port_b) > at)
            out_before = metric(port_b, "cep_output_records_total") or 0
            b.proc.kill()
            b.proc.wait(timeout=30)
            bed.servers.remove(b)
            b = bed.serve(serve_args("state-b"), name="b2")
            port_b = os.path.join(args.workdir, "b2.port")
            wait_for("B holds PB again after its restart",
                     lambda: assigned(port_b) == {pb} and assigned(port_a) == {pa}, timeout=60)
            b.wait_log(f"took over payments[{pb}]")
            check(f"payments[{pb}]: the rules topic's changes due up to their records' watermark "
                  in b.log() and "applied before their keys are restored (1 change)" in b.log(),
                  "B's log: the deploy applied before PB's keys are restored")
            out_a = metric(port_a, "cep_output_records_total") or 0
            check(a.stop() == 0, "A stops with SIGTERM, exit 0")
            bed.servers.remove(a)
            b.wait_log(f"took over payments[{pa}]", timeout=60)
        else:
            # 1. A leaves: B takes PA over, 50 minutes behind it.
            out_a = metric(port_a, "cep_output_records_total") or 0
            check(a.stop() == 0, "A stops with SIGTERM, exit 0")
            bed.servers.remove(a)
            b.wait_log(f"took over payments[{pa}]", timeout=60)
        if drain_ahead:
            check(f"payments[{pa}]: taken over ahead of this member (its watermark " in b.log() and
                  " (draining) wait for the rules topic's change due at "
                  f"{iso(T)} that drains pair, which their writer had applied" in b.log(),
                  "B's log: PA taken over ahead, its v1 keys marked draining wait for the drain")
        if undeploy:  # no version of pair comes: only the draining keys wait
            check(f"payments[{pa}]: catching up" not in b.log() and
                  "wait for the rules topic's deploy of " not in b.log(),
                  "B's log: PA taken over ahead, no key waits for a deploy")
        elif args.ahead:
            check(f"payments[{pa}]: catching up" not in b.log() and
                  f"payments[{pa}]: taken over ahead of this member (its watermark " in b.log() and
                  "keys of pair " in b.log() and
                  f"wait for the rules topic's deploy of " in b.log() and
                  f"due at {iso(T)}, which their writer had applied" in b.log(),
                  "B's log: PA taken over ahead, its v2 keys wait for the pending deploy")
        else:
            check(f"payments[{pa}]: catching up: its watermark" in b.log(),
                  "B's log: PA catches up on its own")
        if args.retention:  # the deploy dropped from B's history: PA's set is the served one
            check(f"rules history: the deploy of " in b.log() and
                  f"due at {iso(T)} is dropped from the changes a catch-up replays: it is more "
                  "than --rule-history-retention 10m of event time behind this member" in b.log(),
                  "B's log: the deploy is dropped from its history")
            check(f"payments[{pa}]: catching up: its watermark" in b.log() and
                  "(served now: its watermark is before rule changes dropped from this member's "
                  f"history (due up to {iso(T)}" in b.log() and
                  "the rules topic's changes the member applied after it" not in b.log(),
                  "B's log: PA's catch-up falls back to the versions served now")
            check(metric(port_b, "cep_kafka_rule_history_dropped_total") == 1 and
                  metric(port_b, "cep_kafka_rule_history_changes") == 0,
                  "/metrics: one change dropped, none kept")
            check(b.stop() == 0, "B stops with SIGTERM, exit 0")
            bed.servers.remove(b)
        elif args.between and not args.ahead:
            check("its versions (as of its watermark): unconfirmed " in b.log() and
                  "the rules topic's changes the member applied after it are applied here at "
                  "their times: the deploy of " in b.log() and
                  f"({args.mode}) at {iso(T)}" in b.log(),
                  "B's log: PA's catch-up starts from the versions before the deploy, applies "
                  "it at T")

        if args.retention:
            return 1 if failures else 0
        if args.stop_before:
            return stop_before_drain(args, bed, b, port_b, pa, pb, serve_args, T, expected,
                                     rest_a, rest_b, out_a)

        # 2. PB passes T: B applies the change; PA's catch-up holds it for its own time.
        bed.produce("payments", enc(rest_b), key=key)
        if undeploy:  # B's watermark passes T: B applies the undeploy (drain), PA's draining
            # keys go into B's draining pair
            b.wait_log("undeploy of pair (drain) applied at event time " + iso(T))
            check(f"payments[{pa}]: its draining keys held for the undeploy of pair (drain) "
                  f"restored into the draining version at event time {iso(T)}: pair " in b.log()
                  and "NOT restored" not in b.log(),
                  "B's log: B applied the undeploy at T, PA's draining keys restored into the "
                  "draining v1")
        elif args.ahead:  # B's watermark (PA's, about T0+60 min) passes T: PA's v2 keys go in
            b.wait_log(f"payments[{pa}]: its keys held for the deploy of ")
            check(f"({args.mode}) restored into it at event time {iso(T)}: " in b.log(),
                  "B's log: PA's held keys restored into v2 when B applies the deploy at T")
            if drain_ahead:
                check(f"payments[{pa}]: its draining keys held for the deploy of " in b.log() and
                      f"(drain) restored into the draining version at event time {iso(T)}: "
                      "pair " in b.log() and "NOT restored" not in b.log(),
                      "B's log: PA's draining keys restored into the draining v1 at T")
        else:
            b.wait_log("undeploy of pair (drop) applied at event time 2026-01-05T11:20:00.000Z")
            check(f"payments[{pa}]: catching up at " in b.log(),
                  "B's log: PA's catch-up holds the change for its own watermark")
            check(metric(port_b, "cep_kafka_partition_catching_up", topic="payments",
                         partition=str(pa)) == 1, "/metrics: PA still catches up")

        # 3. PA's rest: its catch-up applies the change at T, then merges.
        bed.produce("payments", enc(rest_a), key=key)
        far = T0 + 24 * 60 * MIN
        for p in range(2):
            bed.produce("payments", [json.dumps({"@watermark": far}).encode()], partition=p)
        wait_for("B's watermark far in both partitions",
                 lambda: all(watermark(port_b, p) >= far / 1000 - 1 for p in range(2)))
        if not args.ahead:
            check(f"payments[{pa}]: catching up: the deploy of" in b.log() and
                  f"({args.mode}) applied at event time {iso(T)}" in b.log(),
                  "B's log: PA's catch-up applied the change at T")
            check(f"payments[{pa}]: catching up: the undeploy of pair (drop) applied at event "
                  "time 2026-01-05T11:20:00.000Z" in b.log(),
                  "B's log: PA's catch-up applied the drop at T2")
            check(f"payments[{pa}]: caught up with this member" in b.log(),
                  "B's log: PA caught up and merged")
        rejected = metric(port_b, "cep_rules_messages_total", result="rejected") or 0
        check(rejected == 0, f"/metrics: the rules topic rejected nothing ({rejected:.0f})")
        if args.mode == "drain" and not args.ahead:
            check("pair replaced (drain): the old version drains" in b.log(),
                  "B's log: PA's old `pair` drains in its catch-up")

        no_late_after_checkpoint(port_b, "B")
        out_b = out_before + (metric(port_b, "cep_output_records_total") or 0)
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        bed.servers.remove(b)
        got = collections.Counter(strip_version(r) for r in bed.consume("alerts"))
        check(out_a + out_b == sum(got.values()),
              f"/metrics: A's and B's cep_output_records_total ({out_a:.0f} + {out_b:.0f}) "
              f"count every alert ({sum(got.values())})")
        check_alerts(got, expected, "A and B (the cep runs split at the changes)")
        if failures:
            print(b.log()[-4000:], file=sys.stderr)

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
