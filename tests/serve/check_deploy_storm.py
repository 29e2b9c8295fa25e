#!/usr/bin/env python3
"""Deploy storms while events flow, and hostile admin requests, against the real `cep serve`
(issue #10 §5).

One `cep serve --admin-token-file T --admin-max-body 1M` reads a named pipe. At the same time:

  deployers (3 threads)  seeded random deploys (keep, drain, fresh) of four artifacts (v1, v2:
                         the same steps; v3: other step names, so a keep deploy over live runs is
                         refused 422; extra: another pattern name, added beside), artifacts
                         whose Payment type differs (409), damaged bytes (400), undeploys (drain,
                         drop) of loaded and unknown patterns (404)
  feeder                 Payment records through the pipe, event time moving forward, from
                         the start until the deployers are done (at least --records)
  poller                 GET /metrics, /patterns, /healthz in a loop
  hostile (2 threads)    requests without the token or with a wrong one (401), bodies over the
                         limit (413, also announced by Content-Length and never sent), garbage
                         on the socket, a request cut off mid-headers, bad modes and parameters
                         (400), unknown paths (404), wrong methods (405), a non-artifact (400)

Checked: every request gets an answer, and that answer is one its request may get (200, or the
4xx above with an "error" reason); the server never dies or hangs (every wait is bounded); once
the threads are done its /metrics read count equals the records written; SIGTERM ends it with
exit 0; the output is whole JSON lines, each with the "@version" of a version that was loaded
(the start artifact or a deploy answered 200).

  check_deploy_storm.py --cep CEP [--records 20000] [--requests 60] [--seed 1]

ctest: `e2e.serve.deploy_storm` (~10 s on the 2-core test machine).
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_serve_cases import CaseError, Server, wait_for  # noqa: E402
from serve_client import payment, request, watermark  # noqa: E402

HEAD = "event Payment { card: string, amount: float, ts: time }\n"
SOURCES = {
    "v1": HEAD + """pattern card_testing partition by card within 10m {
    small: Payment(amount < 1.00){3,} -> big: Payment(amount > 500.0) }
emit CardTesting { card: big.card, probes: count(small), amount: big.amount }
""",
    "v2": HEAD + """pattern card_testing partition by card within 10m {
    small: Payment(amount < 1.00){3,} -> big: Payment(amount > 100.0) }
emit CardTesting { card: big.card, probes: count(small), amount: big.amount }
""",
    "v3": HEAD + """pattern card_testing partition by card within 5m {
    probe: Payment(amount < 2.00){2,} -> large: Payment(amount > 300.0) }
emit CardTesting { card: large.card, probes: count(probe), amount: large.amount }
""",
    "extra": HEAD + """pattern big_payment partition by card within 1m {
    a: Payment(amount > 900.0) -> b: Payment(amount > 900.0) }
emit BigPayments { card: a.card, first: a.amount, second: b.amount }
""",
    "conflict": "event Payment { card: string, amount: int, ts: time }\n" +
                "pattern small_int { p: Payment(amount < 1) }\nemit SmallInt { card: p.card }\n",
}
TOKEN = "storm-token-0123456789"
T0 = 1767607200000
MAX_BODY = 1 << 20


class Storm:
    def __init__(self, server, artifacts, versions, timeout):
        self.server = server
        self.artifacts = artifacts
        self.versions = versions
        self.timeout = timeout
        self.lock = threading.Lock()
        self.loaded_versions = {versions["v1"]}  # the start artifact
        self.failures = []
        self.counts = {}

    def fail(self, message):
        with self.lock:
            self.failures.append(message)

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def call(self, method, path, body=None, allowed=(200,), token=TOKEN, headers=None):
        try:
            status, text = request(self.server.server, method, path, body, token=token,
                                   timeout=self.timeout, headers=headers)
        except OSError as e:
            self.fail(f"{method} {path}: no answer: {e}")
            return None, None
        self.count(f"{method} {path.split('?')[0]} {status}")
        if status not in allowed:
            self.fail(f"{method} {path}: HTTP {status}, expected one of {allowed}: {text.strip()}")
        elif status >= 400:
            try:
                reason = json.loads(text).get("error")
            except ValueError:
                reason = None
            if not reason:
                self.fail(f"{method} {path}: HTTP {status} without an error reason: {text!r}")
        return status, text

    def deployer(self, seed, requests):
        rng = random.Random(seed)
        for _ in range(requests):
            what = rng.choice(["v1", "v2", "v3", "extra", "v1", "v2", "conflict", "damaged",
                               "undeploy", "undeploy", "unknown"])
            mode = rng.choice(["keep", "drain", "fresh"])
            if what == "damaged":
                body = bytearray(self.artifacts["v2"])
                body[len(body) // 2] ^= 0xFF
                self.call("POST", f"/deploy?mode={mode}", bytes(body), allowed=(400,))
            elif what == "conflict":
                self.call("POST", f"/deploy?mode={mode}", self.artifacts["conflict"],
                          allowed=(409,))
            elif what == "undeploy":
                name = rng.choice(["card_testing", "big_payment"])
                how = rng.choice(["drain", "drop"])
                self.call("POST", f"/undeploy?pattern={name}&mode={how}", allowed=(200, 404))
            elif what == "unknown":
                self.call("POST", "/undeploy?pattern=no_such_pattern", allowed=(404,))
            else:
                # keep over live runs of another shape is refused (422); 409 when a deploy of
                # the same artifact is running
                status, _ = self.call("POST", f"/deploy?mode={mode}", self.artifacts[what],
                                      allowed=(200, 409, 422))
                if status == 200:
                    with self.lock:
                        self.loaded_versions.add(self.versions[what])

    def feeder(self, records, max_records, seed, deployers_done):
        """Writes at least `records` records, and goes on while the deployers run (at most
        `max_records`), so that every deploy happens while events flow."""
        rng = random.Random(seed)
        written = 0
        ts = T0
        batch = []
        try:
            while written < max_records and (written < records or not deployers_done.is_set()):
                ts += rng.randint(0, 2000)
                card = f"c{rng.randint(0, 40)}"
                amount = rng.choice([0.5, 0.7, 0.9, 1.5, 150.0, 600.0, 950.0])
                batch.append(payment(card, amount, ts))
                written += 1
                if written % 500 == 0:
                    batch.append(watermark(ts - 1000))
                    written += 1
                if len(batch) >= 200 or written >= records:  # short batches past `records`
                    data = memoryview(b"".join(batch))
                    while data:
                        data = data[os.write(self.server.writer, data):]
                    with self.lock:
                        self.server.fed += len(batch)
                    batch = []
        except OSError as e:
            self.fail(f"feeder: {e}")

    def poller(self, stop):
        while not stop.is_set():
            _, text = self.call("GET", "/metrics")
            if text is not None and "cep_input_records_read_total" not in text:
                self.fail("GET /metrics without cep_input_records_read_total")
            _, text = self.call("GET", "/patterns")
            if text is not None:
                try:
                    if not isinstance(json.loads(text), list):
                        self.fail("GET /patterns is not a JSON array")
                except ValueError:
                    self.fail(f"GET /patterns is not JSON: {text[:200]!r}")
            self.call("GET", "/healthz")

    def announced_huge(self):
        """Content-Length 10 GB and no body: 413 once the server's read timeout (10 s) ends the
        skipping; the other workers serve meanwhile. The socket stays open for writing (a
        client that closes it gets no answer: there is nobody left to answer)."""
        host, port = self.server.server.rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=self.timeout) as s:
                s.sendall(b"POST /deploy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          TOKEN.encode() + b"\r\nContent-Length: 10000000000\r\n\r\n")
                answer = s.recv(65536)
        except OSError as e:
            self.fail(f"Content-Length 10 GB, no body: {e}")
            return
        self.count("raw Content-Length 10 GB, no body")
        line = answer.split(b"\r\n", 1)[0].decode("latin-1")
        if not line.startswith("HTTP/1.1 413"):
            self.fail(f"Content-Length 10 GB, no body: answered {line!r}, expected 413")

    def raw(self, data, what, want_status=None, close_early=False):
        """Sends raw bytes; the server must answer `want_status`, or close, and stay alive."""
        host, port = self.server.server.rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=self.timeout) as s:
                s.sendall(data)
                if close_early:
                    return
                s.shutdown(socket.SHUT_WR)
                answer = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except OSError as e:
            if want_status is not None:
                self.fail(f"{what}: {e}")
            return
        self.count(f"raw {what}")
        if want_status is not None:
            line = answer.split(b"\r\n", 1)[0].decode("latin-1")
            if not line.startswith(f"HTTP/1.1 {want_status}"):
                self.fail(f"{what}: answered {line!r}, expected {want_status}")

    def hostile(self, rounds):
        for _ in range(rounds):
            self.call("GET", "/patterns", token=None, allowed=(401,))
            self.call("POST", "/deploy", self.artifacts["v1"], token="wrong", allowed=(401,))
            self.call("GET", "/metrics", headers={"Authorization": "Basic Zm9vOmJhcg=="},
                      token=None, allowed=(401,))
            self.call("GET", "/nothing-here", token="wrong", allowed=(401,))
            self.call("POST", "/deploy", b"\0" * (MAX_BODY + 1), allowed=(413,))
            self.call("POST", "/deploy", b"\0" * (MAX_BODY + 1), token="wrong", allowed=(413,))
            self.raw(b"\x00\x01\x02 garbage \xff\xfe\r\n\r\n", "garbage")
            self.raw(b"GET /patterns HTTP/1.1\r\nHost: x\r\nAuthor", "cut mid-headers",
                     close_early=True)
            self.raw(b"GET /patterns HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 100000 +
                     b"\r\n\r\n", "a 100 kB header")
            self.call("POST", "/deploy?mode=sideways", self.artifacts["v1"], allowed=(400,))
            self.call("POST", "/deploy?mode=keep&mode=drain", self.artifacts["v1"], allowed=(400,))
            self.call("POST", "/deploy", b"", allowed=(400,))
            self.call("POST", "/deploy", b"hello, not an artifact", allowed=(400,))
            self.call("POST", "/undeploy", allowed=(400,))
            self.call("POST", "/undeploy?pattern=card_testing&mode=later", allowed=(400,))
            self.call("GET", "/patterns?verbose=1", allowed=(400,))
            self.call("GET", "/nothing-here", allowed=(404,))
            self.call("GET", "/deploy", allowed=(405,))
            self.call("DELETE", "/patterns", allowed=(405,))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    parser.add_argument("--records", type=int, default=20000, help="at least this many")
    parser.add_argument("--max-records", type=int, default=2000000)
    parser.add_argument("--requests", type=int, default=60, help="per deployer thread")
    parser.add_argument("--hostile-rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="every wait, in seconds")
    parser.add_argument("--time-limit", type=float, default=600.0,
                        help="the storm's threads must be done within this, in seconds")
    options = parser.parse_args()
    cep = os.path.abspath(options.cep)
    work = tempfile.mkdtemp(prefix="cep-storm-")
    server = None
    try:
        artifacts, versions = {}, {}
        for name, text in SOURCES.items():
            source = os.path.join(work, name + ".cep")
            with open(source, "w", encoding="utf-8") as f:
                f.write(text)
            target = os.path.join(work, name + ".cepo")
            result = subprocess.run([cep, "compile", source, "-o", target], capture_output=True,
                                    text=True)
            if result.returncode != 0:
                raise CaseError(f"cep compile {name}.cep failed:\n{result.stderr}")
            with open(target, "rb") as f:
                artifacts[name] = f.read()
            versions[name] = subprocess.run(
                [sys.executable, "-c", "import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"
                 "'rb').read(), digest_size=32).hexdigest()[:12])", target],
                capture_output=True, text=True, check=True).stdout.strip()
        token_file = os.path.join(work, "admin.token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        server = Server(cep, work, [os.path.join(work, "v1.cepo")],
                        ["--max-delay", "1s", "--admin-token-file", token_file,
                         "--admin-max-body", "1M"], options.timeout, token=TOKEN)
        storm = Storm(server, artifacts, versions, options.timeout)
        stop_polling = threading.Event()
        deployers_done = threading.Event()
        deployers = [threading.Thread(target=storm.deployer, args=(options.seed * 100 + i,
                                                                   options.requests))
                     for i in range(3)]
        threads = deployers + [
            threading.Thread(target=storm.feeder, args=(options.records, options.max_records,
                                                        options.seed, deployers_done)),
            threading.Thread(target=storm.hostile, args=(options.hostile_rounds,)),
            threading.Thread(target=storm.announced_huge)]
        poller = threading.Thread(target=storm.poller, args=(stop_polling,))
        for thread in threads + [poller]:
            thread.daemon = True
            thread.start()
        started = time.monotonic()
        for thread in deployers:
            thread.join(max(0.0, options.time_limit - (time.monotonic() - started)))
        deployers_done.set()
        for thread in threads:
            thread.join(max(0.0, options.time_limit - (time.monotonic() - started)))
            if thread.is_alive():
                raise CaseError(f"the storm did not end within {options.time_limit} s "
                                "(a request or the pipe hangs)")
        stop_polling.set()
        poller.join(options.timeout)
        if poller.is_alive():
            raise CaseError("the poller hangs")
        elapsed = time.monotonic() - started
        fed = server.fed
        wait_for(f"the server to read all {fed} records",
                 lambda: server.alive() and server.records_read() == fed, options.timeout)
        if server.records_read() != fed:
            raise CaseError(f"/metrics counts {server.records_read()} records read, {fed} written")
        server.stop()
        with open(server.out, "rb") as f:
            output = f.read()
        problems = list(storm.failures)
        if output and not output.endswith(b"\n"):
            problems.append("the output does not end with a whole line")
        seen = {}
        for number, line in enumerate(output.splitlines(), 1):
            try:
                record = json.loads(line)
            except ValueError:
                problems.append(f"output line {number} is not JSON: {line[:200]!r}")
                continue
            version = record.get("@version")
            seen[version] = seen.get(version, 0) + 1
            if version not in storm.loaded_versions:
                problems.append(f"output line {number}: \"@version\" {version!r} was never "
                                f"loaded ({sorted(storm.loaded_versions)})")
        names = {v: k for k, v in versions.items()}
        print(f"storm: {elapsed:.1f} s, {fed} records read, {len(output.splitlines())} records "
              f"written (" + ", ".join(f"{names.get(v, v)}: {n}" for v, n in sorted(
                  seen.items(), key=lambda kv: str(kv[0]))) + ")")
        for what, n in sorted(storm.counts.items()):
            print(f"  {n:5d}  {what}")
        if problems:
            for p in problems[:30]:
                print("FAIL  " + p)
            print(server.stderr_text()[-3000:])
            return 1
        print("ok")
        return 0
    except (CaseError, OSError, subprocess.SubprocessError) as e:
        print(f"FAIL  {e}")
        if server is not None:
            print(server.stderr_text()[-3000:])
        return 1
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
