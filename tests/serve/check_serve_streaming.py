#!/usr/bin/env python3
"""`cep serve` with --follow and with --time processing (issue #10 §2), end to end.

  follow      `cep serve rules.cepo -i events.jsonl --follow`: the file's first lines are read
              and matched, a line appended after the start is read and releases what it should;
              SIGTERM ends it with exit 0, nothing finished and no timeout invented
  processing  `cep serve rules.cepo -i FIFO --time processing`: one record, then silence on a
              pipe kept open: its `within 300ms` timeout is written on the wall clock (about
              300 ms later) while the input stays silent; SIGTERM ends it with exit 0

Every wait is bounded and waits for a condition; the server is killed by its pid at the end.

  check_serve_streaming.py --cep CEP CASE...
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_serve_cases import CaseError, Server, wait_for  # noqa: E402
from serve_client import request  # noqa: E402

RULES = """\
event Payment { card: string, amount: float, ts: time }
pattern big { p: Payment(amount > 100.0) }
emit Big { card: p.card }
pattern pair partition by card within 300ms { a: Payment() -> b: Payment() }
emit Pair { card: a.card }
on timeout emit Alone { card: a.card }
"""


def line(card, ts, amount=500.0):
    return json.dumps({"card": card, "amount": amount, "ts": ts}) + "\n"


def records(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(x) for x in f.read().splitlines()]
    except FileNotFoundError:
        return []


def compile_rules(cep, work):
    source = os.path.join(work, "rules.cep")
    with open(source, "w", encoding="utf-8") as f:
        f.write(RULES)
    target = os.path.join(work, "rules.cepo")
    result = subprocess.run([cep, "compile", source, "-o", target], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise CaseError(f"cep compile failed:\n{result.stderr}")
    return target


def read_count(server):
    status, text = request(server, "GET", "/metrics")
    if status != 200:
        raise CaseError(f"GET /metrics: HTTP {status}")
    return sum(int(float(x.rsplit(" ", 1)[1])) for x in text.splitlines()
               if x.startswith("cep_input_records_read_total"))


def case_follow(cep, work, timeout):
    artifact = compile_rules(cep, work)
    events = os.path.join(work, "events.jsonl")
    out = os.path.join(work, "out.jsonl")
    port_file = os.path.join(work, "admin.port")
    with open(events, "w", encoding="utf-8") as f:
        f.write(line("f1", 1000) + line("f2", 2000))
    with open(os.path.join(work, "serve.stderr"), "wb") as stderr:
        proc = subprocess.Popen([cep, "serve", artifact, "-i", events, "--follow", "-o", out,
                                 "--admin", "127.0.0.1:0", "--admin-port-file", port_file],
                                stdout=subprocess.DEVNULL, stderr=stderr, cwd=work)
    try:
        def port():
            if proc.poll() is not None:
                raise CaseError(f"cep serve exited with {proc.returncode}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                return text or None
            except FileNotFoundError:
                return None
        server = "127.0.0.1:" + wait_for("the admin port file", port, timeout)
        # f2 moves the watermark to 1999: f1 matches `big`, its `pair` run times out at 1300.
        wait_for("the first lines to be read", lambda: read_count(server) == 2, timeout)
        wait_for("the first lines' matches",
                 lambda: [r["@stream"] for r in records(out)] == ["Big", "Alone"], timeout)
        # Appended after the start, once the server has reached the end of the file: f3
        # releases f2.
        with open(events, "a", encoding="utf-8") as f:
            f.write(line("f3", 3000))
        wait_for("the appended line to be read", lambda: read_count(server) == 3, timeout)
        wait_for("the matches the appended line released",
                 lambda: [(r["@stream"], r["card"]) for r in records(out)] ==
                 [("Big", "f1"), ("Alone", "f1"), ("Big", "f2"), ("Alone", "f2")], timeout)
        if proc.poll() is not None:
            raise CaseError("cep serve --follow exited at the end of its file")
        proc.terminate()
        code = proc.wait(timeout)
        if code != 0:
            raise CaseError(f"cep serve exited with {code} after SIGTERM")
        # The file never ended: f3 stays buffered, nothing is finished or timed out at the stop.
        streams = [r["@stream"] for r in records(out)]
        if len(streams) != 4:
            raise CaseError(f"written at the stop: {streams}")
        if not all("@version" in r for r in records(out)):
            raise CaseError("a served record without \"@version\"")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def case_processing(cep, work, timeout):
    artifact = compile_rules(cep, work)
    server = Server(cep, work, [artifact], ["--time", "processing"], timeout)
    try:
        start = time.monotonic()
        os.write(server.writer, line("solo", 0).encode())
        server.fed += 1
        wait_for("the timeout written while the input is silent",
                 lambda: server.alive() and "Alone" in [r["@stream"] for r in
                                                        records(server.out)], timeout)
        elapsed = time.monotonic() - start
        if elapsed < 0.25:
            raise CaseError(f"the 300 ms timeout came after {elapsed:.3f} s")
        got = [(r["@stream"], r.get("card")) for r in records(server.out)]
        if got != [("Big", "solo"), ("Alone", "solo")]:
            raise CaseError(f"output {got}")
        if server.records_read() != 1:
            raise CaseError("the server read more than the one record")
        server.stop()
    finally:
        server.kill()


CASES = {"follow": case_follow, "processing": case_processing}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("cases", nargs="+", choices=sorted(CASES))
    options = parser.parse_args()
    failed = 0
    for name in options.cases:
        work = tempfile.mkdtemp(prefix=f"cep-serve-{name}-")
        try:
            CASES[name](os.path.abspath(options.cep), work, options.timeout)
            print(f"ok    {name}")
        except (CaseError, OSError, subprocess.SubprocessError) as e:
            failed += 1
            print(f"FAIL  {name}: {e}")
            try:
                with open(os.path.join(work, "serve.stderr"), encoding="utf-8") as f:
                    print(f.read()[-2000:])
            except OSError:
                pass
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
