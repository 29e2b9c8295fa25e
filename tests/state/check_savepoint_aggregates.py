#!/usr/bin/env python3
"""Savepoints carry window state: `cep savepoint` of a server running aggregates, and
`cep serve --from-savepoint` going on from it, write what one uninterrupted `cep run` writes.

A server (`--follow`) reads the first part of a stream of payments over twenty cards, with every
window kind open at the cut (tumbling minutes, sessions with lateness, a rolling window, running
totals with a ttl) beside a pattern; `cep savepoint` writes the savepoint and the server stops on
SIGTERM (open windows unwritten). The rest is appended; a new server started from the savepoint
reads it. Before the savepoint, `GET /state` lists the tumbling windows open then, checked
against the events fed, and `cep state --server` a card's sessions; the second server keeps
`--state`, and `cep state DIR` lists its last checkpoint's windows as `GET /state` did. The two outputs together are `cep run`'s over the whole stream stopped after its last
record without finishing (`--snapshot-after N`), "@version" aside, and the second server writes
records of windows opened before the cut (so a lost window would show).

  check_savepoint_aggregates.py --cep CEP

Every process is started here on 127.0.0.1 and stopped by its pid; every wait is bounded.
"""

import argparse
import json
from datetime import datetime
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_savepoint import Server, lines, strip  # noqa: E402
from checks import check, failures, wait_for  # noqa: E402

RULES = """\
event Payment { card: string, amount: float, ts: time }
pattern big partition by card { p: Payment(amount > 900.0) }
emit Big { card: p.card, amount: p.amount }
aggregate per_minute partition by card window tumbling 1m { p: Payment }
emit PerMinute { card: last(p).card, n: count(p), total: sum(p.amount), top: max(p.amount) }
aggregate visits partition by card window session gap 20s lateness 5s { p: Payment }
emit Visits { card: last(p).card, n: count(p), low: min(p.amount) }
aggregate recent partition by card window rolling 90s { p: Payment(amount < 500.0) }
having count(p) >= 3
emit Recent { card: last(p).card, n: count(p), mean: avg(p.amount) }
aggregate totals partition by card window none ttl 2m { p: Payment }
emit Totals { card: last(p).card, n: count(p), spent: sum(p.amount) }
"""
T0 = 1767607200000
TIMEOUT = 60.0


def stream(count, seed):
    """`count` payments, times moving on by 0-2 s, a few out of order by up to 3 s."""
    rng = random.Random(seed)
    t = T0
    out = []
    for _ in range(count):
        t += rng.randint(0, 2000)
        ts = t - rng.randint(0, 3000) if rng.random() < 0.1 else t
        out.append(json.dumps({"card": f"c{rng.randrange(20)}",
                               "amount": round(rng.uniform(1.0, 1000.0), 2), "ts": ts},
                              separators=(",", ":")).encode() + b"\n")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    cep = str(Path(ap.parse_args().cep).resolve())
    work = Path(tempfile.mkdtemp(prefix="cep-savepoint-agg-"))
    servers = []
    try:
        (work / "rules.cep").write_text(RULES)
        events = stream(600, 5)
        first_part, rest = b"".join(events[:300]), b"".join(events[300:])
        (work / "events.jsonl").write_bytes(first_part)
        args = ["--max-delay", "5s"]

        first = Server(cep, work, ["rules.cep", "-i", "events.jsonl", "-o", "first.jsonl", *args],
                       "first")
        servers.append(first)
        first.wait_read(lines(first_part))
        open_windows = first.metric("cep_aggregate_open_windows")
        check(open_windows > 0, f"windows are open at the cut ({open_windows:.0f})")
        _check_listing(cep, first.port, events[:300])
        r = subprocess.run([cep, "savepoint", "--server", f"127.0.0.1:{first.port}", "-o",
                            "sp.cepsp"], cwd=work, capture_output=True, text=True,
                           timeout=TIMEOUT)
        check(r.returncode == 0 and "wrote sp.cepsp" in r.stderr,
              f"cep savepoint writes the file (got {r.returncode}: {r.stderr.strip()})")
        first.stop()
        before = (work / "first.jsonl").read_bytes()
        with open(work / "events.jsonl", "ab") as f:
            f.write(rest)

        # The uninterrupted run, unfinished at its last record.
        run = work / "run"
        run.mkdir()
        shutil.copy(work / "rules.cep", run)
        (run / "events.jsonl").write_bytes(first_part + rest)
        subprocess.run([cep, "run", "rules.cep", "-i", "events.jsonl", "-o", "out.jsonl", *args,
                        "--snapshot-after", str(lines(first_part + rest)), "--snapshot-file",
                        "end.snap"], cwd=run, check=True, timeout=TIMEOUT, capture_output=True)
        want = (run / "out.jsonl").read_bytes()
        check(strip(want).startswith(strip(before)) and lines(before) > 0,
              f"the first server's {lines(before)} records start the uninterrupted run's")

        second = Server(cep, work, ["--from-savepoint", "sp.cepsp", "-i", "events.jsonl", "-o",
                                    "second.jsonl", "--state", "st", *args], "second")
        servers.append(second)
        second.wait_read(lines(first_part + rest))
        missing = lines(want) - lines(before)
        wait_for(f"{missing} records written",
                 lambda: second.metric("cep_output_records_total") >= missing)
        with urllib.request.urlopen(f"http://127.0.0.1:{second.port}/state",
                                    timeout=TIMEOUT) as r:
            live = json.loads(r.read())
        second.stop()
        r = subprocess.run([cep, "state", "st", "--format", "json"], cwd=work,
                           capture_output=True, text=True, timeout=TIMEOUT)
        stored = json.loads(r.stdout) if r.returncode == 0 else {}
        kinds = sorted(p.get("aggregate", "") for p in stored.get("patterns", []))
        check(r.returncode == 0 and kinds == ["", "none", "rolling", "session", "tumbling"]
              and stored["patterns"] == live["patterns"]
              and stored["windows_listed"] == live["windows_listed"] > 0,
              "cep state DIR lists the windows of the checkpoint taken at SIGTERM as GET /state "
              f"did just before (got {r.returncode}: {r.stderr.strip()[:300]})")
        got = (work / "second.jsonl").read_bytes()
        check(strip(before + got) == strip(want),
              f"from the savepoint, the rest is the uninterrupted run's ({lines(got)} records)")
        # Records of windows opened before the cut: the savepoint carried them.
        cut = json.loads(events[299])["ts"]
        check(any(_starts_before(r, cut) for r in got.splitlines()),
              "the second server writes windows opened before the cut")
    except Exception as e:  # noqa: BLE001
        check(False, f"unexpected: {e}")
    finally:
        for server in servers:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


def _ms(text):
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _check_listing(cep, port, fed):
    """GET /state lists per_minute's open windows as the fed events make them (worked out here
    from the events: the minutes of each card after the watermark, with the events released to
    the aggregate, those at or before it), and `cep state --server` prints a session's."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/state?pattern=per_minute",
                                timeout=TIMEOUT) as r:
        listing = json.loads(r.read())
    (agg,) = listing["patterns"]
    watermark = _ms(agg["time"])
    want = {}
    for line in fed:
        e = json.loads(line)
        if e["ts"] > watermark:
            continue  # still in the reorder buffer
        end = (e["ts"] // 60000 + 1) * 60000
        if end - 1 > watermark:
            w = want.setdefault((e["card"], end - 60000, end), [0, 0.0, None])
            w[0] += 1
            w[1] += e["amount"]
            w[2] = e["amount"] if w[2] is None else max(w[2], e["amount"])
    got = {}
    for key in agg["keys"]:
        for w in key["windows"]:
            v = w["values"]
            got[(key["key"], _ms(w["start"]), _ms(w["end"]))] = [
                v["count(p)"], v["sum(amount)"], v["max(amount)"]]
    check(agg["aggregate"] == "tumbling" and len(got) > 0 and agg["windows_total"] == len(got),
          f"GET /state?pattern=per_minute lists {len(got)} open windows")
    same = got.keys() == want.keys() and all(
        got[k][0] == want[k][0] and abs(got[k][1] - want[k][1]) < 1e-6 and got[k][2] == want[k][2]
        for k in want)
    detail = "" if same else f" (want {sorted(want.items())[:3]}..., got {sorted(got.items())[:3]}...)"
    check(same, f"per_minute's {len(want)} open windows are the events'{detail}")
    key = next(iter(sorted(want)))[0]
    r = subprocess.run([cep, "state", "--server", f"127.0.0.1:{port}", "--pattern", "visits",
                        "--key", key], capture_output=True, text=True, timeout=TIMEOUT)
    check(r.returncode == 0 and "aggregate visits" in r.stdout and "(session)" in r.stdout
          and "    window [" in r.stdout and "min(amount)" in r.stdout,
          f"cep state --server lists {key}'s sessions (got {r.returncode}: {r.stdout[:300]}"
          f"{r.stderr.strip()})")


def _starts_before(record, cut_ms):
    """Whether an aggregate record's window started before `cut_ms` (Unix ms)."""
    data = json.loads(record)
    start = data.get("@start")
    if not start or data.get("@pattern") not in ("per_minute", "visits"):
        return False
    when = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return when.timestamp() * 1000 < cut_ms


if __name__ == "__main__":
    sys.exit(main())
