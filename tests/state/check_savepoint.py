#!/usr/bin/env python3
"""`cep savepoint` of a running server, and `cep serve --from-savepoint` starting from it.

  1. a server reads the first part of a stream (card-testing probes: partial matches in flight),
     `cep savepoint` writes the savepoint, the server stops on SIGTERM;
  2. the same rules: a new server `--from-savepoint` (with a fresh -o) reads the rest: its
     output is what an uninterrupted `cep run` writes after the first server's ("@version"
     aside), in the savepoint's version; the rules given again (recompiled) change nothing,
     in another artifact (another hash) they are deployed in keep mode and change nothing;
     with an empty `--state` folder it checkpoints, and a folder holding a checkpoint is then
     refused (ambiguous);
  3. the rules recompiled with a changed condition (keep-compatible): deployed over the
     restored state, the output is the uninterrupted `cep run` of the changed rules (the first
     part cannot tell them apart), in the new version;
  4. refused starts (no output created): a removed step (exit 2 with every reason), another
     --max-delay than the saved server's (exit 2), a server reading stdin asked for a savepoint
     (409, no file), the input
     rewritten since the savepoint (exit 3), a corrupted savepoint (exit 3); a savepoint whose
     compiled code this build cannot load (another artifact ABI) is refused alone (exit 3) and
     its state goes into the rules given (the same output);
  5. a savepoint taken while a drain deploy runs restores both versions (the old one draining)
     and the output is still the uninterrupted run's;
  6. every released format version is still read: each fixture tests/state/savepoints/v*/ (made
     by make_savepoint.py with the build that introduced the version) restored by this build,
     over a copy of its events (another file: a savepoint is portable), writes exactly its
     expected.jsonl.

  check_savepoint.py --cep CEP

Every process is started here on 127.0.0.1 and stopped by its pid; every wait is a bounded wait
for a condition (the server's /metrics), never a blind sleep.
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

V1 = """\
event Payment { card: string, amount: float, ts: time }
pattern card_testing partition by card within 10m {
    small: Payment(amount < 1.00){3,}
    -> big: Payment(amount > 500.0)
}
emit CardTesting { card: big.card, probes: count(small), amount: big.amount }
"""
# The same rules, another artifact (a comment changes the hash): moved over in keep mode.
V1B = V1 + "// recompiled: the same patterns\n"
# Keep-compatible: the same steps, states and key; another condition on `big`.
V2 = V1.replace("amount > 500.0", "amount > 400.0")
# Incompatible: the step `small` is gone.
V3 = """\
event Payment { card: string, amount: float, ts: time }
pattern card_testing partition by card within 10m {
    big: Payment(amount > 500.0)
}
emit CardTesting { card: big.card, amount: big.amount }
"""

T0 = 1767607200000


def payment(card, amount, second):
    return b'{"card":"%s","amount":%s,"ts":%d}\n' % (card.encode(), repr(amount).encode(),
                                                     T0 + second * 1000)


# The first part: probes on four cards (no amount in (400, 500]: v1 and v2 agree on it), one
# match already complete (c0).
FIRST = b"".join([
    payment("c0", 0.5, 0), payment("c0", 0.4, 1), payment("c0", 0.3, 2), payment("c0", 900.0, 3),
    payment("c1", 0.5, 10), payment("c2", 0.4, 11), payment("c3", 0.3, 12),
    payment("c1", 0.6, 20), payment("c2", 0.7, 21), payment("c3", 0.2, 22),
    payment("c1", 0.9, 30), payment("c3", 0.1, 32), payment("c4", 0.2, 33),
])
# The rest: c1 completes with 700 (both versions), c3 with 450 (only v2), c2 gets one more probe
# and 800 (both), then a watermark far enough for every match to be released.
REST = b"".join([
    payment("c1", 700.0, 40), payment("c3", 450.0, 41), payment("c2", 0.8, 42),
    payment("c2", 800.0, 43), payment("c4", 0.5, 44),
]) + b'{"@watermark":%d}\n' % (T0 + 60000)
FIXTURES = Path(__file__).resolve().parent / "savepoints"
TIMEOUT = 60.0
VERSION = re.compile(rb',"@version":"([0-9a-f]+)"')


class Server:
    def __init__(self, cep, work, args, name):
        self.port_file = work / f"{name}.port"
        self.stderr_path = work / f"{name}.stderr"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [cep, "serve", *args, "--follow", "--admin", "127.0.0.1:0",
                 "--admin-port-file", str(self.port_file)],
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

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        return sum(float(v) for v in re.findall(rf'^{name}(?:{{[^}}]*}})? (\S+)$', text, re.M))

    def wait_read(self, records):
        wait_for(f"{records} records read",
                 lambda: self.metric("cep_input_records_read_total") >= records)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(TIMEOUT)
        check(code == 0, f"the server stops on SIGTERM with exit 0 (got {code})")
        return self.stderr()

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(TIMEOUT)

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")


def lines(data):
    return data.count(b"\n")


def strip(data):
    return VERSION.sub(b"", data)


def versions(data):
    return set(VERSION.findall(data))


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def other_abi(savepoint):
    """The savepoint with its (first) artifact's ABI version changed: code another build made."""
    data = bytearray(savepoint[:-8])
    at = 12
    at += 8 + int.from_bytes(data[at:at + 8], "little")  # the meta record
    at += 4  # the artifact count
    at += 4 + int.from_bytes(data[at:at + 4], "little")  # its hash
    at += 8  # its length
    assert data[at:at + 4] == b"CEPO", data[at:at + 4]
    data[at + 8:at + 12] = (999).to_bytes(4, "little")
    return bytes(data) + fnv1a64(data).to_bytes(8, "little")


def uninterrupted(cep, work, rules, name):
    """`cep run` of `rules` over the whole stream, stopped after its last record unfinished."""
    case = work / name
    case.mkdir()
    (case / "rules.cep").write_text(rules)
    (case / "events.jsonl").write_bytes(FIRST + REST)
    subprocess.run([cep, "run", "rules.cep", "-i", "events.jsonl", "-o", "out.jsonl",
                    "--snapshot-after", str(lines(FIRST + REST)), "--snapshot-file", "end.snap"],
                   cwd=case, check=True, timeout=TIMEOUT, capture_output=True)
    return (case / "out.jsonl").read_bytes()


def resumed(cep, work, name, rules_args, matches, extra=()):
    """A server started from the savepoint reads the rest; its output."""
    out = f"{name}.jsonl"
    server = Server(cep, work, ["--from-savepoint", "sp.cepsp", *rules_args, "-i", "events.jsonl",
                                "-o", out, *extra], name)
    try:
        log = server.stderr()
        check("restored the savepoint taken" in log and "card_testing" in log,
              f"{name}: the start says it restored the savepoint and its pattern")
        check(f"input events.jsonl resumes at byte {len(FIRST)} (after line {lines(FIRST)})" in log,
              f"{name}: the input resumes at the savepoint's position")
        server.wait_read(lines(FIRST + REST))
        wait_for(f"{matches} matches written",
                 lambda: server.metric("cep_output_records_total") >= matches)
    finally:
        log = server.stop()
    return (work / out).read_bytes(), log


def refused(cep, work, args, code, reasons):
    r = subprocess.run([cep, "serve", "--from-savepoint", "sp.cepsp", *args, "-i", "events.jsonl",
                        "-o", "refused.jsonl", "--admin", "127.0.0.1:0"],
                       cwd=work, capture_output=True, text=True, timeout=TIMEOUT)
    missing = [reason for reason in reasons if reason not in r.stderr]
    check(r.returncode == code and not missing,
          f"{' '.join(args) or 'the savepoint alone'}: exit {code} with {reasons!r} (got "
          f"{r.returncode}: {r.stderr.strip()})")
    check(not (work / "refused.jsonl").exists(), "  ... and no output was created")


def fixtures(cep, work):
    found = sorted(d for d in FIXTURES.glob("v*") if d.is_dir())
    check(len(found) >= 1, f"the savepoint fixtures are there ({len(found)})")
    for fixture in found:
        case = work / f"fixture_{fixture.name}"
        case.mkdir()
        for name in ("events.jsonl", "savepoint.cepsp"):
            shutil.copy(fixture / name, case / name)
        expected = (fixture / "expected.jsonl").read_bytes()
        args = ["--from-savepoint", "savepoint.cepsp", "-i", "events.jsonl", "-o", "out.jsonl"]
        exact = True
        try:
            server = Server(cep, case, args, "fixture")
        except RuntimeError as e:
            if "this build cannot load the savepoint's compiled code" not in str(e):
                raise
            # An artifact ABI bump since: the format is still read, the state goes into the
            # fixture's rules compiled by this build (another "@version").
            print(f"note  the {fixture.name} fixture's code is another build's: its rules take "
                  "the state")
            shutil.copy(fixture / "rules.cep", case / "rules.cep")
            (case / "out.jsonl").unlink(missing_ok=True)
            server = Server(cep, case, ["rules.cep", *args], "fixture")
            exact = False
        try:
            server.wait_read(lines((case / "events.jsonl").read_bytes()))
            wait_for(f"{lines(expected)} records written",
                     lambda: server.metric("cep_output_records_total") >= lines(expected))
        finally:
            server.stop()
        got = (case / "out.jsonl").read_bytes()
        check(got == expected if exact else strip(got) == strip(expected),
              f"the {fixture.name} fixture restores and writes exactly its expected.jsonl")


def draining(cep, work, want):
    """A savepoint taken while a drain deploy runs: both versions, one draining, are restored."""
    case = work / "drain"
    case.mkdir()
    (case / "v1.cep").write_text(V1)
    (case / "v1b.cep").write_text(V1B)
    (case / "events.jsonl").write_bytes(FIRST)
    subprocess.run([cep, "compile", "v1b.cep", "-o", "v1b.cepo"], cwd=case, check=True,
                   timeout=TIMEOUT, capture_output=True)
    server = Server(cep, case, ["v1.cep", "-i", "events.jsonl", "-o", "first.jsonl"], "first")
    try:
        server.wait_read(lines(FIRST))
        subprocess.run([cep, "deploy", "v1b.cepo", "--server", f"127.0.0.1:{server.port}",
                        "--mode", "drain"], cwd=case, check=True, timeout=TIMEOUT,
                       capture_output=True)
        subprocess.run([cep, "savepoint", "--server", f"127.0.0.1:{server.port}", "-o",
                        "sp.cepsp"], cwd=case, check=True, timeout=TIMEOUT, capture_output=True)
    finally:
        server.stop()
    with open(case / "events.jsonl", "ab") as f:
        f.write(REST)
    second = Server(cep, case, ["--from-savepoint", "sp.cepsp", "-i", "events.jsonl", "-o",
                                "second.jsonl"], "second")
    try:
        second.wait_read(lines(FIRST + REST))
        wait_for("2 matches written", lambda: second.metric("cep_output_records_total") >= 2)
    finally:
        log = second.stop()
    got = (case / "first.jsonl").read_bytes() + (case / "second.jsonl").read_bytes()
    check("(draining)" in log and strip(got) == strip(want),
          "a savepoint taken while a drain runs restores both versions (one draining): the "
          "uninterrupted run's output")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    cep = str(Path(ap.parse_args().cep).resolve())
    work = Path(tempfile.mkdtemp(prefix="cep-savepoint-"))
    servers = []
    try:
        (work / "v1.cep").write_text(V1)
        (work / "v1b.cep").write_text(V1B)
        (work / "v2.cep").write_text(V2)
        (work / "v3.cep").write_text(V3)
        (work / "events.jsonl").write_bytes(FIRST)

        # 1. the first server, its savepoint
        first = Server(cep, work, ["v1.cep", "-i", "events.jsonl", "-o", "first.jsonl"], "first")
        servers.append(first)
        first.wait_read(lines(FIRST))
        wait_for("partial matches in flight",
                 lambda: first.metric("cep_pattern_live_runs") > 0 or None)
        r = subprocess.run([cep, "savepoint", "--server", f"127.0.0.1:{first.port}", "-o",
                            "sp.cepsp"], cwd=work, capture_output=True, text=True,
                           timeout=TIMEOUT)
        check(r.returncode == 0 and "wrote sp.cepsp" in r.stderr,
              f"cep savepoint writes the file (got {r.returncode}: {r.stderr.strip()})")
        data = (work / "sp.cepsp").read_bytes()
        check(data[:8] == b"CEPSAVEP" and data[8:12] == b"\x01\x00\x00\x00",
              "the file starts with CEPSAVEP, format version 1")
        check(first.metric('cep_savepoints_total{outcome="done"}') == 1,
              "cep_savepoints_total counts it")
        log = first.stop()
        check("savepoint taken" in log, "the server logs the savepoint")
        before = (work / "first.jsonl").read_bytes()
        check(lines(before) == 1, f"the first server found c0's match (got {lines(before)})")
        with open(work / "events.jsonl", "ab") as f:
            f.write(REST)

        # 2. the same rules
        want_v1 = uninterrupted(cep, work, V1, "run_v1")
        want_v2 = uninterrupted(cep, work, V2, "run_v2")
        check(want_v1 != want_v2, "the changed condition changes the uninterrupted output")
        check(strip(want_v1).startswith(strip(before)) and
              strip(want_v2).startswith(strip(before)),
              "the first server's output is the start of both uninterrupted runs")
        got, _ = resumed(cep, work, "same", [], 2)
        check(strip(before + got) == strip(want_v1) and lines(got) == 2,
              "from the savepoint, the rest is the uninterrupted run's (2 matches)")
        check(versions(got) == versions(before), "  ... written by the savepoint's version")
        got, log = resumed(cep, work, "recompiled", ["v1.cep"], 2, ["--state", "state"])
        check(strip(before + got) == strip(want_v1),
              "the same rules given again (recompiled): the same output")
        check(versions(got) == versions(before), "  ... in the same version (nothing deployed)")
        check("deployed" not in log, "  ... and nothing was deployed")
        again = Server(cep, work, ["-i", "events.jsonl", "-o", "recompiled.jsonl", "--state",
                                   "state"], "again")
        servers.append(again)
        again.wait_read(lines(FIRST + REST))
        log = again.stop()
        check("cep serve: restored checkpoint" in log and
              f"resumes at byte {len(FIRST + REST)}" in log and
              (work / "recompiled.jsonl").read_bytes() == got,
              "the --state folder it started holds its checkpoint: a restart resumes from it")
        refused(cep, work, ["--state", "state"], 2, ["holds a checkpoint already", "ambiguous"])
        got, log = resumed(cep, work, "same_names", ["v1b.cep"], 2)
        check(strip(before + got) == strip(want_v1),
              "the same rules in another artifact: the same output")
        check(len(versions(got)) == 1 and versions(got) != versions(before),
              "  ... written by the new artifact's version")
        check("(keep, v1b.cep)" in log, "  ... deployed in keep mode")

        # 3. the rules changed (keep-compatible): deployed over the restored state
        got, log = resumed(cep, work, "changed", ["v2.cep"], 3)
        check(strip(before + got) == strip(want_v2) and lines(got) == 3,
              "changed rules over the savepoint: the uninterrupted run of the changed rules "
              "(3 matches)")
        check(len(versions(got)) == 1 and versions(got) != versions(before),
              "  ... written by the new version")
        check("(keep, v2.cep)" in log, "  ... deployed in keep mode")

        # 4. refusals
        refused(cep, work, ["v3.cep"], 2, [
            "cannot move into the artifacts given (keep)",
            "the new version has no step `small`",
            "which the new version does not have"])
        refused(cep, work, ["--max-delay", "5s"], 2,
                ["it was taken with --max-delay 0ms, this run uses --max-delay 5000ms"])
        kept = (work / "events.jsonl").read_bytes()
        (work / "events.jsonl").write_bytes(kept.replace(b'"c2"', b'"c9"'))
        refused(cep, work, [], 3, ["cannot resume input", "it changed"])
        (work / "events.jsonl").write_bytes(kept)
        good = (work / "sp.cepsp").read_bytes()
        bad = bytearray(good)
        bad[len(bad) // 2] ^= 0x40
        (work / "sp.cepsp").write_bytes(bytes(bad))
        refused(cep, work, [], 3, ["bad savepoint: checksum mismatch"])
        (work / "sp.cepsp").write_bytes(good)

        stream = subprocess.Popen([cep, "serve", "v1.cep", "-i", "-", "-o", "stream.jsonl",
                                   "--admin", "127.0.0.1:0", "--admin-port-file", "stream.port"],
                                  cwd=work, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            port = wait_for("the admin port", lambda: (work / "stream.port").exists() and
                            (work / "stream.port").read_text().strip())
            r = subprocess.run([cep, "savepoint", "--server", f"127.0.0.1:{port}", "-o",
                                "stream.cepsp"], cwd=work, capture_output=True, text=True,
                               timeout=TIMEOUT)
            check(r.returncode == 3 and "HTTP 409: input <stdin> is a stream" in r.stderr and
                  not (work / "stream.cepsp").exists(),
                  f"a server reading stdin refuses a savepoint, no file written (got "
                  f"{r.returncode}: {r.stderr.strip()})")
        finally:
            stream.stdin.close()
            os.kill(stream.pid, signal.SIGTERM)
            stream.wait(TIMEOUT)

        # compiled code another build made (another artifact ABI): the rules given take the state
        good = (work / "sp.cepsp").read_bytes()
        (work / "sp.cepsp").write_bytes(other_abi(good))
        refused(cep, work, [], 3, ["ABI", "this build cannot load the savepoint's compiled code "
                                   "of pattern `card_testing`: give rules or an artifact that "
                                   "declare it"])
        got, log = resumed(cep, work, "other_abi", ["v1b.cep"], 2)
        check(strip(before + got) == strip(want_v1) and "state moved into the artifacts given"
              in log, "a savepoint whose code this build cannot load: its state goes into the "
                      "rules given, the same output")
        (work / "sp.cepsp").write_bytes(good)

        draining(cep, work, want_v1)

        # 6. the fixtures of the released format versions
        fixtures(cep, work)
    finally:
        for server in servers:
            server.kill()
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder kept: {work}")
    print(f"{len(failures)} failures" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
