#!/usr/bin/env python3
"""`cep serve` runs aggregates (spec §8) as `cep run` does, and says so in /metrics.

The fraud example's payment patterns and its window aggregates (examples/fraud/windows/: hourly
uses per card, RFM per user, clicks per 5 minutes and the click flood) are served two ways: as one
compiled artifact and as the .cep files themselves. The stream is the example's clicks (10:00 to
10:02) up to the last eight, then its payments and other events (10:00 to 10:37, a little
disordered), then those eight clicks: they arrive late, count for no window and go to the late
output, as do the few late orders of the example stream. Each server reads the whole stream through a named pipe and
stops on SIGTERM (nothing is finished: open windows are not written). Checked:

- the output is `cep run`'s over the same records, stopped after the last one without finishing
  (`--snapshot-after N`), byte for byte once the "@version" members are taken out; and the late
  output is `cep run`'s too;
- /metrics: cep_aggregate_records_total of each aggregate is the number of its records in the
  output; cep_aggregate_late_events_total{outcome="missed"} is the number of late records of the
  aggregate's event type in `cep run`'s late output; cep_aggregate_open_windows and
  cep_aggregate_keys are positive for the aggregates with windows still open (hourly uses, RFM); the patterns keep
  their cep_pattern_* series and no aggregate has one;
- GET /patterns marks each aggregate ("kind":"aggregate", "open_windows");
- GET /state?pattern=rfm lists RFM's running cells (one per user, "aggregate":"none", with the
  accumulators' values), and GET /state lists the aggregates beside the patterns.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_serve_cases import CaseError, Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "fraud")
VERSION = re.compile(r',"@version":"([0-9a-f]{12})"')
AGGREGATES = {"card_hourly": "Payment", "rfm": "Order", "clicks_5m": "Click",
              "click_flood": "Click"}
METRIC = re.compile(r'^(cep_\w+)\{([^}]*)\} (\S+)$')


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise CaseError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr}")
    return result


def metrics(text):
    """{(name, frozenset of label pairs): value} of a Prometheus text."""
    out = {}
    for line in text.splitlines():
        m = METRIC.match(line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def series(values, name, **labels):
    want = set(labels.items())
    return [v for (n, l), v in values.items() if n == name and want <= set(l)]


def request(server, method, path):
    """(status, body) of an admin request."""
    r = urllib.request.Request(f"http://{server.server}{path}", method=method,
                               data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(r, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def check_server(cep, work, served, lines, want, want_late, late_types, problems):
    server = Server(cep, work, served, ["--max-delay", "2s", "--import-path", EXAMPLE,
                                        "--late-output", os.path.join(work, "late.jsonl")], 60.0)
    try:
        server.feed(os.path.join(work, "..", "stream.jsonl"))
        values = metrics(server.get("/metrics"))
        patterns = json.loads(server.get("/patterns"))
        state_of_aggregate = request(server, "GET", "/state?pattern=rfm")
        state = request(server, "GET", "/state")
        server.stop()
        with open(server.out, encoding="utf-8") as f:
            got = f.read()
        with open(os.path.join(work, "late.jsonl"), encoding="utf-8") as f:
            got_late = f.read()
    finally:
        server.kill()
    if VERSION.sub("", got) != want:
        problems.append("the output differs from cep run's")
    if got_late != want_late:
        problems.append("the late output differs from cep run's")
    for name, event_type in AGGREGATES.items():
        written = got.count(f'"@pattern":"{name}"')
        records = series(values, "cep_aggregate_records_total", aggregate=name)
        if records != [written]:
            problems.append(f"{name}: cep_aggregate_records_total {records}, records {written}")
        missed = series(values, "cep_aggregate_late_events_total", aggregate=name,
                        outcome="missed")
        if missed != [late_types.get(event_type, 0)]:
            problems.append(f"{name}: late missed {missed}, late {event_type} records "
                            f"{late_types.get(event_type, 0)}")
        if series(values, "cep_pattern_matches_total", pattern=name):
            problems.append(f"{name}: has a cep_pattern_* series")
        info = [p for p in patterns if p["name"] == name]
        if len(info) != 1 or info[0].get("kind") != "aggregate":
            problems.append(f"{name}: GET /patterns has {info}")
    for name in ("card_hourly", "rfm"):  # the hours still open; rfm keeps every user
        for metric in ("cep_aggregate_open_windows", "cep_aggregate_keys"):
            value = series(values, metric, aggregate=name)
            if len(value) != 1 or value[0] <= 0:
                problems.append(f"{name}: {metric} {value}, expected one positive value")
    if not series(values, "cep_pattern_matches_total", pattern="card_testing"):
        problems.append("card_testing: no cep_pattern_matches_total")
    rfm = json.loads(state_of_aggregate[1]) if state_of_aggregate[0] == 200 else {}
    listed = rfm.get("patterns", [{}])
    if (len(listed) != 1 or listed[0].get("aggregate") != "none" or not listed[0].get("keys")
            or any(len(k["windows"]) != 1 or not k["windows"][0]["values"]
                   or k["windows"][0]["event_count"] < 1 for k in listed[0]["keys"])
            or listed[0].get("windows_total") != len(listed[0]["keys"])):
        problems.append(f"GET /state?pattern=rfm answered {state_of_aggregate[0]} "
                        f"{state_of_aggregate[1][:300]}")
    if state[0] != 200 or '"pattern":"rfm"' not in state[1] or '"aggregate":"tumbling"' not in state[1]:
        problems.append(f"GET /state answered {state[0]} {state[1][:200]}")
    if any("kind" in p for p in patterns if p["name"] == "card_testing"):
        problems.append("card_testing: GET /patterns says it has a kind")
    return got.count("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    options = parser.parse_args()
    cep = os.path.abspath(options.cep)
    work = tempfile.mkdtemp(prefix="cep-serve-agg-")
    try:
        rules = [os.path.join(EXAMPLE, "payments.cep")] + [
            os.path.join(EXAMPLE, "windows", f) for f in ("card_hourly.cep", "rfm.cep",
                                                          "clicks.cep")]
        artifact = os.path.join(work, "rules.cepo")
        run([cep, "compile", *rules, "--import-path", EXAMPLE, "-o", artifact])
        def read(path):
            with open(path, "rb") as f:
                return [line for line in f.read().split(b"\n") if line.strip()]
        clicks = read(os.path.join(EXAMPLE, "windows", "clicks.jsonl"))
        lines = clicks[:-8] + read(os.path.join(EXAMPLE, "events.jsonl")) + clicks[-8:]
        stream = os.path.join(work, "stream.jsonl")
        with open(stream, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        reference = os.path.join(work, "reference.jsonl")
        late = os.path.join(work, "reference.late.jsonl")
        run([cep, "run", artifact, "-i", stream, "--max-delay", "2s", "-o", reference,
             "--late-output", late, "--snapshot-after", str(len(lines)), "--snapshot-file",
             os.path.join(work, "end.snap")])
        with open(reference, encoding="utf-8") as f:
            want = f.read()
        with open(late, encoding="utf-8") as f:
            want_late = f.read()
        for name in ("rfm", "clicks_5m", "click_flood"):  # card_hourly's hours are still open
            if f'"@pattern":"{name}"' not in want:
                raise CaseError(f"the reference run wrote no record of {name}")
        late_types = {}
        for line in want_late.splitlines():
            t = json.loads(line).get("@type")
            late_types[t] = late_types.get(t, 0) + 1
        if late_types.get("Click") != 8:
            raise CaseError("the stream has no late click: the late metrics are not exercised")

        failed = 0
        for how, served in (("artifact", [artifact]), ("rule files", rules)):
            case = os.path.join(work, how.replace(" ", "_"))
            os.mkdir(case)
            problems = []
            count = check_server(cep, case, served, lines, want, want_late, late_types, problems)
            if problems:
                failed += 1
                print(f"FAIL  {how}: " + "; ".join(problems))
            else:
                print(f"ok    {how}: {count} records equal to cep run's, metrics agree")
        return 1 if failed else 0
    except CaseError as e:
        print(f"FAIL  {e}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
