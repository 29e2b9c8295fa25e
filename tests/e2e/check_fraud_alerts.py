#!/usr/bin/env python3
"""End-to-end check of `cep run` on the fraud example (examples/fraud/).

Runs `cep run examples/fraud/*.cep --input examples/fraud/events.jsonl --max-delay 2s` and checks
the alerts against the injected scenarios in labels.jsonl (format: tools/gen_events/README.md):

  * every scenario produced exactly one record on its stream with its key, and that record's
    @start and @end are the label's start and end;
  * the alerting rules (every stream but HighRisk) produced no record on any other key;
  * high_value produced one HighRisk record per payment over 100;
  * every output line is a JSON object, the run exits 0, and a second run gives the same bytes.

Python 3, standard library only. Exit status 0 when all holds, 1 otherwise (with the reasons).
"""

import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys

REVIEW_STREAM = "HighRisk"  # high_value flags ordinary traffic: not an alert


def rfc3339(ms):
    t = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def run_cep(cep, example):
    rules = sorted(glob.glob(os.path.join(example, "*.cep")))
    argv = [cep, "run", *rules, "--input", os.path.join(example, "events.jsonl"),
            "--max-delay", "2s"]
    p = subprocess.run(argv, capture_output=True, timeout=300)
    return argv, p


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cep", required=True, help="the cep executable")
    ap.add_argument("--example", required=True, help="the examples/fraud folder")
    opts = ap.parse_args()

    argv, p = run_cep(opts.cep, opts.example)
    problems = []
    if p.returncode != 0:
        print(f"`{' '.join(argv)}` exited {p.returncode}:\n{p.stderr.decode(errors='replace')}")
        return 1
    # The one expected line: how many records the end of the input settled (docs/semantics.md
    # §3), which must be the number marked "@at_end" below.
    stderr = p.stderr.decode(errors="replace").splitlines()
    settled = [l for l in stderr
               if re.match(r"cep run: \d+ records? (was|were) written only because the input ended", l)]
    at_end_said = int(settled[0].split()[2]) if settled else 0
    others = [l for l in stderr if l not in settled]
    if others:
        problems.append("unexpected stderr: " + "\n".join(others)[:2000])

    records = []
    for number, line in enumerate(p.stdout.decode("utf-8").splitlines(), 1):
        try:
            record = json.loads(line)
        except ValueError as e:
            problems.append(f"output line {number} is not JSON ({e}): {line[:200]}")
            continue
        if not isinstance(record, dict) or "@stream" not in record or "@key" not in record:
            problems.append(f"output line {number} is not a match record: {line[:200]}")
            continue
        records.append(record)

    at_end = sum(1 for r in records if r.get("@at_end") is True)
    if at_end != at_end_said:
        problems.append(f"{at_end} records marked @at_end, stderr says {at_end_said}")

    with open(os.path.join(opts.example, "labels.jsonl"), encoding="utf-8") as f:
        labels = [json.loads(l) for l in f if l.strip()]
    labelled = {(label["stream"], label["key"]) for label in labels}
    alert_streams = {label["stream"] for label in labels}

    for label in labels:
        found = [r for r in records
                 if r["@stream"] == label["stream"] and r["@key"] == label["key"]]
        want = (rfc3339(label["start"]), rfc3339(label["end"]))
        what = f"{label['scenario']} {label['key']} ({label['stream']})"
        if not found:
            problems.append(f"{what}: no record; expected @start {want[0]}, @end {want[1]}")
        elif len(found) > 1:
            problems.append(f"{what}: {len(found)} records, expected one: {found}")
        elif (found[0]["@start"], found[0]["@end"]) != want:
            problems.append(f"{what}: @start {found[0]['@start']}, @end {found[0]['@end']}; "
                            f"expected {want[0]}, {want[1]}")

    for r in records:
        stream = r["@stream"]
        if stream == REVIEW_STREAM:
            continue
        if stream not in alert_streams:
            problems.append(f"record on an unexpected stream: {json.dumps(r)}")
        elif (stream, r["@key"]) not in labelled:
            problems.append(f"alert on a key no scenario uses: {json.dumps(r)}")

    with open(os.path.join(opts.example, "events.jsonl"), encoding="utf-8") as f:
        events = [json.loads(l) for l in f if l.strip()]
    large = sum(1 for e in events if e.get("@type") == "Payment" and e["amount"] > 100)
    review = sum(1 for r in records if r["@stream"] == REVIEW_STREAM)
    if review != large:
        problems.append(f"{review} {REVIEW_STREAM} records, expected {large} (payments over 100)")

    _, again = run_cep(opts.cep, opts.example)
    if again.returncode != 0 or again.stdout != p.stdout:
        problems.append("a second run gave different output")

    for problem in problems:
        print("FAIL", problem)
    alerts = sum(1 for r in records if r["@stream"] != REVIEW_STREAM)
    print(f"fraud example: {len(records)} records ({alerts} alerts, {review} for review), "
          f"{len(labels)} scenarios, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
