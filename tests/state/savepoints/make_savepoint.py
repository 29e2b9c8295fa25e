#!/usr/bin/env python3
"""Makes a savepoint fixture (tests/state/savepoints/README.md): savepoint.cepsp and expected.jsonl
of the folder DIR, with the `cep` given (the build that writes the format version).

  make_savepoint.py --cep build/release/cli/cep --dir tests/state/savepoints/v1 --first 14

A server (`cep serve DIR/rules.cep -i events.jsonl --follow`, default options) reads the first
FIRST lines of DIR/events.jsonl, `cep savepoint` writes DIR/savepoint.cepsp, the server stops;
then a server started from the savepoint reads the whole file and what it writes becomes
DIR/expected.jsonl, once checked against the uninterrupted `cep run` ("@version" aside). Run it
once per released format version, never again over a committed fixture: e2e.state.savepoint
restores every one of them with the current build.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import check_savepoint as cs  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--first", type=int, required=True, help="lines read before the savepoint")
    options = ap.parse_args()
    cep = str(Path(options.cep).resolve())
    fixture = Path(options.dir).resolve()
    events = (fixture / "events.jsonl").read_bytes()
    lines = events.splitlines(keepends=True)
    first = b"".join(lines[:options.first])
    work = Path(tempfile.mkdtemp(prefix="cep-make-savepoint-"))
    try:
        shutil.copy(fixture / "rules.cep", work / "rules.cep")
        (work / "events.jsonl").write_bytes(first)
        server = cs.Server(cep, work, ["rules.cep", "-i", "events.jsonl", "-o", "first.jsonl"],
                           "first")
        try:
            server.wait_read(options.first)
            cs.wait_for("partial matches in flight",
                        lambda: server.metric("cep_pattern_live_runs") > 0 or None)
            subprocess.run([cep, "savepoint", "--server", f"127.0.0.1:{server.port}", "-o",
                            "savepoint.cepsp"], cwd=work, check=True, timeout=cs.TIMEOUT)
        finally:
            server.stop()
        (work / "events.jsonl").write_bytes(events)
        resumed = cs.Server(cep, work, ["--from-savepoint", "savepoint.cepsp", "-i",
                                        "events.jsonl", "-o", "expected.jsonl"], "resumed")
        try:
            resumed.wait_read(len(lines))
        finally:
            resumed.stop()

        whole = work / "whole"
        whole.mkdir()
        (whole / "events.jsonl").write_bytes(events)
        subprocess.run([cep, "run", str(work / "rules.cep"), "-i", "events.jsonl", "-o", "out.jsonl",
                        "--snapshot-after", str(len(lines)), "--snapshot-file", "end.snap"],
                       cwd=whole, check=True, timeout=cs.TIMEOUT, capture_output=True)
        before = (work / "first.jsonl").read_bytes()
        expected = (work / "expected.jsonl").read_bytes()
        if cs.strip(before + expected) != cs.strip((whole / "out.jsonl").read_bytes()):
            print("the resumed output is not the uninterrupted run's: nothing written")
            return 1
        if cs.failures:
            return 1
        shutil.copy(work / "savepoint.cepsp", fixture / "savepoint.cepsp")
        shutil.copy(work / "expected.jsonl", fixture / "expected.jsonl")
        records = expected.count(b"\n")
        print(f"wrote {fixture / 'savepoint.cepsp'} and {fixture / 'expected.jsonl'} "
              f"({records} records after the savepoint)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
