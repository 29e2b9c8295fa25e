#!/usr/bin/env python3
"""Tracing a key on `cep serve` through the admin endpoint (docs/debugging.md "On cep serve").

The fraud example's payment rules are compiled (the artifact keeps their sources) and served
from a pipe. After the first part of examples/fraud/events.jsonl has been read, two keys are
traced (one as JSON Lines, one as text) while the key's runs are in flight; then the rest is
fed. The lines the server wrote must be exactly `cep run --trace`'s over the same events from
that point (the same arrival numbers, the runs seeded from the native matcher's state: a run
that bound an event from before the trace started shows it), every event of the key after the
cut included. `cep trace` follows a third key over the last lines until a SIGTERM: the same
check. Then the refusals: a bad format, an unknown pattern, an artifact deployed with
--no-sources, a key traced twice; the metrics; and DELETE.

  check_serve_trace.py --cep CEP
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_serve_cases import CaseError, Server, wait_for  # noqa: E402
from serve_client import request  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRAUD = os.path.join(ROOT, "examples", "fraud")
JSON_KEY, TEXT_KEY = "c-900004", "c-001397"  # payments before and after the cut
CLI_KEY, LAST = "c-001995", 300  # `cep trace` follows this key over the last 300 lines


def run(command, cwd):
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120)
    if result.returncode != 0:
        raise CaseError(f"{' '.join(command)}: exit {result.returncode}:\n{result.stderr}")
    return result


def reference(cep, work, key, fmt):
    path = os.path.join(work, f"ref.{key}.{fmt}")
    run([cep, "run", "payments.cep", "-i", "events.jsonl", "-o", "/dev/null", "--trace", key,
         "--trace-format", fmt, "--trace-output", path], work)
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def arrival(line, fmt):
    """The arrival number an event-driven trace line is about; None for other lines."""
    if fmt == "json":
        obj = json.loads(line)
        return obj["event"] if obj["by"] == "event" else None
    if line.startswith("#"):
        return int(line[1:].split(" ", 1)[0])
    return None


def compare(served, ref, cut, fmt, key, upto=None):
    """`served` must be `ref` from just after the key's last line about an event <= cut, and
    hold every line about an event after the cut (up to `upto`, the last one fed)."""
    last = max((i for i, line in enumerate(ref) if (arrival(line, fmt) or 0) > 0 and
                arrival(line, fmt) <= cut), default=-1)
    if fmt == "text":  # the text form: the indented lines after an event line belong to it
        while last + 1 < len(ref) and ref[last + 1].startswith("  "):
            last += 1
    start = last + 1
    expected = ref[start:start + len(served)]
    if served != expected:
        for i, (a, b) in enumerate(zip(served, expected)):
            if a != b:
                raise CaseError(f"[{key} {fmt}] line {i} differs:\n  serve: {a}\n  run:   {b}")
        raise CaseError(f"[{key} {fmt}] {len(served)} lines, cep run has {len(expected)} there")
    after = [line for line in ref[start:]
             if arrival(line, fmt) and (upto is None or arrival(line, fmt) <= upto)]
    missing = [line for line in after if line not in served]
    if missing:
        raise CaseError(f"[{key} {fmt}] events of the key after the cut not traced: {missing[:2]}")
    if not after:
        raise CaseError(f"[{key} {fmt}] no event of the key after the cut to compare")


def seeded(served, cut, fmt):
    """Whether a traced run had bound an event read before the trace started."""
    for line in served:
        if fmt == "json":
            run_ = json.loads(line).get("run")
            if run_ and any(n <= cut for n in run_["events"]):
                return True
        elif "run [#" in line:
            numbers = line.split("run [", 1)[1].split("]", 1)[0].split()
            if any(int(n[1:]) <= cut for n in numbers):
                return True
    return False


def metric(server, name):
    status, text = request(server.server, "GET", "/metrics")
    if status != 200:
        raise CaseError(f"GET /metrics: HTTP {status}")
    values = [float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(name + " ")]
    return values[0] if values else None


def expect(server, method, path, status, contains=""):
    got, body = request(server.server, method, path)
    if got != status or contains not in body:
        raise CaseError(f"{method} {path}: HTTP {got} {body.strip()}, wanted {status} "
                        f"with `{contains}`")
    return body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cep", required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    cep = os.path.abspath(args.cep)
    work = tempfile.mkdtemp(prefix="cep-serve-trace-")
    server = None
    try:
        for name in ["payments.cep", "common.cep", "events.jsonl"]:
            shutil.copy(os.path.join(FRAUD, name), work)
        run([cep, "compile", "payments.cep", "-o", "rules.cepo"], work)
        with open(os.path.join(work, "events.jsonl"), encoding="utf-8") as f:
            lines = f.read().splitlines(True)
        # The cut: just after the JSON key's 7th payment (its velocity run holds 7 events).
        seen = 0
        for cut, line in enumerate(lines, 1):
            seen += json.loads(line).get("card") == JSON_KEY
            if seen == 7:
                break
        with open(os.path.join(work, "part1.jsonl"), "w", encoding="utf-8") as f:
            f.writelines(lines[:cut])
        cut2 = len(lines) - LAST
        with open(os.path.join(work, "part2.jsonl"), "w", encoding="utf-8") as f:
            f.writelines(lines[cut:cut2])
        with open(os.path.join(work, "part3.jsonl"), "w", encoding="utf-8") as f:
            f.writelines(lines[cut2:])

        server = Server(cep, work, [os.path.join(work, "rules.cepo")], [], args.timeout)
        server.feed(os.path.join(work, "part1.jsonl"))
        started = json.loads(expect(server, "POST", f"/trace?key={JSON_KEY}&format=json", 200,
                                    '"tracing"'))
        runs = {p["pattern"]: p["runs"] for p in started["patterns"]}
        if runs.get("velocity", 0) < 1:
            raise CaseError(f"the trace was not seeded with the key's velocity runs: {started}")
        expect(server, "POST", f"/trace?key={TEXT_KEY}", 200, '"format":"text"')
        expect(server, "POST", f"/trace?key={JSON_KEY}", 409, "traced already")
        expect(server, "POST", "/trace?key=x&format=yaml", 400, "bad format")
        expect(server, "POST", "/trace?key=x&pattern=nope", 404, "no pattern `nope`")
        expect(server, "GET", "/trace?key=never", 404, "is not traced")
        expect(server, "PUT", f"/trace?key={JSON_KEY}", 405, "POST, GET, DELETE")
        if metric(server, "cep_traced_keys") != 2:
            raise CaseError("cep_traced_keys is not 2")

        server.feed(os.path.join(work, "part2.jsonl"))
        for key, fmt in [(JSON_KEY, "json"), (TEXT_KEY, "text")]:
            body = expect(server, "GET", f"/trace?key={key}", 200)
            served = body.splitlines()
            compare(served, reference(cep, work, key, fmt), cut, fmt, key, cut2)
            if key == JSON_KEY and not seeded(served, cut, fmt):
                raise CaseError(f"[{key}] no traced run shows an event from before the cut")
            if expect(server, "GET", f"/trace?key={key}", 200) != "":
                raise CaseError(f"[{key}] a second read gave lines again")
        # `cep trace` (the CLI over the endpoint) from the second cut to a SIGTERM; the lines it
        # wrote are cep run's from there too. (The two traces above go on meanwhile.)
        trace = subprocess.Popen([cep, "trace", "--server", server.server, "--key", CLI_KEY],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            def cli_tracing():
                if trace.poll() is not None:
                    raise CaseError(f"cep trace exited with {trace.returncode}: "
                                    f"{trace.stderr.read()}")
                return metric(server, "cep_traced_keys") == 3
            wait_for("cep trace to start its trace", cli_tracing, args.timeout)
            server.feed(os.path.join(work, "part3.jsonl"))
            trace.send_signal(signal.SIGTERM)
            out, err = trace.communicate(timeout=args.timeout)
        finally:
            if trace.poll() is None:
                trace.kill()
                trace.wait()
        if trace.returncode != 0 or '"stopped"' not in err:
            raise CaseError(f"cep trace: exit {trace.returncode}: {err}")
        compare(out.splitlines(), reference(cep, work, CLI_KEY, "text"), cut2, "text", CLI_KEY)
        if metric(server, "cep_traced_keys") != 2:
            raise CaseError("cep trace did not stop its trace")

        if not metric(server, "cep_trace_lines_total"):
            raise CaseError("cep_trace_lines_total is not counted")
        if metric(server, "cep_trace_disagreements_total") != 0:
            raise CaseError("the native matchers and the shadows disagreed")

        # An artifact without sources: deployed, but its pattern cannot be traced.
        with open(os.path.join(work, "big.cep"), "w", encoding="utf-8") as f:
            f.write('import "common.cep"\npattern big2 { p: Payment(amount > 900) }\n'
                    'emit Big2 { card: p.card }\n')
        run([cep, "compile", "--no-sources", "big.cep", "-o", "big.cepo"], work)
        with open(os.path.join(work, "big.cepo"), "rb") as f:
            status, body = request(server.server, "POST", "/deploy", f.read())
        if status != 200:
            raise CaseError(f"deploy of big.cepo: HTTP {status} {body}")
        expect(server, "POST", "/trace?key=x&pattern=big2", 422, "carries no rule sources")

        stopped = json.loads(expect(server, "DELETE", f"/trace?key={JSON_KEY}", 200, '"stopped"'))
        if stopped["disagreements"] != 0 or stopped["compared"] < 0:
            raise CaseError(f"DELETE: {stopped}")
        expect(server, "GET", f"/trace?key={JSON_KEY}", 404, "is not traced")
        if metric(server, "cep_traced_keys") != 1:
            raise CaseError("cep_traced_keys is not 1 after a DELETE")
        server.stop()
        print("serve trace: ok")
    except CaseError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        if server is not None:
            print(server.stderr_text()[-3000:], file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
