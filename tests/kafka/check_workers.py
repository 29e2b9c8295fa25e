#!/usr/bin/env python3
"""`cep serve --workers N` with a Kafka input and output and `--state` (docs/serve.md "Workers",
docs/kafka.md; tests/kafka/README.md): the keys matched on N threads, the checkpoints and the
changelog records per partition holding what one worker's hold.

kcat produces the first half of the fraud example stream into a 4-partition topic, keyed as the
patterns are partitioned (payments.cep by card, accounts.cep by user). Two servers read it,
each in a group of its own, with --state and a Kafka output (so each checkpoint's transaction
writes a changelog record per input partition to `<group>-state`):

  O  --workers 1 (group one), alerts to alerts1: the reference;
  W  --workers 2 (group two), alerts to alerts2.

Once both have read the half and committed two more checkpoints:

  * their state (`cep state --server`, taken between two events on the loop: every key's runs
    and bound events) is the same text, but for its first line;
  * W is killed with SIGKILL while idle and its folder thrown away; W3 (--workers 3, another
    transactional.id, an EMPTY folder) restores every partition from `two-state`, written by
    two workers: its state is again O's, key for key (the keys split over three workers);
  * W3 stopped (SIGTERM: its last checkpoint) and started again on its own folder with
    --workers 2 restores from the folder, its state still O's;
  * the second half and a watermark per partition follow: O's alerts, and those of W, W3 and
    W3 again together, each equal `cep run`'s records as a multiset (none lost, none twice).
"""

import collections
import json
import os
import shutil
import subprocess
import sys

from kafka_bed import (KafkaBed, check, example_case, failures, metric, payment_key, strip_version,
                       wait_for)


def main():
    args, rules, _, events, records, last = example_case(
        rule_files=["payments.cep", "accounts.cep"])
    expected = collections.Counter(records)
    total = sum(expected.values())
    half = len(events) // 2
    w = lambda name: os.path.join(args.workdir, name)

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts1:4", "alerts2:4"]) as bed:
        def serve(name, group, alerts, workers, extra=()):
            return bed.serve([*rules, "-i", bed.url("payments", group=group),
                              "-o", bed.url(alerts), "--max-delay", "2s",
                              "--state", w("state-" + name), "--checkpoint-every", "300ms",
                              "--workers", str(workers), *extra], name=name)

        def state_of(server):
            """The server's state listing but its first line (which checkpoint, when)."""
            with open(server.port_file) as f:
                port = f.read().strip()
            p = subprocess.run([args.cep, "state", "--server", f"127.0.0.1:{port}"],
                               capture_output=True, timeout=60)
            check(p.returncode == 0, f"cep state --server exits 0 ({p.stderr.decode()[-300:]})")
            with open(server.port_file[:-len(".port")] + ".state", "wb") as f:  # to look at
                f.write(p.stdout)
            return p.stdout.decode().split("\n", 1)[1]

        def settled(server, consumed):
            wait_for(f"{server.port_file}: {consumed} messages read",
                     lambda: (server.metric("cep_kafka_messages_consumed_total",
                                            topic="payments") or 0) >= consumed)
            committed = server.metric("cep_kafka_transactions_total", outcome="committed") or 0
            wait_for("two more committed checkpoints",
                     lambda: (server.metric("cep_kafka_transactions_total",
                                            outcome="committed") or 0) >= committed + 2)

        bed.produce("payments", events[:half], key=payment_key)
        o = serve("o", "one", "alerts1", 1)
        ww = serve("w", "two", "alerts2", 2)
        ww.wait_log("admin endpoint on")
        settled(o, half)
        settled(ww, half)
        reference = state_of(o)
        check("key " in reference and "run 1:" in reference,
              "the reference holds partial matches at the half")
        check(state_of(ww) == reference,
              "--workers 2: the state at the half is one worker's, key for key")
        check((ww.metric("cep_kafka_changelog_records_total") or 0) >= 4,
              "--workers 2: a changelog record per partition written")

        ww.proc.kill()  # the machine is lost: its process and its folder
        ww.proc.wait()
        ww.stderr.close()
        bed.servers.remove(ww)
        shutil.rmtree(w("state-w"))
        config = w("w3.properties")
        with open(config, "w") as f:
            f.write("transactional.id=cep-two-w3\n")
        w3 = serve("w3", "two", "alerts2", 3, ["--kafka-config", config])
        w3.wait_log("partitions from the changelog")
        log = w3.log()
        check(all(f"partition payments[{p}]: state from the changelog topic two-state" in log
                  for p in range(4)),
              "--workers 3 with an empty folder: every partition's state from two-state")
        check(state_of(w3) == reference,
              "the changelog written by 2 workers restores under 3 workers as one worker's state")
        check(w3.stop() == 0, "W3: SIGTERM, exit 0 (its last checkpoint)")
        w2 = serve("w3", "two", "alerts2", 2, ["--kafka-config", config])
        w2.wait_log("restoring from the --state folder")
        check(state_of(w2) == reference,
              "W3's folder (3 workers) restored under 2 workers: O's state again")

        bed.produce("payments", events[half:], key=payment_key)
        for p in range(4):  # every window closes, as at the end of cep run's file
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        wait_for(f"{total} alerts from O", lambda: len(bed.consume("alerts1")) >= total,
                 timeout=60)
        wait_for(f"{total} alerts from W, W3 and W3 again",
                 lambda: len(bed.consume("alerts2")) >= total, timeout=60)
        settled(o, len(events) + 4)
        settled(w2, len(events) - half + 4)
        for topic, who in [("alerts1", "O (1 worker)"),
                           ("alerts2", "W (2 workers), W3 (3) and W3 again (2)")]:
            got = collections.Counter(strip_version(r) for r in bed.consume(topic))
            check(got == expected,
                  f"{who}: the alerts equal cep run's {total} records: none lost "
                  f"({sum((expected - got).values())}), none twice "
                  f"({sum((got - expected).values())})")
        check(w2.stop() == 0 and o.stop() == 0, "SIGTERM: exit 0")

    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
