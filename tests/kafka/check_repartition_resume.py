#!/usr/bin/env python3
"""`cep serve --repartition --state`: a repartition partition read again after a restart, from
the --state folder or from the changelog topic, resumes with the watermarks it had heard of the
input's partitions, and at its record's watermark (docs/kafka.md "Repartition", "Watermarks";
tests/kafka/README.md).

The fraud example stream, randomly keyed, is cut in two at an event time T where no event of
the second part is earlier. The first part goes into the 4 partitions of `payments` (by card or
user); input partitions 1 to 3 then get a watermark past the whole stream (they are done),
partition 0 a watermark at T. Two groups read it, each with a server A (`--repartition --state
--max-delay 30d`: only the input's watermarks release events); A matches the first part, its
repartition partitions at T, and stops (SIGTERM: a last checkpoint, its changelog records).
Then one payment earlier than T goes into input partition 1, and the second part and a
watermark past the stream into partition 0 alone. Server B takes over:

  * group rf: B restarts on A's folder (its checkpoint);
  * group rc: B starts with an empty folder (the changelog topic `rc-state`); its first stage
    reads the payment and the second part from a second topic `rest` (the mock stores no
    offsets sent in a transaction: a first stage started without a folder would republish the
    first part again).

Input partitions 1 to 3 say nothing more, so B's watermarks rise only if its repartition
partitions resume with what A's had heard of them. In both groups A's and B's alerts equal
`cep run`'s over the same events (the watermark at T and the early payment after the first
part, as a single input) as a multiset, and the early payment is late (the late output).

Checked by hand: without the heard watermarks in the checkpoint and the changelog records B's
alerts of the second part never come (both groups); without raising a partition restored from
the changelog to its record's watermark, group rc's early payment is matched instead of late.
"""

import json
import os
import random
import subprocess
import sys
import zlib

from kafka_bed import KafkaBed, check, example_case, failures, run_records, strip_version, wait_for


def main():
    args, _, _, events, _, last = example_case()
    rules = [os.path.join(args.example, f) for f in ("payments.cep", "accounts.cep")]
    times = [json.loads(e)["ts"] for e in events]
    cut = len(events) // 2
    while max(times[:cut]) >= min(times[cut:]):
        cut += 1
    first, rest = events[:cut], events[cut:]
    t_cut = max(times[:cut])
    end = last + 86400000
    early = next(json.loads(e) for e in first if json.loads(e).get("@type") == "Payment")
    early["ts"] = t_cut - 60000
    early["amount"] = 7777
    early_line = json.dumps(early, separators=(",", ":")).encode()

    # cep run over the same events as one input: the first part, the watermark at T, the early
    # payment (late), the rest.
    run_input = os.path.join(args.workdir, "run.jsonl")
    with open(run_input, "wb") as f:
        for line in first + [json.dumps({"@watermark": t_cut}).encode(), early_line] + rest:
            f.write(line + b"\n")
    run = subprocess.run([args.cep, "run", *rules, "--input", run_input, "--max-delay", "2s"],
                         capture_output=True, timeout=120)
    check(run.returncode == 0, "cep run over the same events exits 0")
    expected = sorted(run_records(run.stdout))

    rng = random.Random(5)

    def keyed(value):
        return f"r-{rng.randrange(10**9)}"

    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "rest:4", "rf-repartition:4", "rc-repartition:4",
                   "rf-alerts:1", "rc-alerts:1"]) as bed:
        parts = [[], [], [], []]
        for e in first:
            record = json.loads(e)
            parts[zlib.crc32((record.get("card") or record.get("user")).encode()) % 4].append(e)
        for p in range(4):
            mark = t_cut if p == 0 else end
            bed.produce("payments", parts[p] + [json.dumps({"@watermark": mark}).encode()],
                        key=keyed, partition=p)

        def serve(group, state, name, topic="payments"):
            late = os.path.join(args.workdir, state + "-late.jsonl")  # a restart's too
            server = bed.serve([*rules, "-i", bed.url(topic, group=group), "--repartition",
                                "-o", bed.url(group + "-alerts"), "--max-delay", "30d",
                                "--state", os.path.join(args.workdir, state),
                                "--checkpoint-every", "200ms", "--late-output", late], name=name)
            return server, late

        # A of each group matches the first part and stops after two more commits.
        a = {g: serve(g, g + "-a", g + "-a")[0] for g in ("rf", "rc")}
        for g, server in a.items():
            wait_for(f"{g}: A's matching stage read the first part and the 16 watermarks",
                     lambda: server.metric("cep_kafka_messages_consumed_total",
                                           topic=f"{g}-repartition") == len(first) + 16)
            done = server.metric("cep_kafka_transactions_total", outcome="committed") or 0
            wait_for(f"{g}: two more committed transactions", lambda: (server.metric(
                "cep_kafka_transactions_total", outcome="committed") or 0) >= done + 2)
        a_alerts = {}
        for g, server in a.items():
            check(server.stop() == 0, f"{g}: A stops with SIGTERM, exit 0")
            a_alerts[g] = bed.consume(f"{g}-alerts")
            check(0 < len(a_alerts[g]) < len(expected),
                  f"{g}: A wrote the alerts of the first part ({len(a_alerts[g])})")

        for topic in ("payments", "rest"):
            bed.produce(topic, [early_line], key=keyed, partition=1)
            bed.produce(topic, rest + [json.dumps({"@watermark": end}).encode()], key=keyed,
                        partition=0)
        b = {"rf": serve("rf", "rf-a", "rf-b"),
             "rc": serve("rc", "rc-b", "rc-b", topic="rest")}
        b["rc"][0].wait_log("partitions from the changelog")
        for g, (server, late_path) in b.items():
            got = wait_for(f"{g}: {len(expected)} alerts from A and B",
                           lambda: (lambda x: x if len(x) >= len(expected) else None)(
                               bed.consume(f"{g}-alerts")))
            served = sorted(strip_version(r) for r in got)
            check(served == expected,
                  f"{g}: A's and B's alerts equal cep run's ({len(expected)}; {len(served)} "
                  f"served, {len(got) - len(a_alerts[g])} by B)")
            late = wait_for(f"{g}: the early payment in B's late output",
                            lambda: os.path.exists(late_path) and open(late_path).read().strip())
            check("7777" in late and len(late.splitlines()) == 1,
                  f"{g}: the payment earlier than A's watermark is late in B ({late[:120]})")
            check(server.stop() == 0, f"{g}: B stops with SIGTERM, exit 0")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
