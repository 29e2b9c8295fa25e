#!/usr/bin/env python3
"""Runs the `cep serve` golden cases (tests/golden/serve/<case>/) against the real process.

A case folder holds rule files (`*.cep`, each compiled to `<name>.cepo` by `cep compile`), event
files, a `script`, and the expected results:

  expected.jsonl   the server's output, byte for byte
  expected.log     what each admin command of the script printed (optional)

In both, `{name}` stands for the version of `<name>.cepo` (the first 12 hex digits of its
BLAKE2b-256) and `{name:hash}` for the whole hash, so the expectations survive a new `cep` build.

The script, one command per line (`#` starts a comment):

  serve NAME... [-- ARGS...]   start `cep serve NAME.cepo... -i FIFO -o OUT --admin 127.0.0.1:0
                               --admin-port-file F ARGS`; the input is a named pipe
  feed FILE                    write FILE's lines into the pipe, then wait until the server has
                               read and processed every one (its /metrics read count)
  deploy NAME [MODE]           `cep deploy NAME.cepo --server ... [--mode MODE]`; its exit code,
  deploy-file FILE [MODE]      the same with a file of the case as it is (a damaged artifact)
  undeploy PATTERN [MODE]      `cep undeploy ...`      stdout and stderr go to the log
  status                       `cep status ...`
  patterns                     GET /patterns, (name, version, state, live_runs) per pattern
                               (an aggregate's line adds `aggregate open_windows=N`)
  stop                         SIGTERM; the server must exit 0

Every wait is bounded (--timeout seconds); the server is killed by its pid on any failure.

With --workers N every `serve` gets `--workers N` (docs/serve.md "Workers") and every case must
give the same expectations, byte for byte, aggregates included (their keys spread over the
workers, their windows fired at the workers' barrier, keep, fresh and drain deploys).
"""

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = os.path.join(ROOT, "tests", "golden", "serve")


class CaseError(Exception):
    pass


def wait_for(what, condition, timeout):
    """Polls `condition` until it returns a true value (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CaseError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class Server:
    def __init__(self, cep, work, artifacts, args, timeout, token=None):
        self.cep = cep
        self.token = token  # sent as `Authorization: Bearer` (the server has --admin-token-file)
        self.work = work
        self.timeout = timeout
        self.fifo = os.path.join(work, "input.fifo")
        self.out = os.path.join(work, "out.jsonl")
        self.port_file = os.path.join(work, "admin.port")
        self.stderr_path = os.path.join(work, "serve.stderr")
        os.mkfifo(self.fifo)
        command = [cep, "serve", *artifacts, "-i", self.fifo, "-o", self.out, "--admin",
                   "127.0.0.1:0", "--admin-port-file", self.port_file, *args]
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     cwd=work)
        self.writer = None
        self.fed = 0
        # Opening a FIFO for writing blocks until the reader opens it: wait for that, or for the
        # server to die (then the open is unblocked by opening the read end ourselves).
        opened = {}

        def open_writer():
            try:
                opened["fd"] = os.open(self.fifo, os.O_WRONLY)
            except OSError as e:  # pragma: no cover
                opened["error"] = e

        thread = threading.Thread(target=open_writer, daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while thread.is_alive():
            thread.join(0.01)
            if self.proc.poll() is not None:
                fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
                thread.join(1)
                os.close(fd)
                raise CaseError(f"cep serve exited with {self.proc.returncode} at start:\n"
                                + self.stderr_text())
            if time.monotonic() > deadline:
                raise CaseError("timed out waiting for cep serve to open its input")
        if "error" in opened:
            raise CaseError(f"cannot open the input pipe: {opened['error']}")
        self.writer = opened["fd"]
        wait_for("the admin port file", lambda: self.read_port(), timeout)
        self.server = "127.0.0.1:%d" % self.port

    def read_port(self):
        if self.proc.poll() is not None:
            raise CaseError(f"cep serve exited with {self.proc.returncode}:\n" + self.stderr_text())
        try:
            with open(self.port_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        if not text:
            return None
        self.port = int(text)
        return True

    def stderr_text(self):
        self.stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def get(self, path):
        request = urllib.request.Request(f"http://{self.server}{path}")
        if self.token is not None:
            request.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(request, timeout=self.timeout) as r:
            return r.read().decode("utf-8")

    def records_read(self):
        total = 0
        for line in self.get("/metrics").splitlines():
            if line.startswith("cep_input_records_read_total"):
                total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def feed(self, path):
        with open(path, "rb") as f:
            data = f.read()
        lines = [line for line in data.split(b"\n") if line.strip()]
        if data and not data.endswith(b"\n"):
            data += b"\n"
        view = memoryview(data)
        while view:
            written = os.write(self.writer, view)
            view = view[written:]
        self.fed += len(lines)
        wait_for(f"the server to read {self.fed} records",
                 lambda: self.alive() and self.records_read() >= self.fed, self.timeout)

    def alive(self):
        if self.proc.poll() is not None:
            raise CaseError(f"cep serve exited with {self.proc.returncode}:\n" + self.stderr_text())
        return True

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            raise CaseError("cep serve did not stop within the timeout after SIGTERM")
        if self.writer is not None:
            os.close(self.writer)
            self.writer = None
        if code != 0:
            raise CaseError(f"cep serve exited with {code} after SIGTERM:\n" + self.stderr_text())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.writer is not None:
            os.close(self.writer)
            self.writer = None
        self.stderr.close()


def compile_rules(cep, case_dir, work):
    versions = {}
    for name in sorted(os.listdir(case_dir)):
        if not name.endswith(".cep"):
            continue
        stem = name[:-4]
        out = os.path.join(work, stem + ".cepo")
        result = subprocess.run([cep, "compile", os.path.join(case_dir, name), "-o", out],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise CaseError(f"cep compile {name} failed:\n{result.stderr}")
        with open(out, "rb") as f:
            digest = hashlib.blake2b(f.read(), digest_size=32).hexdigest()
        versions[stem] = digest
    return versions


def normalise(text, versions):
    # Longest first, so a hash is replaced before its prefix.
    for stem, digest in sorted(versions.items()):
        text = text.replace(digest, "{%s:hash}" % stem)
    for stem, digest in sorted(versions.items()):
        text = text.replace(digest[:12], "{%s}" % stem)
    text = re.sub(r'"pause_seconds":[0-9.e+-]+', '"pause_seconds":<pause>', text)
    text = re.sub(r'"loaded_at":"[^"]*"', '"loaded_at":<time>', text)
    return text


def run_admin(cep, server, words, work, case_dir, versions, log):
    kind = words[0]
    if kind in ("deploy", "deploy-file"):
        artifact = (os.path.join(work, words[1] + ".cepo") if kind == "deploy" else
                    os.path.join(case_dir, words[1]))
        command = [cep, "deploy", artifact, "--server", server]
        if len(words) > 2:
            command += ["--mode", words[2]]
    elif kind == "undeploy":
        command = [cep, "undeploy", words[1], "--server", server]
        if len(words) > 2:
            command += ["--mode", words[2]]
    else:
        command = [cep, "status", "--server", server]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    log.append("$ " + " ".join(words))
    log.append(f"exit {result.returncode}")
    for stream in (result.stdout, result.stderr):
        text = normalise(stream, versions).rstrip("\n")
        if text:
            log.append(text)


def run_case(cep, case_dir, timeout, update, workers=None):
    name = os.path.basename(case_dir)
    work = tempfile.mkdtemp(prefix=f"cep-serve-{name}-")
    server = None
    try:
        versions = compile_rules(cep, case_dir, work)
        log = []
        with open(os.path.join(case_dir, "script")) as f:
            script = [line.split("#", 1)[0].strip() for line in f]
        for number, line in enumerate(script, 1):
            if not line:
                continue
            words = shlex.split(line)
            try:
                if words[0] == "serve":
                    if server is not None:
                        raise CaseError("serve twice")
                    args = []
                    if "--" in words:
                        at = words.index("--")
                        words, args = words[:at], words[at + 1:]
                    artifacts = [os.path.join(work, w + ".cepo") for w in words[1:]]
                    if workers is not None:
                        args += ["--workers", str(workers)]
                    server = Server(cep, work, artifacts, args, timeout)
                elif words[0] == "feed":
                    server.feed(os.path.join(case_dir, words[1]))
                elif words[0] in ("deploy", "deploy-file", "undeploy", "status"):
                    run_admin(cep, server.server, words, work, case_dir, versions, log)
                elif words[0] == "patterns":
                    patterns = json.loads(server.get("/patterns"))
                    log.append("$ patterns")
                    for p in patterns:
                        line = "%s %s %s live_runs=%d" % (p["name"], p["version"], p["state"],
                                                          p["live_runs"])
                        if p.get("kind") == "aggregate":
                            line += " aggregate open_windows=%d" % p["open_windows"]
                        log.append(normalise(line, versions))
                elif words[0] == "stop":
                    server.stop()
                else:
                    raise CaseError(f"unknown command `{words[0]}`")
            except CaseError as e:
                raise CaseError(f"script line {number} ({line}): {e}")
        if server is None or server.proc.returncode is None:
            raise CaseError("the script must end with `stop`")
        with open(server.out, encoding="utf-8") as f:
            output = normalise(f.read(), versions)
        got = {"expected.jsonl": output}
        if log or os.path.exists(os.path.join(case_dir, "expected.log")):
            got["expected.log"] = "\n".join(log) + "\n"
        failures = []
        for file, text in got.items():
            path = os.path.join(case_dir, file)
            if update:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    want = f.read()
            except FileNotFoundError:
                want = None
            if want != text:
                failures.append(f"{file} differs:\n--- expected\n{want}--- got\n{text}")
        if failures:
            raise CaseError("\n".join(failures) + "\nserver stderr:\n" + server.stderr_text())
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    parser.add_argument("-k", dest="only", help="run only the cases whose name contains this")
    parser.add_argument("--timeout", type=float, default=30.0, help="every wait, in seconds")
    parser.add_argument("--update", action="store_true",
                        help="write what the cases give as their expectations (then read them)")
    parser.add_argument("--workers", type=int,
                        help="serve every case with --workers N (the same expectations)")
    options = parser.parse_args()
    if options.update and options.workers is not None:
        parser.error("--update writes the expectations of one worker: leave out --workers")
    cases = sorted(d for d in os.listdir(CASES) if os.path.isdir(os.path.join(CASES, d)))
    if options.only:
        cases = [c for c in cases if options.only in c]
    failed = 0
    for case in cases:
        started = time.monotonic()
        try:
            run_case(os.path.abspath(options.cep), os.path.join(CASES, case), options.timeout,
                     options.update, options.workers)
            print(f"ok    {case} ({time.monotonic() - started:.2f} s)")
        except (CaseError, subprocess.TimeoutExpired, OSError) as e:
            failed += 1
            print(f"FAIL  {case}: {e}")
    print(f"{len(cases) - failed} of {len(cases)} serve cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
