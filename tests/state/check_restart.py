#!/usr/bin/env python3
"""`cep serve --state DIR` restarted: it resumes where its checkpoint was, and a start whose
inputs or outputs are not the checkpoint's is refused with the reason, changing no file.

  1. a first server reads three events and stops on SIGTERM (its last checkpoint);
  2. a second resumes at the input's end (says so), reads three appended events, stops: the
     output is what one uninterrupted `cep run` over the six events writes ("@version" aside);
  3. refused starts, each leaving the outputs and the input byte for byte as they were:
     another -o path, other inputs (exit 2); the input replaced, truncated or rewritten, the
     output cut shorter than its checkpointed length (exit 3); stdin or stdout with --state
     (exit 2);
  4. a last start with the files as they were resumes (the refusals damaged nothing).

  check_restart.py --cep CEP

Every process is started here on 127.0.0.1 and stopped by its pid; every wait is bounded.
"""

import argparse
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
pattern big { p: Payment(amount > 100.0) }
emit Big { card: p.card }
"""
FIRST = (b'{"card":"c1","amount":500.0,"ts":1000}\n'
         b'{"card":"c2","amount":5.0,"ts":2000}\n'
         b'{"card":"c3","amount":700.0,"ts":3000}\n')
MORE = (b'{"card":"c4","amount":1.0,"ts":4000}\n'
        b'{"card":"c5","amount":900.0,"ts":5000}\n'
        b'{"card":"c6","amount":2.0,"ts":9000}\n')  # moves the watermark past c5
TIMEOUT = 60.0


class Server:
    def __init__(self, cep, work):
        self.work = work
        self.port_file = work / "admin.port"
        if self.port_file.exists():
            self.port_file.unlink()
        self.stderr_path = work / "serve.stderr"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [cep, "serve", "rules.cep", "-i", "events.jsonl", "--follow", "-o", "out.jsonl",
                 "--dead-letter", "dead.jsonl", "--state", "state", "--admin", "127.0.0.1:0",
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
            raise RuntimeError(f"cep serve exited with {self.proc.returncode}: {self.stderr()}")
        text = self.port_file.read_text().strip() if self.port_file.exists() else ""
        return int(text) if text else None

    def records_read(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        return sum(float(v) for v in
                   re.findall(r'^cep_input_records_read_total\{[^}]*\} (\S+)$', text, re.M))

    def stop(self):
        os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(TIMEOUT)
        check(code == 0, f"the server stops on SIGTERM with exit 0 (got {code})")
        return self.stderr()

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")


def refused(cep, work, args, code, reason, stdin=None):
    files = {name: (work / name).read_bytes() for name in ("events.jsonl", "out.jsonl",
                                                           "dead.jsonl")
             if (work / name).exists()}
    r = subprocess.run([cep, "serve", "rules.cep", "--state", "state", "--admin",
                        "127.0.0.1:0"] + args, cwd=work, capture_output=True, text=True,
                       timeout=TIMEOUT, stdin=stdin)
    check(r.returncode == code and reason in r.stderr,
          f"{' '.join(args)}: exit {code} with {reason!r} (got {r.returncode}: "
          f"{r.stderr.strip().splitlines()[-1:] if r.stderr.strip() else ''})")
    for name, before in files.items():
        check((work / name).read_bytes() == before, f"  ... and {name} is unchanged")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    cep = str(Path(ap.parse_args().cep).resolve())
    work = Path(tempfile.mkdtemp(prefix="cep-restart-"))
    try:
        (work / "rules.cep").write_text(RULES)
        events = work / "events.jsonl"
        events.write_bytes(FIRST)

        # 1. the first server
        server = Server(cep, work)
        wait_for("3 records read", lambda: server.records_read() >= 3)
        log = server.stop()
        check("restored checkpoint" not in log, "a first start restores nothing")

        # 2. the restart resumes at the end of what was read
        server = Server(cep, work)
        log = server.stderr()
        check("cep serve: restored checkpoint" in log and "big " in log,
              "the restart says it restored the checkpoint and its pattern")
        check(f"input events.jsonl resumes at byte {len(FIRST)} (after line 3)" in log,
              f"the restart says where the input resumes (byte {len(FIRST)}, line 3)")
        with open(events, "ab") as f:
            f.write(MORE)
        wait_for("6 records read", lambda: server.records_read() >= 6)
        server.stop()
        whole = work / "whole"
        whole.mkdir()
        (whole / "events.jsonl").write_bytes(FIRST + MORE)
        shutil.copy(work / "rules.cep", whole / "rules.cep")
        subprocess.run([cep, "run", "rules.cep", "-i", "events.jsonl", "-o", "out.jsonl"],
                       cwd=whole, check=True, timeout=TIMEOUT, capture_output=True)
        got = re.sub(rb',"@version":"[0-9a-f]+"', b"", (work / "out.jsonl").read_bytes())
        check(got == (whole / "out.jsonl").read_bytes() and got.count(b"\n") == 3,
              "the output over the restart is the uninterrupted run's (3 matches)")

        # 3. refusals
        base = ["--follow", "--dead-letter", "dead.jsonl"]
        refused(cep, work, ["-i", "events.jsonl", "-o", "other.jsonl"] + base, 2,
                'this server writes them to "other.jsonl": give the same path')
        check(not (work / "other.jsonl").exists(), "  ... and other.jsonl was not created")
        refused(cep, work, ["-i", "events.jsonl", "-i", "whole/events.jsonl", "-o",
                            "out.jsonl"] + base, 2, "the checkpoint was taken with 1 inputs")
        kept = events.read_bytes()
        os.replace(events, work / "original.jsonl")
        shutil.copy(work / "original.jsonl", events)  # the same bytes, another file
        refused(cep, work, ["-i", "events.jsonl", "-o", "out.jsonl"] + base, 3,
                "it was replaced")
        os.replace(work / "original.jsonl", events)
        with open(events, "r+b") as f:  # in place: the same inode
            f.truncate(len(FIRST))
        refused(cep, work, ["-i", "events.jsonl", "-o", "out.jsonl"] + base, 3,
                f"it was truncated ({len(FIRST)} bytes now)")
        with open(events, "r+b") as f:  # in place, the same length
            f.write(kept.replace(b"c2", b"c9"))
        refused(cep, work, ["-i", "events.jsonl", "-o", "out.jsonl"] + base, 3,
                "it changed (its first ")
        with open(events, "r+b") as f:
            f.write(kept)
        out = (work / "out.jsonl").read_bytes()
        (work / "out.jsonl").write_bytes(out[:10])
        refused(cep, work, ["-i", "events.jsonl", "-o", "out.jsonl"] + base, 3,
                f'cannot resume "out.jsonl" at byte {len(out)}: it has 10 bytes')
        (work / "out.jsonl").write_bytes(out)
        with open(events, "rb") as stdin:
            refused(cep, work, ["-i", "-", "-o", "out.jsonl"], 2,
                    "standard input cannot", stdin=stdin)
        refused(cep, work, ["-i", "events.jsonl"], 2, "--state needs -o FILE")

        # 4. the files as they were: the state is intact
        server = Server(cep, work)
        wait_for("6 records read", lambda: server.records_read() >= 6)
        log = server.stop()
        check(f"input events.jsonl resumes at byte {len(FIRST + MORE)} (after line 6)" in log,
              "after the refusals the server resumes at the end (the state was not damaged)")
        check((work / "out.jsonl").read_bytes() == out, "and the output is as it was")
    finally:
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder kept: {work}")
    print(f"{len(failures)} failures" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
