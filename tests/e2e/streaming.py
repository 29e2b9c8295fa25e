#!/usr/bin/env python3
"""End-to-end checks that `cep run` streams as people expect (issue #10 §2): records are matched
as they arrive from pipes and FIFOs, several streaming inputs are waited on at once, `--follow`
reads a growing file, and with `--time processing` timeouts are written when their time comes on
the wall clock, not when the next record happens to arrive.

Each case runs the real `cep` in a fresh temporary folder; ctest runs one test per case
(`e2e.streaming.<case>`). Every wait is bounded and waits for a condition; every process started
is killed by pid at the end.

  timer_fifo_interp  --time processing, one FIFO kept open and silent after one record: the
  timer_fifo_jit     `within 300ms` timeout is written about 300 ms later, by both engines
  two_fifos          two FIFOs, the first silent: a record on the second is matched at once
  dev_stdin          `-i /dev/stdin` from a pipe kept open: a match is written before it closes
  follow             `--follow` on a regular file: lines appended later are matched; SIGTERM
                     stops it (exit 143) with nothing finished (no timeout invented)

Python 3, standard library only.  Usage: streaming.py --cep CEP CASE...
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 60

RULES = """\
event Payment { card: string, amount: float, ts: time }
pattern big { p: Payment(amount > 100.0) }
emit Big { card: p.card }
pattern pair partition by card within 300ms { a: Payment() -> b: Payment() }
emit Pair { card: a.card }
on timeout emit Alone { card: a.card }
"""


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def payment(card, ts=1_000_000, amount=500.0):
    return json.dumps({"@type": "Payment", "card": card, "amount": amount, "ts": ts}) + "\n"


def wait_for(condition, what, timeout=TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def records(path):
    try:
        with open(path, "rb") as f:
            return [json.loads(line) for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


def streams(path):
    return [r["@stream"] for r in records(path)]


class Cep:
    """A `cep run` started in `tmp`, killed by pid if still running at the end."""

    def __init__(self, cep, tmp, args, stdin=subprocess.DEVNULL):
        with open(os.path.join(tmp, "rules.cep"), "w", encoding="utf-8") as f:
            f.write(RULES)
        self.out = os.path.join(tmp, "out.jsonl")
        self.proc = subprocess.Popen([cep, "run", "rules.cep", "-o", "out.jsonl"] + args,
                                     cwd=tmp, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def running(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        _, stderr = self.proc.communicate(timeout=TIMEOUT_S)
        return self.proc.returncode, stderr

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def fifo_writer(tmp, name):
    path = os.path.join(tmp, name)
    os.mkfifo(path)
    # O_RDWR (Linux): opening never waits for the reader, and cep's open finds a writer.
    return os.open(path, os.O_RDWR)


def timer_fifo(cep_path, tmp, engine):
    writer = fifo_writer(tmp, "in.fifo")
    cep = Cep(cep_path, tmp, ["--time", "processing", "--engine", engine, "-i", "in.fifo"])
    try:
        sent = time.monotonic()
        os.write(writer, payment("c1").encode())
        wait_for(lambda: "Alone" in streams(cep.out), "the `within 300ms` timeout")
        elapsed = time.monotonic() - sent
        expect(cep.running(), "cep exited while its input was open")
        expect(elapsed >= 0.29, f"the timeout came after {elapsed:.3f} s, before its time")
        expect(streams(cep.out) == ["Big", "Alone"], f"written: {streams(cep.out)}")
        code, stderr = cep.stop()
        expect(code == 128 + signal.SIGTERM, f"exit {code}: {stderr!r}")
    finally:
        os.close(writer)
        cep.close()


def case_timer_fifo_interp(cep, tmp):
    timer_fifo(cep, tmp, "interp")


def case_timer_fifo_jit(cep, tmp):
    timer_fifo(cep, tmp, "jit")


def case_two_fifos(cep_path, tmp):
    first = fifo_writer(tmp, "a.fifo")
    second = fifo_writer(tmp, "b.fifo")
    cep = Cep(cep_path, tmp, ["--time", "processing", "-i", "a.fifo", "-i", "b.fifo"])
    try:
        os.write(second, payment("b1").encode())
        wait_for(lambda: "Big" in streams(cep.out), "the match of the record on the second FIFO")
        expect(cep.running(), "cep exited while its inputs were open")
        code, stderr = cep.stop()
        expect(code == 128 + signal.SIGTERM, f"exit {code}: {stderr!r}")
        # Stopped by a signal: the pending `pair` run is dropped, not timed out.
        expect(streams(cep.out) in (["Big"], ["Big", "Alone"]), f"written: {streams(cep.out)}")
    finally:
        os.close(first)
        os.close(second)
        cep.close()


def case_dev_stdin(cep_path, tmp):
    cep = Cep(cep_path, tmp, ["-i", "/dev/stdin"], stdin=subprocess.PIPE)
    try:
        # Event time: the second record moves the watermark past the first.
        cep.proc.stdin.write((payment("s1", ts=1000) + payment("s2", ts=2000)).encode())
        cep.proc.stdin.flush()
        wait_for(lambda: "Big" in streams(cep.out), "a match while stdin is still open")
        expect(cep.running(), "cep exited while stdin was open")
        cep.proc.stdin.close()
        cep.proc.wait(timeout=TIMEOUT_S)
        expect(cep.proc.returncode == 0, f"exit {cep.proc.returncode}")
        expect(streams(cep.out).count("Big") == 2, f"written: {streams(cep.out)}")
    finally:
        cep.close()


def case_follow(cep_path, tmp):
    path = os.path.join(tmp, "events.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(payment("f1", ts=1000) + payment("f2", ts=2000))
    cep = Cep(cep_path, tmp, ["--follow", "-i", "events.jsonl"])
    try:
        # f2 moves the watermark to 1999: f1 matches `big`, its `pair` run times out at 1300.
        wait_for(lambda: streams(cep.out) == ["Big", "Alone"], "the match of the first record")
        with open(path, "a", encoding="utf-8") as f:
            f.write(payment("f3", ts=3000))
        wait_for(lambda: streams(cep.out) == ["Big", "Alone", "Big", "Alone"],
                 "the matches released by an appended record")
        expect(cep.running(), "cep --follow exited at the end of its file")
        code, stderr = cep.stop()
        expect(code == 128 + signal.SIGTERM, f"exit {code}: {stderr!r}")
        # The file never ended, so its watermark never went to +infinity: f3 is still buffered
        # and nothing was finished or timed out at the stop.
        expect(len(records(cep.out)) == 4, f"written: {streams(cep.out)}")
    finally:
        cep.close()


CASES = {"timer_fifo_interp": case_timer_fifo_interp, "timer_fifo_jit": case_timer_fifo_jit,
         "two_fifos": case_two_fifos, "dev_stdin": case_dev_stdin, "follow": case_follow}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cep", required=True)
    ap.add_argument("cases", nargs="+", choices=sorted(CASES))
    opts = ap.parse_args()
    cep = os.path.abspath(opts.cep)
    failed = 0
    for name in opts.cases:
        with tempfile.TemporaryDirectory(prefix=f"cep-{name}-") as tmp:
            try:
                CASES[name](cep, tmp)
                print(f"{name}: ok")
            except (Failure, subprocess.TimeoutExpired) as e:
                print(f"{name}: FAILED: {e}")
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
