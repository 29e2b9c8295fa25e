#!/usr/bin/env python3
"""A member killed mid-stream (tests/kafka/README.md, docs/kafka.md "Scale-out", #12 §4): two
`cep serve --scale-out --state` processes of group `fraud` share a 4-partition topic; one is
SIGKILLed with input left in its partitions; the survivor takes them and restores their state
from the changelog topic `fraud-state`; the alerts equal `cep run`'s on the same events.

The fraud example (rules payments.cep and accounts.cep; a Payment keyed by its card, every
other event by its user, as the patterns are partitioned) goes in as follows:

  1. A starts, then B (once A's transactions are initialised: their transaction labels'
     bases, a time in ms, must differ); they split the partitions two and two (no data yet);
  2. a first part of the stream (about its first 6%, every event of it earlier than every
     later one), then `{"@watermark": T1}` into every partition, T1 its last time;
  3. the rest's events of A's partitions up to a cut C (the event time the most of
     their multi-event matches straddle, from `cep run --with-events`, followed by 6 s without
     an event of A's), then four crafted payments out of order: in A's first partition small
     ones at C+3 s and C+2.5 s around a large one at C (a HighRisk alert), in its second a
     small one at C+2.6 s. A releases the large one and holds the small ones, so the record
     of its first partition resumes before the large one: B reads it again and must skip it,
     not alert twice. A is SIGKILLed as soon as a checkpoint cut after it read all of that
     commits (the condition: `cep_kafka_transactions_total{outcome="committed"}` grew by
     two); the rest of A's partitions is left unread (input left);
  4. B's session with A's partitions: the group gives them to B after A's session timeout
     (6 s here); B reads their latest records from `fraud-state` (its log names each, with the
     transaction) and resumes at their offsets;
  5. what is left of A's partitions, the rest of B's own, a far watermark per
     partition (every window closes, as at the end of cep run's file). B stops with SIGTERM.

B's own partitions get the rest only after the takeover: B stands at T1 while A's partitions
went on past it, so the partitions taken over are ahead of B and merge at once. The other case
(the taker ahead of a partition, which then catches up on its own: docs/kafka.md "A partition
taken over behind the member") is check_catchup.py's.

What librdkafka 2.0.2's mock cluster cannot show (as check_exactly_once.py): it writes no
transaction markers, so the records of A's transaction open at the kill stay visible, and
the changelog records of it too, if A wrote them before it died. So which of A's
transactions count is read from B's log: A's transactions up to the latest one whose
changelog record B restored (label BASE-SEQ: A's BASE, SEQ at most the highest B names) are
the history B goes on from; A's later records are duplicates in an aborted transaction
(counted and printed; each must be one of cep run's records). B's records all committed (B
stops cleanly).

Checks: B skips the message it reads again that A had matched (logged, counted in
cep_kafka_replayed_skipped_total); the records counted equal cep run's exactly (as a
multiset: with 4 partitions the arrival order, the last output sort key, differs): none
lost, none twice; B's log names
each of A's partitions taken over with state (keys) from A's transactions; /metrics of B
say it holds the four partitions and judged no event late.
"""

import collections
import json
import os
import re
import sys
import subprocess
import zlib

from kafka_bed import (LABEL, KafkaBed, check, example_case, failures, metric, parse_output,
                       payment_key, run_records, strip_version, wait_for)


def main():
    args, rules, events_path, events, records, last = example_case(
        lambda ap: ap.add_argument("--workers", default="1"),
        rule_files=("payments.cep", "accounts.cep"))
    expected = collections.Counter(records)

    def run_with(extra):
        """cep run's records of the example with `extra` events put in at their times, less
        those of the example alone (what `extra` adds)."""
        path = os.path.join(args.workdir, "events-extra.jsonl")
        merged = list(events)
        for e in extra:  # after the last event not later than it: nothing after it is late
            t = json.loads(e)["ts"]
            at = max((i + 1 for i, m in enumerate(merged) if json.loads(m)["ts"] <= t),
                     default=0)
            merged.insert(at, e)
        with open(path, "wb") as f:
            f.write(b"".join(e + b"\n" for e in merged))
        more = subprocess.run([args.cep, "run", *rules, "--input", path, "--max-delay", "2s"],
                              capture_output=True, timeout=120)
        check(more.returncode == 0, "cep run on the example with the crafted events exits 0")
        return collections.Counter(run_records(more.stdout)) - expected
    times = [json.loads(e)["ts"] for e in events]
    last = max(times)
    # The first part: up to the first split after the first ~6% of the events where every
    # later event is later than every earlier one (a watermark at its last time, T1, makes
    # none of the rest late).
    half = next(i for i in range(len(events) // 16, len(events))
                if max(times[:i]) < min(times[i:]))
    t1 = max(times[:half])
    # The matches that need state across the kill: cep run's records made of events over a
    # span of time, with their key's partition (for the cut, once A's partitions are known).
    spans = []
    with_events = subprocess.run([args.cep, "run", *rules, "--input", events_path,
                                  "--max-delay", "2s", "--with-events"],
                                 capture_output=True, timeout=120)
    for line in with_events.stdout.decode().splitlines():
        record = json.loads(line)
        ts = sorted(e["ts"] for group in record["@events"].values()
                    for e in (group if isinstance(group, list) else [group]))
        if len(ts) > 1 and isinstance(record["@key"], str):
            spans.append((ts, zlib.crc32(record["@key"].encode()) % 4))

    def partition_of(value):  # librdkafka's default partitioner, as kcat keys: CRC32 mod 4
        return zlib.crc32(payment_key(value).encode()) % 4

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:4"]) as bed:
        config = os.path.join(args.workdir, "group.properties")
        with open(config, "w") as f:
            # A killed member's partitions move after its session times out: 6 s, not 45.
            f.write("session.timeout.ms=6000\nheartbeat.interval.ms=500\n")

        def serve_args(state):
            return [*rules, "-i", bed.url("payments", group="fraud"), "-o", bed.url("alerts"),
                    "--max-delay", "2s", "--state", os.path.join(args.workdir, state),
                    "--checkpoint-every", "500ms", "--scale-out", "--kafka-config", config,
                    "--workers", args.workers]

        a = bed.serve(serve_args("state-a"), name="a")
        # B after A's transactions are initialised (a transaction label's base is the time of
        # that in ms and six random digits; the two must differ, checked below).
        a.wait_log("transactions initialised")
        b = bed.serve(serve_args("state-b"), name="b")
        port_a, port_b = (os.path.join(args.workdir, n + ".port") for n in ("a", "b"))

        def assigned(port):
            return {p for p in range(4) if metric(port, "cep_kafka_partition_assigned",
                                                  topic="payments", partition=str(p)) == 1}
        wait_for("A and B hold two partitions each",
                 lambda: len(assigned(port_a)) == 2 and len(assigned(port_b)) == 2 and
                 not assigned(port_a) & assigned(port_b), timeout=60)
        parts_a = sorted(assigned(port_a))
        parts_b = sorted(assigned(port_b))
        print(f"      A holds payments{parts_a}, B payments{parts_b}", flush=True)

        def consumed(port):
            return metric(port, "cep_kafka_messages_consumed_total", topic="payments") or 0

        # 2. The first part, then a watermark at its last time in every partition.
        bed.produce("payments", events[:half], key=payment_key)
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": t1}).encode()], partition=p)
        wait_for("A and B read the first part",
                 lambda: consumed(port_a) + consumed(port_b) >= half + 4)

        # 3. A's partitions go on alone; A is killed after a committed checkpoint that
        # follows its reading all of that part, with the rest of its partitions unread.
        rest = events[half:]
        of_a = [e for e in rest if partition_of(e) in parts_a]
        of_b = [e for e in rest if partition_of(e) in parts_b]
        # The cut in A's partitions: the event time C that the most of A's stateful matches
        # straddle (an event a minute or more before C, A's watermark past it at the kill, and
        # one after C): skipping the restore loses them (checked by hand).
        def straddling(c):
            return sum(1 for ts, p in spans if p in parts_a and ts[0] <= c - 60000 < c < ts[-1])
        # Followed by 6 s without an event of A's partitions (room for the crafted ones below).
        times_a = sorted({json.loads(e)["ts"] for e in of_a})
        cut = max((c for c, after in zip(times_a, times_a[1:]) if after - c >= 6000),
                  key=straddling)
        check(straddling(cut) >= 1, f"matches of A's partitions straddle the kill "
              f"({straddling(cut)}, cut at {cut})")
        first = [e for e in of_a if json.loads(e)["ts"] <= cut]
        left = [e for e in of_a if json.loads(e)["ts"] > cut]
        # Out of order at the end of it, so that A releases a message while it still holds
        # one before it in its partition (the record resumes at the held one: the released
        # one is read again by B, which must skip it, not match it twice): in A's first
        # partition small payments at X+3 s and X+2.5 s around a large one at X, in its second
        # a small one at X+2.6 s. A's watermark goes to X+0.499 s: the large one (a HighRisk
        # alert) is released, the small ones are held. Each its own card. Nothing of A's
        # partitions is between the cut and X+6 s, so the rest comes after them.
        x = cut + 1

        def card_in(partition, n):
            return [c for c in (f"c-replay-{i}" for i in range(10000))
                    if zlib.crc32(c.encode()) % 4 == partition][n]

        def payment(card, amount, ts):
            return json.dumps({"@type": "Payment", "card": card, "amount": amount,
                               "country": "GB", "merchant": "m-replay", "order_id": "o-" + card,
                               "ts": ts}).encode()
        p, q = parts_a
        crafted = [payment(card_in(p, 0), 5.0, x + 3000), payment(card_in(p, 1), 500.0, x),
                   payment(card_in(p, 2), 5.0, x + 2500), payment(card_in(q, 0), 5.0, x + 2600)]
        expected.update(run_with(crafted))
        before = consumed(port_a)
        # The second partition's small one after the rest: else A may read it first, and
        # the large one would be late.
        bed.produce("payments", first + crafted[:3], key=payment_key)
        wait_for("A reads the next part of its partitions",
                 lambda: consumed(port_a) >= before + len(first) + 3)
        bed.produce("payments", crafted[3:], key=payment_key)
        wait_for("A reads the last one", lambda: consumed(port_a) >= before + len(first) + 4)

        def committed(port):
            return metric(port, "cep_kafka_transactions_total", outcome="committed") or 0
        at = committed(port_a)
        # Two commits: the first may be of a checkpoint cut before the last reads.
        wait_for("a checkpoint of A cut after that commits", lambda: committed(port_a) > at + 1)
        a.proc.kill()
        a.proc.wait()
        log_a = a.log()
        labels_a = {lab for lab, _ in parse_output(bed.consume("alerts", "%h\\t%s\\n"))}
        check(len(b.log()) > 0, "B runs on")
        mark = len(b.log())

        # 4. B takes A's partitions with their state.
        def took_over():
            return re.findall(r"took over payments\[(\d)\]: state from the changelog topic "
                              r"fraud-state \(transaction (\d+)-(\d+) of [^,]+, (\d+) keys",
                              b.log()[mark:])
        wait_for("B takes A's partitions over from the changelog",
                 lambda: {int(p) for p, *_ in took_over()} >= set(parts_a), timeout=60)
        taken = took_over()
        check(sorted({int(p) for p, *_ in taken}) == parts_a,
              f"B took over A's partitions {parts_a} with their state from fraud-state")
        keys = sum(int(k) for *_, k in taken)
        check(keys > 0, f"they bring keys with them ({keys})")
        bases = {base for _, base, _, _ in taken}
        base_a = bases.pop() if len(bases) == 1 else None
        check(base_a is not None and any(l and l.startswith(base_a + "-") for l in labels_a),
              f"their state was written by A's transactions ({base_a})")
        upto = max(int(seq) for _, _, seq, _ in taken)
        check(assigned(port_b) == {0, 1, 2, 3},
              "/metrics: B holds the four partitions (cep_kafka_partition_assigned)")

        # 5. The rest of A's partitions, the rest of B's own, then a far watermark.
        bed.produce("payments", left, key=payment_key)
        bed.produce("payments", of_b, key=payment_key)
        for p in range(4):  # every window closes, as at the end of cep run's file
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)

        def counted(output):
            """A's records up to the transaction B went on from, and every one of B's."""
            kept, dropped = collections.Counter(), collections.Counter()
            for label, record in output:
                m = LABEL.match(label or "")
                mine_a = m is not None and m.group(1) == base_a
                if mine_a and int(m.group(2)) > upto:
                    dropped[strip_version(record)] += 1
                else:
                    kept[strip_version(record)] += 1
            return kept, dropped

        # Done when B's watermark is the far one in every partition and a checkpoint's
        # transaction has committed since (whatever the alerts then are).
        far = (last + 86400000) / 1000

        def watermark(p):
            return metric(port_b, "cep_input_watermark_seconds", input=f"payments[{p}]") or 0
        total = sum(expected.values())
        wait_for("B's watermark past the end in every partition",
                 lambda: all(watermark(p) >= far - 1 for p in range(4)), timeout=60)
        at = committed(port_b)
        wait_for("a checkpoint of B commits after that", lambda: committed(port_b) > at)
        skipped = metric(port_b, "cep_kafka_replayed_skipped_total", topic="payments") or 0
        check(skipped >= 1 and "messages read again before offset" in b.log(),
              f"B skipped what it read again that A had matched ({skipped:.0f}; logged)")
        late = sum(metric(port_b, "cep_input_records_total", input=f"payments[{p}]",
                          outcome="late") or 0 for p in range(4))
        check(late == 0, f"/metrics: B judged no event late ({late:.0f})")
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        bed.servers.remove(b)
        output = parse_output(bed.consume("alerts", "%h\\t%s\\n"))
        bases_seen = {LABEL.match(label).group(1) for label, _ in output
                      if LABEL.match(label or "")}
        check(len(bases_seen) == 2, f"A's and B's transaction labels differ ({bases_seen})")
        kept, dropped = counted(output)
        check(kept == expected,
              f"the alerts of A (up to transaction {base_a}-{upto}) and B equal cep run's "
              f"{total} records: none lost ({sum((expected - kept).values())}), none twice "
              f"({sum((kept - expected).values())})")
        for r in (expected - kept) + (kept - expected):
            print(f"      differs: {r}", flush=True)
        check(all(r in expected for r in dropped),
              f"A's later records are duplicates of cep run's, in the transaction open at the "
              f"kill ({sum(dropped.values())} records)")
        if failures:
            print(log_a[-2000:], file=sys.stderr)
            print(b.log()[-3000:], file=sys.stderr)

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
