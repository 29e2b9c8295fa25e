#!/usr/bin/env python3
"""`cep serve` survives the failures the mock cluster injects, without losing an alert
(tests/kafka/README.md).

One server reads a 4-partition topic in a consumer group and writes alerts to a topic. The fraud
example stream is produced in three parts; after the first, the same rules compiled otherwise
are deployed in keep mode (the admin endpoint works while Kafka flows); between the parts the
mock cluster (tools/kafka-mock) is told to fail: first the next Produce and Fetch requests answer NOT_LEADER_OR_FOLLOWER and
REQUEST_TIMED_OUT (the producer and the consumer retry), then a broker goes down and comes back
up while the server runs (it leads some partitions of both topics). After the last part and a
watermark past the end on each partition, the alerts read back with kcat are exactly `cep run`'s
(as a multiset, "@version" aside): nothing lost, nothing doubled, and no delivery error counted.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

from kafka_bed import KafkaBed, check, example_case, failures, payment_key, strip_version, wait_for

PRODUCE, FETCH = 0, 1  # Kafka API keys
NOT_LEADER, TIMED_OUT = 6, 7  # Kafka error codes


def main():
    args, rules, events_path, events, records, last = example_case()
    expected = sorted(records)

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:4"]) as bed:
        server = bed.serve([*rules, "-i", bed.url("payments", group="faults"),
                            "-o", bed.url("alerts"), "--max-delay", "2s"])
        server.wait_log("assigned partitions 0,1,2,3 of payments")
        port = open(os.path.join(args.workdir, "serve.port")).read().strip()

        def metric(name):
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
            for line in text.decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
            return None

        consumed = 'cep_kafka_messages_consumed_total{topic="payments"}'
        third = len(events) // 3
        bed.produce("payments", events[:third], key=payment_key)
        wait_for("the first part consumed", lambda: metric(consumed) == third)

        # A deploy while Kafka flows (the admin endpoint and the event loop share the wait): the
        # same rules compiled otherwise, in keep mode, take the partial matches over.
        cepo = os.path.join(args.workdir, "v2.cepo")
        compiled = subprocess.run([args.cep, "compile", *rules, "-O", "1", "-o", cepo],
                                  capture_output=True, timeout=120)
        deployed = subprocess.run([args.cep, "deploy", cepo, "--server", f"127.0.0.1:{port}",
                                   "--mode", "keep"], capture_output=True, timeout=60)
        check(compiled.returncode == 0 and deployed.returncode == 0,
              f"a keep deploy between two parts of the stream (got {deployed.stderr!r})")

        bed.command(f"errors {PRODUCE} {NOT_LEADER} 3")
        bed.command(f"errors {FETCH} {TIMED_OUT} 3")
        bed.produce("payments", events[third:2 * third], key=payment_key)
        wait_for("the second part consumed through request errors",
                 lambda: metric(consumed) == 2 * third)

        bed.command("down 2")
        time.sleep(1.5)  # a broker outage of a wall-clock length: nothing to wait for
        bed.command("up 2")
        bed.produce("payments", events[2 * third:], key=payment_key)
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        wait_for("everything consumed after the broker came back",
                 lambda: metric(consumed) == len(events) + 4)
        got = wait_for(f"{len(expected)} alerts on the topic",
                       lambda: (lambda a: a if len(a) >= len(expected) else None)(
                           bed.consume("alerts")))
        time.sleep(0.5)  # would a duplicate come late? (bounded; the count is checked again)
        got = bed.consume("alerts")
        check(sorted(strip_version(r) for r in got) == expected,
              f"the alerts equal cep run's ({len(expected)}): none lost, none doubled "
              f"(got {len(got)})")
        check(metric('cep_kafka_delivery_errors_total{topic="alerts"}') == 0,
              "no delivery error counted")
        check(server.stop() == 0, "SIGTERM: the server exits 0")
        log = server.log()
        print("--- server log ---\n" + log, flush=True)
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
