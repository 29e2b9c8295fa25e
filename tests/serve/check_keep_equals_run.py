#!/usr/bin/env python3
"""A `keep` deploy of the same rules loses, invents and reorders nothing.

The fraud example's rules are compiled twice: `a.cepo` from examples/fraud, `b.cepo` from a copy
whose payments.cep gains a comment (the same patterns, another artifact hash). For several cut
points k, `cep serve a.cepo` reads the example stream's first k records through a named pipe, `b`
is deployed in keep mode, the rest is fed, and the server stops on SIGTERM. Its output must be
the uninterrupted `cep run a.cepo` over the whole stream (stopped after its last record without
finishing: `--snapshot-after N`), byte for byte once the "@version" members are taken out; and
every record written before the cut carries a's version, every one after it b's.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_serve_cases import CaseError, Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "fraud")
VERSION = re.compile(r',"@version":"([0-9a-f]{12})"')


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise CaseError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr}")
    return result


def version_of(path):
    with open(path, "rb") as f:
        return hashlib.blake2b(f.read(), digest_size=32).hexdigest()[:12]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    parser.add_argument("--cuts", default="1,700,1400,2048")
    parser.add_argument("--timeout", type=float, default=60.0)
    options = parser.parse_args()
    cep = os.path.abspath(options.cep)
    work = tempfile.mkdtemp(prefix="cep-keep-")
    try:
        rules = [os.path.join(EXAMPLE, f) for f in ("payments.cep", "accounts.cep", "orders.cep")]
        run([cep, "compile", *rules, "-o", os.path.join(work, "a.cepo")])
        copy = os.path.join(work, "rules")
        os.mkdir(copy)
        for f in ("common.cep", "payments.cep", "accounts.cep", "orders.cep"):
            shutil.copy(os.path.join(EXAMPLE, f), copy)
        with open(os.path.join(copy, "payments.cep"), "a") as f:
            f.write("\n// version b: the same rules\n")
        run([cep, "compile", *[os.path.join(copy, os.path.basename(r)) for r in rules], "-o",
             os.path.join(work, "b.cepo")])
        a, b = version_of(os.path.join(work, "a.cepo")), version_of(os.path.join(work, "b.cepo"))
        if a == b:
            raise CaseError("the two artifacts have the same hash")

        events = os.path.join(EXAMPLE, "events.jsonl")
        with open(events, "rb") as f:
            lines = [line for line in f.read().split(b"\n") if line.strip()]
        reference = os.path.join(work, "reference.jsonl")
        run([cep, "run", os.path.join(work, "a.cepo"), "-i", events, "--max-delay", "2s", "-o",
             reference, "--snapshot-after", str(len(lines)), "--snapshot-file",
             os.path.join(work, "end.snap")])
        with open(reference, encoding="utf-8") as f:
            want = f.read()
        if not want:
            raise CaseError("the reference run wrote nothing")

        failed = 0
        for k in [int(c) for c in options.cuts.split(",")]:
            case = os.path.join(work, f"cut{k}")
            os.mkdir(case)
            for name in ("a.cepo", "b.cepo"):
                shutil.copy(os.path.join(work, name), case)
            with open(os.path.join(case, "first.jsonl"), "wb") as f:
                f.write(b"\n".join(lines[:k]) + b"\n")
            with open(os.path.join(case, "rest.jsonl"), "wb") as f:
                f.write(b"\n".join(lines[k:]) + b"\n" if lines[k:] else b"")
            server = Server(cep, case, [os.path.join(case, "a.cepo")], ["--max-delay", "2s"],
                            options.timeout)
            try:
                server.feed(os.path.join(case, "first.jsonl"))
                with open(server.out, encoding="utf-8") as f:
                    before = f.read().count("\n")
                run([cep, "deploy", os.path.join(case, "b.cepo"), "--server", server.server,
                     "--mode", "keep"])
                server.feed(os.path.join(case, "rest.jsonl"))
                server.stop()
                with open(server.out, encoding="utf-8") as f:
                    got = f.read()
            finally:
                server.kill()
            versions = [m.group(1) for m in VERSION.finditer(got)]
            expected_versions = [a] * before + [b] * (len(versions) - before)
            problems = []
            if VERSION.sub("", got) != want:
                problems.append("the output differs from the uninterrupted run")
            if len(versions) != got.count("\n"):
                problems.append("a record without \"@version\"")
            if versions != expected_versions:
                problems.append(f"versions: {before} records before the cut should be {a}, "
                                f"the rest {b}")
            if problems:
                failed += 1
                print(f"FAIL  cut after {k} records: " + "; ".join(problems))
                print(server.stderr_text())
            else:
                print(f"ok    cut after {k} records: {got.count(chr(10))} records, "
                      f"{before} before the deploy")
        return 1 if failed else 0
    except CaseError as e:
        print(f"FAIL  {e}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
