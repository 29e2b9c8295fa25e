#!/usr/bin/env python3
"""`cep deploy`, `cep undeploy`, `cep status` and `cep savepoint` against a stand-in admin server.

The stand-in is a small HTTP server of this script (Python's standard library, on 127.0.0.1, an
ephemeral port, in a thread of this process): it records what each client sent and answers as the
case says, so the clients' requests (method, path, query, token, body) and their handling of
answers (success, a refusal with the server's error text, a body that is not JSON, a connection
closed without an answer) are checked without `cep serve`. Every `cep` run is bounded by a timeout.

    admin_clients.py --cep build/release/cli/cep
"""
import argparse
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

TOKEN = "tok3n-for-tests"
# A real savepoint (the v1 fixture): what `cep savepoint` checks before writing it.
SAVEPOINT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "state",
                         "savepoints", "v1", "savepoint.cepsp")

PATTERNS = [
    {"name": "card_testing", "version": "3f2a9c1d", "artifact_hash": "3f2a9c1d00112233",
     "loaded_at": "2026-01-05T10:00:00.000Z", "state": "active", "live_runs": 12, "keys": 7,
     "matches": 3, "timeouts": 1, "state_bytes": 4096},
    {"name": "velocity", "version": "0badf00d", "artifact_hash": "0badf00d44556677",
     "loaded_at": "2026-01-05T09:59:00.250Z", "state": "draining", "live_runs": 0, "keys": 0,
     "matches": 120, "timeouts": 0, "state_bytes": 0},
]


class StandIn(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # set by each case: (status, body bytes) or "close" (drop the connection without answering)
    answer = (200, b"{}")
    seen = []

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        StandIn.seen.append({"method": self.command, "target": self.path,
                             "auth": self.headers.get("Authorization"), "body": body})
        if StandIn.answer == "close":
            self.close_connection = True
            self.connection.close()
            return
        status, payload = StandIn.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _handle
    do_POST = _handle


def run(cep, args, cwd):
    p = subprocess.run([cep, *args], cwd=cwd, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cep", required=True)
    opts = ap.parse_args()
    cep = os.path.abspath(opts.cep)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"127.0.0.1:{server.server_address[1]}"
    failures = []

    def case(name, answer, args, want_code, want_out=None, want_err=None, want_request=None):
        StandIn.answer = answer
        StandIn.seen = []
        code, out, err = run(cep, args, tmp)
        problems = []
        if code != want_code:
            problems.append(f"exit {code}, want {want_code}")
        if want_out is not None and out != want_out:
            problems.append(f"stdout {out!r}, want {want_out!r}")
        if want_err is not None and err != want_err:
            problems.append(f"stderr {err!r}, want {want_err!r}")
        if want_request is not None:
            seen = StandIn.seen
            if args[0] == "status":
                # `cep status` also reads /metrics, for the rules-topic line of a server with one
                # (docs/kafka.md "Rules topic"); this stand-in has none, so nothing is added.
                metrics = [r for r in seen[1:] if r["target"] == "/metrics"]
                if len(metrics) == 1 and metrics[0]["auth"] == seen[0]["auth"]:
                    seen = seen[:1]
            if len(seen) != 1:
                problems.append(f"{len(seen)} requests, want 1")
            else:
                for key, value in want_request.items():
                    if seen[0][key] != value:
                        problems.append(f"request {key} {seen[0][key]!r}, want {value!r}")
        print(("ok   " if not problems else "FAIL ") + name)
        for p in problems:
            print("     " + p)
        if problems:
            failures.append(name)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            artifact = os.path.join(tmp, "rules.cepo")
            cepo = bytes(range(256)) * 40 + b"\r\n\x00end"  # any bytes: the client sends them
            with open(artifact, "wb") as f:
                f.write(cepo)
            with open(os.path.join(tmp, "admin.token"), "w") as f:
                f.write("  " + TOKEN + "\n")
            token = ["--token-file", "admin.token"]

            deployed = b'{"deployed":["card_testing"],"version":"3f2a9c1d"}\n'
            case("deploy: the bytes, the default mode, the token; the answer on stdout",
                 (200, deployed), ["deploy", "rules.cepo", "--server", address, *token], 0,
                 want_out=deployed.decode(), want_err="",
                 want_request={"method": "POST", "target": "/deploy?mode=keep",
                               "auth": "Bearer " + TOKEN, "body": cepo})
            case("deploy --mode drain, no token", (200, b'{"deployed":[]}'),
                 ["deploy", "rules.cepo", "--server", address, "--mode", "drain"], 0,
                 want_out='{"deployed":[]}\n',
                 want_request={"target": "/deploy?mode=drain", "auth": None})
            case("deploy refused (422): the server's error text and each reason, exit 3",
                 (422, b'{"error":"incompatible: step `big` of card_testing is gone",'
                       b'"reasons":["step `big` of card_testing is gone"]}'),
                 ["deploy", "rules.cepo", "--server", address, "--mode", "keep"], 3,
                 want_out="",
                 want_err="cep deploy: HTTP 422: incompatible: step `big` of card_testing is "
                          "gone\n  step `big` of card_testing is gone\n")
            case("deploy with a wrong token (401)",
                 (401, b'{"error":"wrong token"}'),
                 ["deploy", "rules.cepo", "--server", address, *token], 3,
                 want_err="cep deploy: HTTP 401: wrong token\n")
            case("undeploy: the name encoded, the mode",
                 (200, b'{"undeployed":"a b"}\n'),
                 ["undeploy", "a b", "--server", address, "--mode", "drop", *token], 0,
                 want_out='{"undeployed":"a b"}\n',
                 want_request={"method": "POST", "target": "/undeploy?pattern=a%20b&mode=drop",
                               "auth": "Bearer " + TOKEN, "body": b""})
            case("undeploy of a name not loaded (404)",
                 (404, b'{"error":"no pattern `nope` is loaded"}'),
                 ["undeploy", "nope", "--server", address], 3,
                 want_err="cep undeploy: HTTP 404: no pattern `nope` is loaded\n",
                 want_request={"target": "/undeploy?pattern=nope&mode=drain"})
            case("status: the table",
                 (200, json.dumps(PATTERNS).encode()),
                 ["status", "--server", address, *token], 0,
                 want_out=(
                     "PATTERN       VERSION   STATE     LOADED                    LIVE RUNS  "
                     "KEYS  MATCHES  TIMEOUTS  STATE BYTES\n"
                     "card_testing  3f2a9c1d  active    2026-01-05T10:00:00.000Z         12     "
                     "7        3         1         4096\n"
                     "velocity      0badf00d  draining  2026-01-05T09:59:00.250Z          0     "
                     "0      120         0            0\n"),
                 want_err="",
                 want_request={"method": "GET", "target": "/patterns",
                               "auth": "Bearer " + TOKEN})
            case("status: nothing loaded", (200, b"[]\n"), ["status", "--server", address], 0,
                 want_out="no patterns loaded\n")
            case("status: an answer that is not the array",
                 (200, b'{"patterns":[]}'), ["status", "--server", address], 3,
                 want_err="cep status: the server's /patterns answer is not a JSON array\n")
            case("an error that is not JSON: its first line",
                 (500, b"Internal Server Error\nmore"), ["status", "--server", address], 3,
                 want_err="cep status: HTTP 500: Internal Server Error\n")
            with open(SAVEPOINT, "rb") as f:
                savepoint = f.read()
            target = os.path.join(tmp, "sp.cepsp")
            case("savepoint: POST /savepoint with the token; the bytes written to -o",
                 (200, savepoint), ["savepoint", "--server", address, "-o", "sp.cepsp", *token], 0,
                 want_out="",
                 want_err=f"cep savepoint: wrote sp.cepsp ({len(savepoint)} bytes, format version "
                          "1: 2 pattern versions, 5 keys, 1 input positions)\n",
                 want_request={"method": "POST", "target": "/savepoint",
                               "auth": "Bearer " + TOKEN, "body": b""})
            with open(target, "rb") as f:
                written = f.read()
            if written != savepoint:
                failures.append("savepoint: the file holds the bytes")
            case("savepoint: bytes that are not a savepoint are not written (the file stays)",
                 (200, savepoint[:-1] + bytes([savepoint[-1] ^ 1])),
                 ["savepoint", "--server", address, "-o", "sp.cepsp"], 3,
                 want_err=f"cep savepoint: the server answered {len(savepoint)} bytes that are "
                          "not a savepoint: bad savepoint: checksum mismatch (corrupted or cut "
                          "short)\n")
            with open(target, "rb") as f:
                if f.read() != savepoint:
                    failures.append("savepoint: a refused answer leaves the file as it was")
            case("savepoint refused (409): the server's error text, exit 3",
                 (409, b'{"error":"input <stdin> is a stream"}'),
                 ["savepoint", "--server", address, "-o", "other.cepsp"], 3,
                 want_err="cep savepoint: HTTP 409: input <stdin> is a stream\n")
            if os.path.exists(os.path.join(tmp, "other.cepsp")):
                failures.append("savepoint: a refusal writes no file")
            case("a connection closed without an answer",
                 "close", ["deploy", "rules.cepo", "--server", address], 3,
                 want_err=f"cep deploy: the connection to {address} broke or timed out before "
                          "the answer\n")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    if failures:
        print(f"{len(failures)} failing: {', '.join(failures)}")
        return 1
    print("admin clients: all cases pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
