#!/usr/bin/env python3
"""--idle-timeout: a silent partition leaves the watermark minimum (tests/kafka/README.md).

The fraud example stream goes into partitions 0, 1 and 2 of a 4-partition topic (by key), with a
watermark past its end on each; partition 3 gets nothing. Each partition is its own watermark
partition and the combined watermark is their minimum, so without --idle-timeout partition 3
would hold every event back forever (as a silent Flink source split does). With
--idle-timeout 1s it is left out once silent for 1 s of wall time: the alerts come, and they are
`cep run`'s (as a multiset, "@version" aside); the log says which partition was left out.
"""

import json
import sys
import zlib

from kafka_bed import KafkaBed, check, example_case, failures, strip_version, wait_for


def main():
    args, rules, events_path, events, records, last = example_case()
    expected = sorted(records)

    parts = [[], [], []]
    for e in events:
        record = json.loads(e)
        key = (record.get("card") or record.get("user")).encode()
        parts[zlib.crc32(key) % 3].append(e)
    with KafkaBed(args.cep, args.mock, args.workdir, ["payments:4", "alerts:1"]) as bed:
        for p, values in enumerate(parts):
            bed.produce("payments", values + [json.dumps({"@watermark": last + 86400000}).encode()],
                        partition=p)
        server = bed.serve([*rules, "-i", bed.url("payments", group="idle"),
                            "-o", bed.url("alerts"), "--max-delay", "2s", "--idle-timeout", "1s"])
        got = wait_for(f"{len(expected)} alerts on the topic",
                       lambda: (lambda a: a if len(a) >= len(expected) else None)(
                           bed.consume("alerts")))
        check(sorted(strip_version(r) for r in got) == expected,
              f"with partition 3 left out, the alerts equal cep run's ({len(expected)})")
        check("payments[3] silent for 1000 ms: left out of the watermark" in server.log(),
              "the log says partition 3 was left out of the watermark")
        check(server.stop() == 0, "SIGTERM: the server exits 0")
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
