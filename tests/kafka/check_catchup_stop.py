#!/usr/bin/env python3
"""A member stopped while a partition it took over catches up (tests/kafka/README.md,
docs/kafka.md "A partition taken over behind the member"): its last checkpoint writes the
partition's changelog record from the catch-up (its keys, its own watermark, where it resumes),
and the next owner goes on from there.

As check_catchup.py (its rules and helpers), group `cs`:

  1. A's partition PA gets payments up to T0+10 min, B's PB up to T0+60 min; A stops; B takes
     PA 50 minutes behind it: PA catches up;
  2. PA's payments up to T0+30 min (card W's first large one at T0+29:00, V's large one at
     T0+29:50): B reads them in the catch-up (its lag gauge falls to about 30 minutes);
  3. B stops with SIGTERM while PA still catches up (no merge in its log); B is started again
     on its folder: the group gives it both partitions from their records (a first assignment:
     no event time yet, both merge at once);
  4. PA's rest (V's confirmation at T0+30:20: V's timer must not fire; W's second large one at
     T0+31: a pair across the stop), PB's rest, a far watermark; B stops.

Checks: the alerts of A, B and B again equal `cep run`'s over the same events exactly (as a
multiset); B judged no event late. Checked by hand: writing PA's record from the member's
matchers instead of the catch-up's (catchUpRecord skipped) loses W's pair and its timeout.
"""

import json
import os
import sys

from check_catchup import (MIN, T0, cards, committed, consumed, enc, expected_records, key,
                           payment, setup, stream, two_members, watermark)
from kafka_bed import KafkaBed, check, check_alerts, failures, metric, strip_version, wait_for

import collections


def main():
    args, rules = setup()
    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:2", "alerts:2"]) as bed:
        a, b, port_a, port_b, pa, pb, serve_args = two_members(bed, args, rules, "cs")

        ca, cb = cards(pa, 6, "ca")[:4], cards(pb, 6, "cb")
        w, v = cards(pa, 2, "cw")
        first_a = stream(ca, T0, T0 + 10 * MIN + 1, 20000)
        first_b = stream(cb, T0, T0 + 60 * MIN, 30000)
        mid_a = stream(ca, T0 + 10 * MIN + 20000, T0 + 29 * MIN, 20000) + [
            payment(w, 300.0, T0 + 29 * MIN),           # its pair after the stop
            payment(v, 500.0, T0 + 29 * MIN + 50000)]   # confirmed after the stop
        rest_a = [payment(v, 0.5, T0 + 30 * MIN + 20000),
                  payment(w, 320.0, T0 + 31 * MIN)] + stream(ca, T0 + 30 * MIN + 40000,
                                                             T0 + 90 * MIN, 20000)
        rest_a.sort(key=lambda e: e["ts"])
        rest_b = stream(cb, T0 + 60 * MIN, T0 + 90 * MIN, 30000)
        expected = expected_records(args, rules, first_a + first_b + mid_a + rest_a + rest_b)
        check(any('"Pair"' in r and f'"{w}"' in r for r in expected) and
              not any('"Unconfirmed"' in r and f'"{v}"' in r for r in expected),
              "cep run: W's pair straddles the stop, V is confirmed after it")

        # 1. B ahead; A leaves; PA catches up in B.
        bed.produce("payments", enc(first_a), key=key)
        bed.produce("payments", enc(first_b), key=key)
        wait_for("A and B read the first part",
                 lambda: consumed(port_a) >= len(first_a) and consumed(port_b) >= len(first_b))
        wait_for("B's watermark about T0+60 min",
                 lambda: watermark(port_b, pb) >= (T0 + 59 * MIN) / 1000)
        check(a.stop() == 0, "A stops with SIGTERM, exit 0")
        bed.servers.remove(a)
        b.wait_log(f"payments[{pa}]: catching up", timeout=60)

        # 2. PA up to T0+30 min, read in the catch-up.
        bed.produce("payments", enc(mid_a), key=key)

        def lag():
            return metric(port_b, "cep_kafka_partition_catch_up_lag_seconds", topic="payments",
                          partition=str(pa))
        wait_for("B's catch-up of PA reads up to T0+30 min", lambda: 0 < (lag() or 0) <= 1800)
        at = committed(port_b)
        wait_for("a checkpoint of B commits after that", lambda: committed(port_b) > at)

        # 3. B stops while PA catches up, and starts again on its folder.
        check(b.stop() == 0, "B stops with SIGTERM during the catch-up, exit 0")
        bed.servers.remove(b)
        check("caught up with this member" not in b.log(),
              "B's log: PA had not merged when B stopped")
        b2 = bed.serve(serve_args("state-b"), name="b2")
        port_b2 = os.path.join(args.workdir, "b2.port")
        b2.wait_log(f"took over payments[{pa}]: state from the changelog topic", timeout=60)
        b2.wait_log(f"took over payments[{pb}]: state from the changelog topic", timeout=60)

        # 4. The rest and a far watermark.
        bed.produce("payments", enc(rest_a), key=key)
        bed.produce("payments", enc(rest_b), key=key)
        far = T0 + 24 * 60 * MIN
        for p in range(2):
            bed.produce("payments", [json.dumps({"@watermark": far}).encode()], partition=p)
        wait_for("B's watermark far in both partitions",
                 lambda: all(watermark(port_b2, p) >= far / 1000 - 1 for p in range(2)))
        at = committed(port_b2)
        wait_for("a checkpoint of B commits after that", lambda: committed(port_b2) > at)
        late = sum(metric(port_b2, "cep_input_records_total", input=f"payments[{p}]",
                          outcome="late") or 0 for p in range(2))
        check(late == 0, f"/metrics: B started again judged no event late ({late:.0f})")
        check(b2.stop() == 0, "B stops with SIGTERM, exit 0")
        bed.servers.remove(b2)
        got = collections.Counter(strip_version(r) for r in bed.consume("alerts"))
        check_alerts(got, expected, "A, B and B again")
        if failures:
            print(b.log()[-3000:], file=sys.stderr)
            print(b2.log()[-3000:], file=sys.stderr)

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
