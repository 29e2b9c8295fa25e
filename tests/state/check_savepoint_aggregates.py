#!/usr/bin/env python3
"""Savepoints carry window state: `cep savepoint` of a server running aggregates, and
`cep serve --from-savepoint` going on from it, write what one uninterrupted `cep run` writes.

A server (`--follow`) reads the first part of a stream of payments over twenty cards, with every
window kind open at the cut (tumbling minutes, sessions with lateness, a rolling window, running
totals with a ttl) beside a pattern; `cep savepoint` writes the savepoint and the server stops on
SIGTERM (open windows unwritten). The rest is appended; a new server started from the savepoint
reads it. The two outputs together are `cep run`'s over the whole stream stopped after its last
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
                                    "second.jsonl", *args], "second")
        servers.append(second)
        second.wait_read(lines(first_part + rest))
        missing = lines(want) - lines(before)
        wait_for(f"{missing} records written",
                 lambda: second.metric("cep_output_records_total") >= missing)
        second.stop()
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
