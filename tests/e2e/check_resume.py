#!/usr/bin/env python3
"""End-to-end checks of `cep run --snapshot-after K --snapshot-file F` / `--resume F` that the
golden resume mode (run_golden --resume) does not make: resumed inputs that are not the ones the
snapshot consumed (a file replaced, truncated or changed before its byte position; stdin, read
again from its start, shorter or with its records on other lines), two inputs read round-robin,
a run cut three times (a resumed run that snapshots again), and a cut before what the resumed
run already consumed. Each refusal is one line and exit 3. Every command runs in a fresh
temporary folder with a bounded timeout.

Python 3, standard library only.  Usage: check_resume.py --cep CEP
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

TIMEOUT_S = 60

RULES = """\
event A { k: string, v: int, ts: time }
pattern up partition by k within 10s { a: A() -> b: A(v > a.v) }
emit Up { k: a.k, from: a.v, to: b.v }
on timeout emit Flat { k: a.k }
"""


def record(i, key="x"):
    return json.dumps({"k": key, "v": (i * 7) % 5, "ts": 1_000_000 + i * 3000}) + "\n"


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def cep(exe, folder, *args, stdin=None):
    """Runs cep in `folder`; `stdin` names a file of it to read standard input from."""
    if stdin is None:
        p = subprocess.run([exe, *args], cwd=folder, capture_output=True, timeout=TIMEOUT_S,
                           stdin=subprocess.DEVNULL)
    else:
        with open(os.path.join(folder, stdin), "rb") as f:
            p = subprocess.run([exe, *args], cwd=folder, capture_output=True, timeout=TIMEOUT_S,
                               stdin=f)
    expect(p.returncode != 70, f"internal error: {p.stderr.decode(errors='replace')}")
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def write(folder, name, text):
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        f.write(text)


def refused(exe, folder, args, want, stdin=None):
    code, out, err = cep(exe, folder, *args, stdin=stdin)
    lines = err.strip().splitlines()
    expect(code == 3 and len(lines) == 1 and want in lines[0],
           f"{' '.join(args)}: expected exit 3 and one line with {want!r}; got exit {code}: {err!r}")


def check(exe):
    with tempfile.TemporaryDirectory() as tmp:
        write(tmp, "rules.cep", RULES)
        write(tmp, "events.jsonl", "".join(record(i) for i in range(12)))
        code, whole, err = cep(exe, tmp, "run", "rules.cep", "-i", "events.jsonl")
        expect(code == 0 and whole.count(b"\n") >= 4, f"the whole run: exit {code}: {err}")

        # Cut three times: after 3, resumed and cut again after 8 (counted from the start), then
        # resumed to the end; the parts together are the whole, whatever the engines.
        parts = []
        code, out, err = cep(exe, tmp, "run", "rules.cep", "-i", "events.jsonl", "--engine",
                             "interp", "--snapshot-after", "3", "--snapshot-file", "s1")
        expect(code == 0 and "snapshot after 3 records" in err, f"first cut: {code}: {err}")
        parts.append(out)
        code, out, err = cep(exe, tmp, "run", "rules.cep", "-i", "events.jsonl", "--resume", "s1",
                             "--snapshot-after", "8", "--snapshot-file", "s2")
        expect(code == 0 and "snapshot after 8 records" in err, f"second cut: {code}: {err}")
        parts.append(out)
        code, out, err = cep(exe, tmp, "run", "rules.cep", "-i", "events.jsonl", "--engine",
                             "interp", "--resume", "s2")
        expect(code == 0, f"last part: {code}: {err}")
        parts.append(out)
        expect(b"".join(parts) == whole, f"three parts differ from the whole:\n{parts}\n{whole}")

        # A cut before what the resumed run consumed already.
        refused(exe, tmp, ["run", "rules.cep", "-i", "events.jsonl", "--resume", "s2",
                           "--snapshot-after", "5", "--snapshot-file", "s3"],
                "--snapshot-after 5: the resumed run has consumed 8 records already")
        expect(not os.path.exists(os.path.join(tmp, "s3")), "a refused cut wrote a snapshot")

        # Resumed at the byte position the snapshot recorded: after 8 records.
        code, out, err = cep(exe, tmp, "run", "rules.cep", "-i", "events.jsonl", "--resume", "s2")
        offset = len("".join(record(i) for i in range(8)))
        expect(code == 0 and err == f'cep run: resumed from "s2": "events.jsonl" at byte {offset} '
               '(line 8)\n', f"resumed at a byte position: {code}: {err!r}")

        # The file is not the one the snapshot read: shorter than its position, a byte changed
        # before it (a blank line inserted), another file renamed over it.
        at3 = f'cep run: --resume "s1": cannot resume input "events.jsonl" at byte ' \
              f'{len("".join(record(i) for i in range(3)))} (line 3): '
        full = "".join(record(i) for i in range(12))
        write(tmp, "events.jsonl", "".join(record(i) for i in range(2)))
        refused(exe, tmp, ["run", "rules.cep", "-i", "events.jsonl", "--resume", "s1"],
                at3 + f"it was truncated ({len(''.join(record(i) for i in range(2)))} bytes now)")
        write(tmp, "events.jsonl", record(0) + "\n" + "".join(record(i) for i in range(1, 12)))
        refused(exe, tmp, ["run", "rules.cep", "-i", "events.jsonl", "--resume", "s1"],
                at3 + "it changed (its first 102 bytes differ)")
        write(tmp, "events.jsonl", full)
        write(tmp, "copy.jsonl", full)
        os.replace(os.path.join(tmp, "copy.jsonl"), os.path.join(tmp, "events.jsonl"))
        refused(exe, tmp, ["run", "rules.cep", "-i", "events.jsonl", "--resume", "s1"],
                at3 + "it was replaced (device ")

        # Standard input cannot seek: it is read again from its start and what the snapshot
        # consumed is skipped, checking the count and the line of the last.
        code, first, err = cep(exe, tmp, "run", "rules.cep", "-i", "-", "--snapshot-after", "3",
                               "--snapshot-file", "u", stdin="events.jsonl")
        expect(code == 0, f"stdin, first part: {code}: {err}")
        code, second, err = cep(exe, tmp, "run", "rules.cep", "-i", "-", "--engine", "interp",
                                "--resume", "u", stdin="events.jsonl")
        expect(code == 0 and first + second == whole and err ==
               'cep run: resumed from "u": "<stdin>" read again from its start (3 records '
               'skipped)\n', f"stdin, resumed: {code}: {err!r}")
        # Shorter than what the snapshot consumed.
        write(tmp, "short.jsonl", "".join(record(i) for i in range(2)))
        refused(exe, tmp, ["run", "rules.cep", "-i", "-", "--resume", "u"],
                'bad run snapshot: input "<stdin>" ends after 2 records; the snapshot '
                'consumed 3 (not the input it was taken of)', stdin="short.jsonl")
        # Its last consumed record moved to another line (a blank line before it).
        write(tmp, "moved.jsonl", record(0) + "\n" + "".join(record(i) for i in range(1, 12)))
        refused(exe, tmp, ["run", "rules.cep", "-i", "-", "--resume", "u"],
                'bad run snapshot: input "<stdin>": the snapshot\'s last record of it was on '
                'line 3, here on line 4 (not the input it was taken of)', stdin="moved.jsonl")

        # Two inputs, round-robin: a.jsonl had ended (1 record) when the snapshot was taken
        # after 3 records (a1 b1 b2); a.jsonl with a second record is not that input.
        write(tmp, "a.jsonl", record(0, "a"))
        write(tmp, "b.jsonl", "".join(record(i, "b") for i in range(1, 8)))
        two = ["run", "rules.cep", "-i", "a.jsonl", "-i", "b.jsonl"]
        code, whole, err = cep(exe, tmp, *two)
        expect(code == 0, f"two inputs: {code}: {err}")
        code, first, err = cep(exe, tmp, *two, "--snapshot-after", "3", "--snapshot-file", "t")
        expect(code == 0, f"two inputs, first part: {code}: {err}")
        code, second, err = cep(exe, tmp, *two, "--engine", "interp", "--resume", "t")
        expect(code == 0 and first + second == whole, f"two inputs, resumed: {code}: {err}")
        write(tmp, "a.jsonl", record(0, "a") + record(9, "a"))
        refused(exe, tmp, [*two, "--resume", "t"],
                'bad run snapshot: input "a.jsonl": its record on line 2 comes after the '
                "snapshot's end of it; it had ended then (not the input it was taken of)")

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cep", required=True)
    opts = ap.parse_args()
    try:
        check(os.path.abspath(opts.cep))
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    print("resume: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
