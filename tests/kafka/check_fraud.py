#!/usr/bin/env python3
"""`cep serve` between Kafka topics equals `cep run` on the same events (tests/kafka/README.md).

kcat produces the fraud example stream (examples/fraud/events.jsonl) into a 4-partition topic
but its first 200 events, which are a file input of the same server (files and topics mix),
keyed as a payments pipeline keys it (a Payment by its card, every other event by its user),
plus bad messages (not JSON, a wrong type, empty, longer than --max-record-bytes), then one
{"@watermark": ...} per partition past the last event, so that every window closes as at the end
of `cep run`'s file. One `cep serve` in a consumer group reads the topic (each partition its own
watermark partition) and writes alerts to a topic and dead letters to another. Checks:

  * the alerts, read back with kcat, are `cep run`'s records (but "@version") as a multiset: the
    spec orders output within one release step, and with 4 partitions the arrival order (the
    last sort key) differs, so the order of records of one step may differ; the set may not;
  * each alert is keyed by its "@key" and carries its "@stream" in the header "@stream";
  * every bad message is a dead letter naming its topic, partition and offset, with its reason;
  * /metrics shows consumed and produced messages, per-partition lag and watermarks;
  * SIGTERM: exit 0 and the producer flushed (all alerts were on the topic before the stop).

With --workers N (kafka.fraud_workers2) the server matches on N threads (docs/serve.md
"Workers"), the partitions given by the group: the same checks hold.
"""

import json
import os
import sys
import urllib.request

from kafka_bed import KafkaBed, check, example_case, failures, payment_key, strip_version, wait_for

BAD = [b"not json at all", b'{"@type":"Payment","card":"c-1","amount":"lots","ts":1}', b"",
       b'{"@type":"Payment","card":"c-2","note":"' + b"x" * 3000 + b'"}']


def main():
    args, rules, events_path, events, records, last = example_case(
        lambda ap: ap.add_argument("--workers", default="1"))
    expected = sorted(records)

    with KafkaBed(args.cep, args.mock, args.workdir,
                  ["payments:4", "alerts:4", "dead:1"]) as bed:
        # A file input beside the topic: its records are the first 200 events.
        head = os.path.join(args.workdir, "head.jsonl")
        with open(head, "wb") as f:
            f.write(b"".join(e + b"\n" for e in events[:200]))
        bed.produce("payments", events[200:], key=payment_key)
        bed.produce("payments", BAD, key=lambda value: "bad", partition=1)
        for p in range(4):
            bed.produce("payments", [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        server = bed.serve([*rules, "-i", head, "-i", bed.url("payments", group="fraud"),
                            "-o", bed.url("alerts"), "--dead-letter", bed.url("dead"),
                            "--max-delay", "2s", "--max-record-bytes", "1024",
                            "--workers", args.workers])
        server.wait_log("assigned partitions 0,1,2,3 of payments")
        got = wait_for(f"{len(expected)} alerts on the topic",
                       lambda: (lambda a: a if len(a) >= len(expected) else None)(
                           bed.consume("alerts", "%k\\t%h\\t%s\\n")))
        records = [line.split("\t", 2)[2] for line in got]
        check(sorted(strip_version(r) for r in records) == expected,
              f"the alerts equal cep run's records ({len(expected)}, as a multiset)")
        def key_of(record):  # a string key as it is, null none, any other its JSON text
            k = record["@key"]
            return "" if k is None else k if isinstance(k, str) else json.dumps(k)
        keyed = all(line.split("\t")[0] == key_of(json.loads(line.split("\t", 2)[2])) and
                    line.split("\t")[1] == "@stream=" + json.loads(line.split("\t", 2)[2])["@stream"]
                    for line in got)
        check(keyed, "each alert is keyed by its @key, with its @stream in a header")

        dead = wait_for("4 dead letters", lambda: (lambda d: d if len(d) >= 4 else None)(
            bed.consume("dead")))
        letters = [json.loads(d) for d in dead]
        check([(d["topic"], d["partition"]) for d in letters] == [("payments", 1)] * 4,
              "each dead letter names topic payments and partition 1")
        offsets = [d["offset"] for d in letters]
        check(offsets == sorted(offsets) and len(set(offsets)) == 4 and
              offsets[1:] == [offsets[0] + 1, offsets[0] + 2, offsets[0] + 3],
              f"the dead letters carry the 4 consecutive offsets of the bad messages (got {offsets})")
        reasons = [d["reason"] for d in letters]
        check(reasons[0].startswith("not JSON") and "amount" in reasons[1] and
              "record of 3" in reasons[3] and letters[3].get("truncated") is True,
              f"the reasons say what is wrong (got {reasons})")
        check(letters[2].get("record") == "", "an empty message is a dead letter too")

        port = open(os.path.join(args.workdir, "serve.port")).read().strip()
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        metrics = metrics.decode()
        consumed = f'cep_kafka_messages_consumed_total{{topic="payments"}} {len(events) - 200 + 8}'
        check(consumed in metrics, "metrics: messages consumed")
        check('cep_kafka_consumer_lag{topic="payments",partition="3"} 0' in metrics,
              "metrics: consumer lag per partition")
        check('cep_input_watermark_seconds{input="payments[2]"}' in metrics,
              "metrics: the watermark of each partition")
        check('cep_kafka_delivery_errors_total{topic="alerts"} 0' in metrics,
              "metrics: delivery errors")
        wait_for("produced counted", lambda: f'cep_kafka_messages_produced_total{{topic="alerts"}} '
                 f'{len(expected)}' in urllib.request.urlopen(
                     f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode())
        check(server.stop() == 0, "SIGTERM: the server exits 0")
        log = server.log()
        check("connected to" in log and "joining group fraud" in log,
              "the log says where it connected")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
