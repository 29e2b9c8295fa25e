#!/usr/bin/env python3
"""`cep test`: the test declarations of .cep files, run end to end (issue 14, section 1).

Runs `cep test` in tests/e2e/cep_test/ (relative paths, so the report is stable) and checks:

  * failing.cep: exit 1, and its report on stdout is exactly failing.out (a field mismatch with
    both values, a missing and an unexpected record, a rejected input record with its place in
    the .cep file, a late record that differs, one passing test), under jit and under interp;
  * passing.cep: exit 0 under --engine all (one PASS line per test and engine), and
    --format json with --filter: one JSON line for the one test, then the summary;
  * aggregates.cep: its test passes under jit and, with --engine all, under both (a program the
    native engine refused would run under interp with a note; none is refused today);
  * bad.cep (an unknown rule): exit 2, the error with its caret on stderr; a missing path: exit 2;
  * a folder: every .cep under it (the files above, 5 of them).

Python 3, standard library only. Exit status 0 when all holds, 1 otherwise (with the reasons).
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cep_test")


def run(cep, *args):
    p = subprocess.run([cep, "test", *args], cwd=HERE, capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cep", required=True)
    cep = os.path.abspath(parser.parse_args().cep)
    problems = []

    def expect(cond, what, out="", err=""):
        if not cond:
            problems.append(f"{what}\n--- stdout\n{out}--- stderr\n{err}")

    with open(os.path.join(HERE, "failing.out")) as f:
        want = f.read()
    for engine in ("jit", "interp"):
        code, out, err = run(cep, "failing.cep", "--engine", engine)
        expect(code == 1, f"failing.cep --engine {engine}: exit {code}, expected 1", out, err)
        got = out.replace(f"[{engine}]", "[ENGINE]").replace(f"engine {engine})",
                                                             "engine ENGINE)")
        expect(got == want, f"failing.cep --engine {engine}: the report differs from "
               "failing.out", out, err)

    code, out, err = run(cep, "passing.cep", "--engine", "all")
    expect(code == 0, f"passing.cep: exit {code}, expected 0", out, err)
    expect(out.count("PASS ") == 6 and "6 passed, 0 failed" in out,
           "passing.cep --engine all: expected 6 PASS lines", out, err)

    code, out, err = run(cep, "passing.cep", "--format", "json", "--filter", "times")
    lines = [json.loads(line) for line in out.splitlines()]
    expect(code == 0 and len(lines) == 2, "--format json: expected 2 lines, exit 0", out, err)
    if len(lines) == 2:
        expect(lines[0].get("test") == "times_out" and lines[0].get("status") == "pass" and
               lines[0].get("location") == "passing.cep:14:6", "--format json: the test line",
               out, err)
        expect(lines[1].get("summary") is True and lines[1].get("passed") == 1,
               "--format json: the summary line", out, err)

    code, out, err = run(cep, "aggregates.cep")
    expect(code == 0 and "PASS aggregates.cep:8:6: counts_per_minute [jit]" in out,
           "aggregates.cep: the test runs under jit", out, err)
    code, out, err = run(cep, "aggregates.cep", "--engine", "all")
    expect(code == 0 and "PASS aggregates.cep:8:6: counts_per_minute [jit]" in out
           and "PASS aggregates.cep:8:6: counts_per_minute [interp]" in out
           and "skipped" not in out, "aggregates.cep --engine all: PASS under both", out, err)

    code, out, err = run(cep, "bad.cep")
    expect(code == 2, f"bad.cep: exit {code}, expected 2", out, err)
    expect("bad.cep:4:15: error: unknown rule `big_after_smal` in test `typo`" in err and
           "^~~~" in err and "did you mean `big_after_small`?" in err,
           "bad.cep: the error with its caret and fix", out, err)
    code, out, err = run(cep, "no-such.cep")
    expect(code == 2 and "no such file or folder" in err, "a missing path: exit 2", out, err)

    code, out, err = run(cep, ".")
    expect(code == 2 and "(5 files, 1 with errors; engine jit)" in out,
           "a folder: every .cep under it; bad.cep makes it exit 2", out, err)

    if problems:
        print("\n\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
