#!/usr/bin/env python3
"""`cep state`: the partial matches in flight, from a running server and from its state folder.

  1. `cep serve --state` reads events that leave known partial matches for two cards (and a
     last event, on a third card, that starts none and moves the watermark past the others);
  2. `cep state --server` (text, JSON, --key, --pattern) prints exactly the expected listing;
  3. `cep state DIR` while the server runs (RocksDB's LOCK is held; a checkpoint taken after the
     events were released) prints the same runs;
  4. after SIGTERM, `cep state DIR` prints the same again and changes no byte of the folder;
  5. errors: a key with no partial match, an unknown pattern, a folder that is not a state
     folder, neither or both sources: the message and the exit code.

  check_state_cmd.py --cep CEP

Every process is started here on 127.0.0.1 and stopped by its pid; every wait is bounded.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks import check, failures, wait_for  # noqa: E402

RULES = """\
event Payment { card: string, amount: float, ts: time }
pattern card_testing partition by card within 10m {
    small: Payment(amount < 1.0){2,} -> big: Payment(amount > 100.0)
}
emit CardTesting { card: big.card }
"""
EVENTS = (b'{"card":"card-42","amount":0.5,"ts":"2026-12-04T10:00:00Z"}\n'
          b'{"card":"card-7","amount":0.25,"ts":"2026-12-04T10:00:01Z"}\n'
          b'{"card":"card-42","amount":0.75,"ts":"2026-12-04T10:00:02Z"}\n'
          b'{"card":"card-99","amount":500.0,"ts":"2026-12-04T10:00:03Z"}\n')
RELEASED = 3  # the last event waits for the watermark; it would start no run anyway

EXPECTED_RUNS = """\
pattern card_testing VERSION: 2 keys, 3 partial matches, time 2026-12-04T10:00:02.999Z
  key "card-42"
    run 1: state small:loop (last step small, counter 2), started 2026-12-04T10:00:00.000Z, \
deadline 2026-12-04T10:10:00.000Z
      small: {"@type":"Payment","card":"card-42","amount":0.5,"ts":"2026-12-04T10:00:00.000Z"}
      small: {"@type":"Payment","card":"card-42","amount":0.75,"ts":"2026-12-04T10:00:02.000Z"}
    run 2: state small:loop (last step small, counter 1), started 2026-12-04T10:00:02.000Z, \
deadline 2026-12-04T10:10:02.000Z
      small: {"@type":"Payment","card":"card-42","amount":0.75,"ts":"2026-12-04T10:00:02.000Z"}
  key "card-7"
    run 1: state small:loop (last step small, counter 1), started 2026-12-04T10:00:01.000Z, \
deadline 2026-12-04T10:10:01.000Z
      small: {"@type":"Payment","card":"card-7","amount":0.25,"ts":"2026-12-04T10:00:01.000Z"}
2 keys listed, 3 of 3 partial matches, 0 held matches
"""
CARD7_JSON = (
    '{"source":"server","checkpoint":null,"taken_at":null,"patterns":[{"pattern":"card_testing",'
    '"version":"VERSION","state":"active","time":"2026-12-04T10:00:02.999Z","keys_total":2,'
    '"runs_total":3,"keys":[{"key":"card-7","runs":[{"state":"small:loop","step":"small",'
    '"counter":1,"start":"2026-12-04T10:00:01.000Z","deadline":"2026-12-04T10:10:01.000Z",'
    '"events":{"small":[{"@type":"Payment","card":"card-7","amount":0.25,'
    '"ts":"2026-12-04T10:00:01.000Z"}]}}],"held":[]}]}],"keys_listed":1,"runs_listed":1,'
    '"held_listed":0,"runs_total":3,"truncated":false}\n')
TIMEOUT = 60.0


def folder_bytes(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


class Server:
    def __init__(self, cep, work):
        self.work = work
        self.stderr_path = work / "serve.stderr"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [cep, "serve", "rules.cep", "-i", "events.jsonl", "--follow", "-o", "out.jsonl",
                 "--state", "state", "--checkpoint-every", "100ms", "--admin", "127.0.0.1:0",
                 "--admin-port-file", "admin.port"],
                cwd=work, stdout=subprocess.DEVNULL, stderr=err)
        self.port = wait_for("the admin port", self.read_port)
        # The port file is written before the inputs are opened; this line comes after them
        # (and after a restore's "resumes at byte" lines).
        wait_for("the server to be ready", lambda: "admin endpoint on" in self.stderr_text())

    def stderr_text(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"cep serve exited with {self.proc.returncode}")
        return self.stderr_path.read_text(errors="replace")

    def read_port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"cep serve exited with {self.proc.returncode}: "
                               f"{self.stderr_path.read_text(errors='replace')}")
        port_file = self.work / "admin.port"
        text = port_file.read_text().strip() if port_file.exists() else ""
        return int(text) if text else None

    def metric(self, name, labels=""):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        pattern = r'^' + name + r'(\{[^}]*' + re.escape(labels) + r'[^}]*\})? (\S+)$'
        return sum(float(m[1]) for m in re.findall(pattern, text, re.M))

    def version(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/patterns", timeout=10) as r:
            return json.loads(r.read())[0]["version"]

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(TIMEOUT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    cep = str(Path(ap.parse_args().cep).resolve())
    work = Path(tempfile.mkdtemp(prefix="cep-state-cmd-"))
    server = None

    def state(*args):
        return subprocess.run([cep, "state", *args], cwd=work, capture_output=True, text=True,
                              timeout=TIMEOUT)

    try:
        (work / "rules.cep").write_text(RULES)
        (work / "events.jsonl").write_bytes(EVENTS)
        server = Server(cep, work)
        addr = f"127.0.0.1:{server.port}"
        wait_for(f"{RELEASED} events released",
                 lambda: server.metric("cep_events_released_total") >= RELEASED)
        version = server.version()
        runs = EXPECTED_RUNS.replace("VERSION", version)

        # 2. from the server
        r = state("--server", addr)
        check(r.returncode == 0 and r.stdout == "live state of the server\n" + runs,
              f"cep state --server: the expected listing (got {r.returncode}:\n{r.stdout}"
              f"{r.stderr})")
        r = state("--server", addr, "--key", "card-7", "--format", "json")
        check(r.returncode == 0 and r.stdout == CARD7_JSON.replace("VERSION", version),
              f"cep state --server --key card-7 --format json: the expected JSON (got "
              f"{r.returncode}:\n{r.stdout}{r.stderr})")
        r2 = state("--server", addr, "--key", '"card-7"', "--pattern", "card_testing",
                   "--format", "json")
        check(r2.stdout == r.stdout, "--key '\"card-7\"' (the @key JSON) lists the same")
        full = json.loads(state("--server", addr, "--format", "json").stdout)

        # 3. from the folder while the server runs (a checkpoint cut after the release)
        done = server.metric("cep_checkpoints_total", 'outcome="done"')
        wait_for("two more checkpoints",
                 lambda: server.metric("cep_checkpoints_total", 'outcome="done"') >= done + 2)
        r = state("state")
        lines = r.stdout.split("\n", 1)
        check(r.returncode == 0 and re.fullmatch(r"checkpoint \d+ \(taken \S+Z\)", lines[0])
              and lines[1:] == [runs],
              f"cep state DIR while the server runs: the same runs (got {r.returncode}:\n"
              f"{r.stdout}{r.stderr})")
        r = state("state", "--format", "json")
        got = json.loads(r.stdout) if r.returncode == 0 else {}
        check(got.get("source") == "checkpoint" and isinstance(got.get("checkpoint"), int)
              and got.get("patterns") == full["patterns"],
              "cep state DIR --format json while the server runs: the server's patterns")

        # 4. after SIGTERM: the same, and the folder unchanged
        code = server.stop()
        check(code == 0, f"the server stops on SIGTERM with exit 0 (got {code})")
        before = folder_bytes(work / "state")
        r = state("state", "--key", "card-42")
        check(r.returncode == 0 and "\n  key \"card-42\"\n" in r.stdout
              and "card-7" not in r.stdout
              and r.stdout.endswith("1 key listed, 2 of 3 partial matches, 0 held matches\n"),
              f"cep state DIR --key card-42 after the stop: card-42's two runs (got "
              f"{r.returncode}:\n{r.stdout}{r.stderr})")
        r = state("state")
        check(r.returncode == 0 and r.stdout.split("\n", 1)[1:] == [runs],
              "cep state DIR after the stop: the same runs")
        check(folder_bytes(work / "state") == before,
              "cep state DIR changed no byte of the folder (no file added or removed)")

        # 5. errors
        for args, code, text in [
            (["state", "--key", "card-9"], 3, "cep state: no partial match for key card-9"),
            (["state", "--pattern", "nope"], 3, "serves no pattern `nope` (patterns: "
                                                "`card_testing`)"),
            ([str(work)], 3, "not a checkpoint store"),
            ([str(work / "missing")], 3, "no such folder"),
            ([], 2, "give a state folder (cep state DIR) or a running server"),
            (["state", "--server", "127.0.0.1:1"], 2, "give a state folder or --server, not both"),
        ]:
            r = state(*args)
            check(r.returncode == code and text in r.stderr,
                  f"cep state {' '.join(args)}: exit {code} with {text!r} (got {r.returncode}: "
                  f"{r.stderr.strip()})")
        check(folder_bytes(work / "state") == before, "the refusals changed nothing either")
    finally:
        if server is not None and server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait(TIMEOUT)
        if failures:
            print(f"kept {work} for a look", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
