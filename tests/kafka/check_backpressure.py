#!/usr/bin/env python3
"""Backpressure: when the output cannot keep up, consumption waits; nothing is lost
(tests/kafka/README.md).

The producer's queue is made tiny with --kafka-config (queue.buffering.max.messages=5, which
also checks that the file reaches the clients), the alert topic's leader is broker 3, the input
topic's are brokers 1 and 2. Broker 3 goes down, then the whole fraud example stream arrives:
the server fills its producer queue and its writes wait for room (the event loop, and with it
consumption, pauses: the input is not read past what the output can take), which one log line
says. Broker 3 comes back: every alert arrives, exactly `cep run`'s (as a
multiset, "@version" aside), and no delivery error is counted.
"""

import json
import os
import sys
import time
import urllib.request

from kafka_bed import KafkaBed, check, example_case, failures, payment_key, strip_version, wait_for


def main():
    args, rules, events_path, events, records, last = example_case()
    expected = sorted(records)
    config = os.path.join(args.workdir, "client.properties")
    with open(config, "w") as f:
        f.write("# a tiny producer queue: backpressure after 5 messages\n"
                "queue.buffering.max.messages = 5\n")

    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:1"]) as bed:
        bed.command("leader alerts 0 3")
        for p in range(4):
            bed.command(f"leader payments {p} {1 + p % 2}")
        server = bed.serve([*rules, "-i", bed.url("payments", group="bp"),
                            "-o", bed.url("alerts"), "--max-delay", "2s",
                            "--kafka-config", config])
        server.wait_log("assigned partitions 0,1,2,3 of payments")
        bed.command("down 3")
        bed.produce("payments", events, key=payment_key)
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        server.wait_log("is full (the brokers do not keep up): input waits until it has room")
        check(server.proc.poll() is None, "the server waits for the output, it does not fail")
        time.sleep(1)  # the outage goes on a while: nothing to wait for
        bed.command("up 3")
        got = wait_for(f"{len(expected)} alerts on the topic",
                       lambda: (lambda a: a if len(a) >= len(expected) else None)(
                           bed.consume("alerts")))
        check(sorted(strip_version(r) for r in got) == expected,
              f"after the outage the alerts equal cep run's ({len(expected)}, got {len(got)})")
        port = open(os.path.join(args.workdir, "serve.port")).read().strip()
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=40).read()
        check('cep_kafka_delivery_errors_total{topic="alerts"} 0' in metrics.decode(),
              "no delivery error counted")
        check(server.stop() == 0, "SIGTERM: the server exits 0")
        check("takes messages again after" in server.log(), "the log says when it goes on")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
