#!/usr/bin/env python3
"""A start from the changelog without `--scale-out` whose partitions' records are at different
watermarks (tests/kafka/README.md, docs/kafka.md "A partition taken over behind the member",
#12): the partition behind catches up on its own, its aggregate windows are not taken as fired.

As check_catchup.py (its rules with the aggregate `card_10m`, its helpers), group `cb`:

  1. `--scale-out` members A and B hold one partition each; A's PA gets payments up to T0+10
     min, B's PB up to T0+60 min (cards of PA with windows open at T0+10);
  2. A stops (B takes PA over and catches it up), then B stops while PA still catches up: the
     changelog holds PA's record at about T0+10 min, PB's at about T0+60 min;
  3. C, `cep serve --state` WITHOUT `--scale-out` and with an empty folder, restores both from
     the changelog topic: PA catches up on its own (logged) and merges; PA's rest (T0+10 to
     T0+90 min), PB's rest and a far watermark; C stops.

Checks: the alerts of A, B and C (windows of `card_10m` among them) equal `cep run`'s over the
same events exactly (as a multiset); C judged no event late. Without the catch-up at that
start (every partition restored together under the latest aggregate header, as before), PA's
windows from T0+10 to T0+60 min are taken as fired and its events there late: the alerts
differ (checked by hand).
"""

import collections
import json
import os
import sys

from check_catchup import (MIN, T0, cards, committed, consumed, enc, expected_records, key,
                           no_late_after_checkpoint, setup, stream, two_members,
                           watermark)
from kafka_bed import KafkaBed, check, check_alerts, failures, strip_version, wait_for


def main():
    args, rules = setup()
    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:2", "alerts:2"]) as bed:
        a, b, port_a, port_b, pa, pb, _ = two_members(bed, args, rules, "cb")

        ca, cb = cards(pa, 4, "ca"), cards(pb, 6, "cb")
        first_a = stream(ca, T0, T0 + 10 * MIN + 1, 15000)
        first_b = stream(cb, T0, T0 + 60 * MIN, 30000)
        rest_a = stream(ca, T0 + 10 * MIN + 15000, T0 + 90 * MIN, 15000)
        rest_b = stream(cb, T0 + 60 * MIN, T0 + 90 * MIN, 30000)
        expected = expected_records(args, rules, first_a + first_b + rest_a + rest_b)
        check(any('"Card10m"' in r and f'"{ca[0]}"' in r for r in expected),
              "cep run: PA's cards have card_10m windows")

        # 1. PA up to T0+10 min, PB up to T0+60 min.
        bed.produce("payments", enc(first_a), key=key)
        bed.produce("payments", enc(first_b), key=key)
        wait_for("A and B read the first part",
                 lambda: consumed(port_a) >= len(first_a) and consumed(port_b) >= len(first_b))
        wait_for("B's watermark about T0+60 min",
                 lambda: watermark(port_b, pb) >= (T0 + 59 * MIN) / 1000)

        # 2. A stops, B takes PA (catching up), B stops: both records in the changelog.
        check(a.stop() == 0, "A stops with SIGTERM, exit 0")
        bed.servers.remove(a)
        b.wait_log(f"payments[{pa}]: catching up", timeout=60)
        at = committed(port_b)
        wait_for("a checkpoint of B commits after the takeover", lambda: committed(port_b) > at)
        check(b.stop() == 0, "B stops with SIGTERM, exit 0")
        bed.servers.remove(b)

        # 3. C without --scale-out, an empty folder: both partitions from the changelog.
        c = bed.serve([rules, "-i", bed.url("payments", group="cb"), "-o", bed.url("alerts"),
                       "--max-delay", "2s", "--state", os.path.join(args.workdir, "state-c"),
                       "--checkpoint-every", "300ms"], name="c")
        port_c = os.path.join(args.workdir, "c.port")
        c.wait_log("partitions from the changelog in", timeout=60)
        check(f"payments[{pa}]: catching up: its watermark" in c.log(),
              "C's log: PA, behind PB's record, catches up on its own")
        check(f"payments[{pb}]: catching up" not in c.log(), "C's log: PB does not catch up")
        bed.produce("payments", enc(rest_a), key=key)
        bed.produce("payments", enc(rest_b), key=key)
        far = T0 + 24 * 60 * MIN
        for p in range(2):
            bed.produce("payments", [json.dumps({"@watermark": far}).encode()], partition=p)
        wait_for("C's watermark far in both partitions",
                 lambda: all(watermark(port_c, p) >= far / 1000 - 1 for p in range(2)))
        check(f"payments[{pa}]: caught up with this member" in c.log(),
              "C's log: PA caught up and merged")
        no_late_after_checkpoint(port_c, "C")
        check(c.stop() == 0, "C stops with SIGTERM, exit 0")
        bed.servers.remove(c)
        got = collections.Counter(strip_version(r) for r in bed.consume("alerts"))
        check_alerts(got, expected, "A, B and C")
        if failures:
            print(c.log()[-4000:], file=sys.stderr)

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
