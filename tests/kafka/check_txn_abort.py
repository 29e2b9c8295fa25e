#!/usr/bin/env python3
"""An abortable transaction error rewinds `cep serve --state` to its last committed checkpoint
(tests/kafka/README.md, docs/kafka.md "Exactly once").

The fraud example stream is in a 4-partition topic; the mock is told to refuse the next 2 Produce
requests (MESSAGE_TOO_LARGE: a delivery the transaction needs fails, so it must be aborted); then
`cep serve --state` reads the topic into another. Each refused request fails the transaction of
the moment: the server aborts it and runs again from its last committed checkpoint (the state
and the partitions' offsets), as a restart would, in the same process. Checks: the log says so
(aborted, rewinding, the pending checkpoint discarded); the records of committed transactions
equal `cep run`'s exactly; the aborted ones are counted in /metrics
(cep_kafka_transactions_total{outcome="aborted"}, kept across the rewinds); a dead-letter FILE
beside the Kafka output is cut back to its checkpointed length at each rewind (one dead letter
in it at the end); SIGTERM exits 0.
"""

import collections
import json
import os
import re
import sys
import urllib.request

from kafka_bed import KafkaBed, check, example_case, failures, payment_key, strip_version, wait_for


def main():
    args, rules, events_path, events, records, last = example_case()
    expected = collections.Counter(records)

    dead_path = os.path.join(args.workdir, "dead.jsonl")
    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:4"]) as bed:
        bed.produce("payments", [b"not json"], partition=0)  # a dead letter, into a FILE
        bed.produce("payments", events, key=payment_key)
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        bed.command("errors 0 10 2")  # the next 2 Produce requests: MESSAGE_TOO_LARGE
        server = bed.serve([*rules, "-i", bed.url("payments", group="fraud"),
                            "-o", bed.url("alerts"), "--max-delay", "2s",
                            "--dead-letter", dead_path,
                            "--state", os.path.join(args.workdir, "state"),
                            "--checkpoint-every", "200ms"])

        def committed():
            log = server.log()
            aborted = set(re.findall(r"Kafka transaction aborted; rewinding to the last committed "
                                     r"checkpoint: transaction (\d+-\d+)", log))
            out = collections.Counter()
            for line in bed.consume("alerts", "%h\\t%s\\n"):
                headers, record = line.split("\t", 1)
                label = re.search(r"cep-txn=(\d+-\d+)", headers)
                if label and label.group(1) not in aborted:
                    out[strip_version(record)] += 1
            return out, aborted

        wait_for("the committed alerts", lambda: sum(committed()[0].values()) >=
                 sum(expected.values()), timeout=60)
        port = open(os.path.join(args.workdir, "serve.port")).read().strip()
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        got, aborted = committed()
        check(server.stop() == 0, "SIGTERM: exit 0")
        log = server.log()
        check(len(aborted) >= 1 and "rewinding: starting again from the last committed "
              "checkpoint" in log, f"the failed transactions were aborted and the server "
              f"rewound ({len(aborted)} times)")
        check("it is discarded for the checkpoint before it" in log,
              "the checkpoint written before an aborted transaction is discarded")
        check(got == expected, f"the records of committed transactions equal cep run's "
              f"({sum(expected.values())}): lost {sum((expected - got).values())}, twice "
              f"{sum((got - expected).values())}")
        m = re.search(r'cep_kafka_transactions_total\{outcome="aborted"\} (\d+)', metrics.decode())
        check(m is not None and int(m.group(1)) == len(aborted),
              f"metrics: aborted transactions counted across the rewinds "
              f"({m.group(1) if m else None})")
        check(re.search(r'cep_kafka_transactions_total\{outcome="committed"\} [1-9]',
                        metrics.decode()) is not None, "metrics: committed transactions")
        check("cep_kafka_checkpoint_commit_seconds_count" in metrics.decode(),
              "metrics: checkpoint-to-commit latency")
        with open(dead_path, encoding="utf-8") as f:
            dead = f.read().splitlines()
        check(len(dead) == 1 and '"offset":0' in dead[0],
              f"a file output beside the Kafka one is cut back on each rewind: one dead letter "
              f"(got {len(dead)})")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
