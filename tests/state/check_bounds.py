#!/usr/bin/env python3
"""State bounds under `cep serve --state` (docs/state.md "State bounds"): `--max-runs-per-key`
and `--key-ttl` evict while the server runs, every eviction is counted in /metrics by reason and
written to `--evicted-output`, and a restart from the checkpoint goes on exactly where it was:

  1. the first half of a stream is read by `cep serve --state --follow`; the evictions it implies
     (2 by --max-runs-per-key, 3 by --key-ttl) show in cep_pattern_evicted_runs_total;
  2. SIGTERM (a last checkpoint); the second half is appended; the server is started again on
     its state folder: it resumes after the first half and the TTL of the restored key (its last
     event is in the checkpoint) still applies;
  3. the matches and the evicted runs written over both lives equal one uninterrupted `cep run`
     with the same bounds (`"@version"`, which only `cep serve` writes, left out).

  check_bounds.py --cep CEP

Every process is started here on 127.0.0.1 and stopped by its pid; every wait is bounded.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks import Serve, check, failures, wait_for  # noqa: E402

RULES = """\
event Payment { card: string, amount: float, ts: time }
pattern card_testing partition by card within 10m {
    small: Payment(amount < 1.0){2,} -> big: Payment(amount > 100.0)
}
emit CardTesting { card: big.card }
"""
BOUNDS = ["--max-runs-per-key", "2", "--key-ttl", "1m", "--evicted-output", "evicted.jsonl"]


def payment(card, amount, second):
    return json.dumps({"card": card, "amount": amount,
                       "ts": f"2026-12-04T10:{second // 60:02d}:{second % 60:02d}Z"}) + "\n"


# c1: three probes (a third run: the oldest goes by --max-runs-per-key), then silent; c2: one
# probe, then silent; c7: a probe less than a minute before c3, which moves the watermark 3
# minutes on: the TTL drops c1's and c2's runs, c7's stays (checkpointed, with its last event).
FIRST = [payment("c1", 0.5, 0), payment("c1", 0.6, 1), payment("c1", 0.7, 2),
         payment("c2", 0.5, 3), payment("c7", 0.5, 199), payment("c3", 500.0, 200)]
# After the restart: c4 matches (and loses runs to the bound on the way), c5 starts a run; c6
# moves the watermark: the TTL drops c7's restored run and c5's.
SECOND = [payment("c4", 0.5, 210), payment("c4", 0.5, 211), payment("c4", 0.5, 212),
          payment("c4", 150.0, 213), payment("c5", 0.1, 220), payment("c6", 200.0, 400)]


def evicted(server, reason):
    return server.metric("cep_pattern_evicted_runs_total", {"reason": reason})


def without_version(text):
    out = []
    for line in text.splitlines():
        record = json.loads(line)
        record.pop("@version", None)
        out.append(record)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    args = ap.parse_args()
    cep = str(Path(args.cep).resolve())
    work = Path(tempfile.mkdtemp(prefix="cep-state-bounds-"))
    server = None
    try:
        (work / "rules.cep").write_text(RULES)
        subprocess.run([cep, "compile", "rules.cep", "-o", "rules.cepo"], cwd=work, check=True,
                       timeout=60)
        serve_args = ["rules.cepo", "-i", "events.jsonl", "--follow", "-o", "out.jsonl",
                      "--state", "state", "--checkpoint-every", "100ms", *BOUNDS]

        # 1. The first half.
        (work / "events.jsonl").write_text("".join(FIRST))
        server = Serve(cep, work, serve_args, log="first.stderr")
        wait_for("the first half's evictions", lambda: evicted(server, "ttl") >= 3)
        check(evicted(server, "max-runs-per-key") == 2,
              f"2 runs evicted by --max-runs-per-key (got {evicted(server, 'max-runs-per-key')})")
        check(evicted(server, "ttl") == 3, f"3 by --key-ttl (got {evicted(server, 'ttl')})")
        lines = (work / "evicted.jsonl").read_text().splitlines()
        reasons = [json.loads(line)["@reason"] for line in lines]
        check(reasons == ["max-runs-per-key"] * 2 + ["ttl"] * 3,
              f"--evicted-output has them in order (got {reasons})")
        code = server.stop()
        check(code == 0, f"the server stops on SIGTERM with exit 0 (got {code})")
        log = server.stderr()
        check("cep serve: 5 partial matches evicted (--max-runs-per-key 2: 2, --key-ttl 1m: 3)"
              in log.replace("pattern `card_testing`: ", ""),
              f"the server's log sums the evictions up (got {log!r})")
        server = None

        # 2. The second half, after a restart.
        with open(work / "events.jsonl", "a") as f:
            f.write("".join(SECOND))
        server = Serve(cep, work, serve_args, log="second.stderr")
        log = server.stderr()
        check("resumes at byte" in log and f"(after line {len(FIRST)})" in log
              and "1 keys, 1 partial matches" in log,
              f"the restart restores c7's run and resumes after line {len(FIRST)} (got {log!r})")
        wait_for("every record read", lambda: server.metric(
            "cep_input_records_read_total") >= len(FIRST) + len(SECOND))
        wait_for("the TTL of c7 and c5", lambda: evicted(server, "ttl") >= 2)
        check(evicted(server, "max-runs-per-key") == 2,
              f"after the restart: 2 more by --max-runs-per-key "
              f"(got {evicted(server, 'max-runs-per-key')})")
        wait_for("the match of c4", lambda: (work / "out.jsonl").exists()
                 and (work / "out.jsonl").read_text().count("\n") >= 1)
        code = server.stop()
        check(code == 0, f"the restarted server stops on SIGTERM with exit 0 (got {code})")
        server = None

        # 3. Both lives together against one uninterrupted run.
        run = subprocess.run([cep, "run", "rules.cep", "-i", "events.jsonl", "-o", "run.jsonl",
                              "--max-runs-per-key", "2", "--key-ttl", "1m", "--evicted-output",
                              "run_evicted.jsonl"], cwd=work, capture_output=True, text=True,
                             timeout=60)
        check(run.returncode == 0, f"cep run exits 0 (got {run.returncode}: {run.stderr})")
        served = without_version((work / "out.jsonl").read_text())
        expected = without_version((work / "run.jsonl").read_text())
        check(served == expected and len(expected) == 1,
              f"the matches equal cep run's (got {served} against {expected})")
        served_evicted = (work / "evicted.jsonl").read_text()
        expected_evicted = (work / "run_evicted.jsonl").read_text()
        check(served_evicted == expected_evicted and expected_evicted.count("\n") == 9,
              f"the evicted runs equal cep run's, byte for byte, 9 of them "
              f"(got {served_evicted!r} against {expected_evicted!r})")
    finally:
        if server is not None:
            server.kill()
        if failures:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
