#!/usr/bin/env python3
"""End-to-end checks of how `cep` treats files, signals and full disks (issue #9 §2, §3).

Each case runs the real `cep` in a fresh temporary folder; ctest runs one test per case
(`e2e.files.<case>`). Every wait is bounded; every process started is killed at the end.

  outputs      an output (-o, --dead-letter, --late-output, compile -o) that is the same file as
               an input, a rule file, an import, the .cepo being run or another output is
               refused with exit 2 and nothing is truncated
  compile_tmp  `cep compile -o x.cepo` with a symbolic link planted at `x.cepo.tmp` (the old
               fixed temporary name): the link's target is left alone
  compile_fifo `cep compile -o x.cepo` where x.cepo is a FIFO (or a directory, or a symbolic
               link): refused, exit 3, without hanging
  signal       SIGTERM/SIGINT during `cep run` on a FIFO fed partway: the matches, dead letters
               and late events found so far are written, nothing is invented (no timeouts),
               exit 128+signal
  full_disk    an output that hits the file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) or
               /dev/full: exit 3, the file ends at a whole record, the error says where

Python 3, standard library only.  Usage: files_and_signals.py --cep CEP CASE...
"""

import argparse
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 60

RULES = """\
import "lib.cep"
pattern big { p: Payment(amount > 100.0) }
emit Big { card: p.card, amount: p.amount }
pattern pair partition by card within 1h { a: Payment() -> b: Payment() }
emit Pair { card: a.card }
on timeout emit Alone { card: a.card }
"""
LIB = "event Payment { card: string, amount: float, ts: time }\n"


def payment(i, card="c", amount=500.0):
    return json.dumps({"@type": "Payment", "card": f"{card}{i}", "amount": amount,
                       "ts": 1_000_000 + i * 1000}) + "\n"


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def run(argv, cwd, **kwargs):
    return subprocess.run(argv, cwd=cwd, capture_output=True, timeout=TIMEOUT_S, **kwargs)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def setup(tmp):
    write(os.path.join(tmp, "rules.cep"), RULES)
    write(os.path.join(tmp, "lib.cep"), LIB)
    write(os.path.join(tmp, "events.jsonl"), "".join(payment(i) for i in range(5)) + "junk\n")


def case_outputs(cep, tmp):
    setup(tmp)
    os.link(os.path.join(tmp, "events.jsonl"), os.path.join(tmp, "hardlink.jsonl"))
    os.symlink("lib.cep", os.path.join(tmp, "lib-link.cep"))
    p = run([cep, "compile", "rules.cep", "-o", "rules.cepo"], tmp)
    expect(p.returncode == 0, f"cep compile: {p.stderr!r}")
    os.symlink("lib.cep", os.path.join(tmp, "lib.cepo"))
    base = [cep, "run", "rules.cep", "-i", "events.jsonl"]
    refused = [
        (base + ["-o", "events.jsonl"], "--output \"events.jsonl\" is the same file as --input"),
        (base + ["-o", "./events.jsonl"], "is the same file as --input"),
        (base + ["-o", "hardlink.jsonl"], "is the same file as --input"),
        (base + ["--dead-letter", "events.jsonl"], "--dead-letter \"events.jsonl\" is the same"),
        (base + ["--late-output", "events.jsonl"], "--late-output \"events.jsonl\" is the same"),
        (base + ["-o", "rules.cep"], "is the same file as rule file \"rules.cep\""),
        (base + ["-o", "lib.cep"], "is the same file as rule file"),
        (base + ["-o", "lib-link.cep"], "is the same file as rule file"),
        (base + ["-o", "new.jsonl", "--dead-letter", "./new.jsonl"],
         "is the same file as --output \"new.jsonl\""),
        (base + ["-o", "m.jsonl", "--late-output", "m.jsonl"], "is the same file as --output"),
        ([cep, "run", "rules.cepo", "-i", "events.jsonl", "-o", "rules.cepo"],
         "is the same file as artifact \"rules.cepo\""),
        ([cep, "run", "rules.cepo", "-i", "events.jsonl", "-o", "x.jsonl", "--dead-letter",
          "events.jsonl"], "is the same file as --input"),
        ([cep, "compile", "rules.cep", "-o", "lib.cepo"], "is the same file as rule file"),
    ]
    before = {name: read(os.path.join(tmp, name))
              for name in ("events.jsonl", "rules.cep", "lib.cep", "rules.cepo")}
    for argv, message in refused:
        p = run(argv, tmp)
        expect(p.returncode == 2, f"{argv[1:]}: exit {p.returncode}, expected 2: {p.stderr!r}")
        expect(message.encode() in p.stderr, f"{argv[1:]}: stderr {p.stderr!r} lacks {message!r}")
        for name, data in before.items():
            expect(read(os.path.join(tmp, name)) == data, f"{argv[1:]}: {name} was changed")
        expect(not os.path.exists(os.path.join(tmp, "new.jsonl")), "new.jsonl was created")
    # The same run with distinct outputs works.
    p = run(base + ["-o", "out.jsonl", "--dead-letter", "dead.jsonl"], tmp)
    expect(p.returncode == 0, f"the ordinary run failed: {p.stderr!r}")


def case_compile_tmp(cep, tmp):
    setup(tmp)
    victim = os.path.join(tmp, "victim.txt")
    write(victim, "keep me\n")
    os.symlink(victim, os.path.join(tmp, "out.cepo.tmp"))
    p = run([cep, "compile", "rules.cep", "-o", "out.cepo"], tmp)
    expect(p.returncode == 0, f"cep compile: exit {p.returncode}: {p.stderr!r}")
    expect(read(victim) == b"keep me\n", "the symbolic link's target was overwritten")
    expect(os.path.islink(os.path.join(tmp, "out.cepo.tmp")), "the planted link was replaced")
    info = os.lstat(os.path.join(tmp, "out.cepo"))
    expect(stat.S_ISREG(info.st_mode) and info.st_size > 0, "out.cepo is not a regular file")
    left = [n for n in os.listdir(tmp) if n.startswith(".out.cepo")]
    expect(not left, f"temporaries left behind: {left}")
    # Replacing an existing artifact works, and `cep run` loads it.
    p = run([cep, "compile", "rules.cep", "-o", "out.cepo"], tmp)
    expect(p.returncode == 0, f"second cep compile: exit {p.returncode}: {p.stderr!r}")
    p = run([cep, "run", "out.cepo", "-i", "events.jsonl"], tmp)
    expect(p.returncode == 0 and p.stdout.count(b"\n") == 10, f"cep run out.cepo: {p!r}")


def case_compile_fifo(cep, tmp):
    setup(tmp)
    os.mkfifo(os.path.join(tmp, "fifo.cepo"))
    os.mkdir(os.path.join(tmp, "dir.cepo"))
    write(os.path.join(tmp, "real.cepo"), "not an artifact\n")
    os.symlink("real.cepo", os.path.join(tmp, "link.cepo"))
    for name, kind in (("fifo.cepo", "a FIFO"), ("dir.cepo", "a directory"),
                       ("link.cepo", "a symbolic link")):
        p = run([cep, "compile", "rules.cep", "-o", name], tmp)
        expect(p.returncode == 3, f"-o {name}: exit {p.returncode}, expected 3: {p.stderr!r}")
        expect(f"cannot write \"{name}\": it exists and is {kind}".encode() in p.stderr,
               f"-o {name}: stderr {p.stderr!r}")
    expect(stat.S_ISFIFO(os.lstat(os.path.join(tmp, "fifo.cepo")).st_mode), "the FIFO was replaced")
    expect(os.path.islink(os.path.join(tmp, "link.cepo")), "the link was replaced")
    expect(read(os.path.join(tmp, "real.cepo")) == b"not an artifact\n", "the link's target changed")


def case_imports(cep, tmp):
    rules = os.path.join(tmp, "rules")
    outside = os.path.join(tmp, "outside")
    os.mkdir(rules)
    os.mkdir(outside)
    write(os.path.join(outside, "lib.cep"), LIB)
    os.mkfifo(os.path.join(rules, "fifo.cep"))
    with open(os.path.join(rules, "huge.cep"), "wb") as f:
        f.truncate(17 << 20)  # sparse: nothing is written, and nothing may be read
    os.symlink(os.path.join(outside, "lib.cep"), os.path.join(rules, "escape.cep"))

    def check(name, text, *extra):
        write(os.path.join(rules, name), text)
        return run([cep, "check", *extra, name], rules)

    body = "pattern big { p: Payment(amount > 100.0) }\nemit Big { card: p.card }\n"
    for name, imported, message in (
            ("a.cep", "fifo.cep", "is not a regular file (a FIFO, device or socket)"),
            ("b.cep", "huge.cep", "is larger than 16 MiB"),
            ("c.cep", "escape.cep", "is outside the rules' folders"),
            ("d.cep", "../outside/lib.cep", "is outside the rules' folders"),
            ("e.cep", os.path.join(outside, "lib.cep"), "is outside the rules' folders")):
        p = check(name, f'import "{imported}"\n' + body)
        expect(p.returncode == 1, f"import {imported}: exit {p.returncode}, expected 1: {p.stderr!r}")
        expect(f"{name}:1:8: error: cannot import".encode() in p.stderr and
               message.encode() in p.stderr, f"import {imported}: stderr {p.stderr!r}")
    # A FIFO or an oversized file named on the command line is refused too, without hanging.
    for name in ("fifo.cep", "huge.cep"):
        p = run([cep, "check", name], rules)
        expect(p.returncode == 1 and b"cannot check" in p.stderr, f"cep check {name}: {p!r}")
    # --import-path allows a folder: by `..`, absolute, through the link, or searched.
    for name, imported in (("f.cep", "../outside/lib.cep"), ("g.cep", os.path.join(outside, "lib.cep")),
                           ("h.cep", "escape.cep"), ("i.cep", "lib.cep")):
        p = check(name, f'import "{imported}"\n' + body, "--import-path", outside)
        expect(p.returncode == 0, f"import {imported} with --import-path: {p!r}")
    p = run([cep, "check", "--import-path", "no-such-folder", "f.cep"], rules)
    expect(p.returncode == 2, f"--import-path no-such-folder: {p!r}")


def wait_for(condition, what, timeout=TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def lines(path):
    try:
        return read(path).splitlines()
    except FileNotFoundError:
        return []


def interrupted_run(cep, tmp, sig, use_fifo):
    """Feeds a run partway (the input stays open), then sends `sig` by pid."""
    setup(tmp)
    args = [cep, "run", "rules.cep", "-o", "out.jsonl", "--dead-letter", "dead.jsonl",
            "--late-output", "late.jsonl"]
    if use_fifo:
        os.mkfifo(os.path.join(tmp, "in.fifo"))
        args += ["-i", "in.fifo"]
    proc = subprocess.Popen(args, cwd=tmp, stdin=subprocess.DEVNULL if use_fifo else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer = None
    try:
        if use_fifo:
            # O_RDWR (Linux): opening never waits for the reader, and cep's open for reading
            # finds a writer at once.
            writer = os.open(os.path.join(tmp, "in.fifo"), os.O_RDWR)
            send = lambda text: os.write(writer, text.encode())
        else:
            def send(text):
                proc.stdin.write(text.encode())
                proc.stdin.flush()
        # Five payments of distinct cards (each starts a `pair` run that would time out at the
        # end of a finished run), a record that is not JSON, a late one, then a sixth payment
        # that moves the watermark past the fifth.
        send("".join(payment(i) for i in range(5)))
        send("junk\n")
        send(payment(-5, card="late"))
        send(payment(5))
        out, dead, late = (os.path.join(tmp, n) for n in ("out.jsonl", "dead.jsonl", "late.jsonl"))
        wait_for(lambda: len(lines(out)) >= 5 and lines(dead) and lines(late),
                 "the matches, the dead letter and the late event of the records sent")
        expect(proc.poll() is None, "cep exited before the signal")
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if writer is not None:
            os.close(writer)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    name = signal.Signals(sig).name
    expect(proc.returncode == 128 + sig,
           f"exit {proc.returncode}, expected {128 + sig}: {stderr!r}")
    records = [json.loads(line) for line in lines(out)]  # whole records only
    streams = [r["@stream"] for r in records]
    expect(not any(r.get("@timeout") for r in records), f"timeouts were invented: {streams}")
    expect(streams.count("Big") in (5, 6), f"matches written: {streams}")
    dead_records = [json.loads(line) for line in lines(dead)]
    expect(len(dead_records) == 1 and dead_records[0]["record"] == "junk", f"dead: {dead_records}")
    expect(lines(late) == [payment(-5, card="late").strip().encode()], f"late: {lines(late)}")
    expect(f"cep run: interrupted by {name}: stopped reading; written: {len(records)} matches, "
           f"1 dead letter, 1 late event".encode() in stderr, f"stderr: {stderr!r}")


def case_sigterm_fifo(cep, tmp):
    interrupted_run(cep, tmp, signal.SIGTERM, use_fifo=True)


def case_sigint_stdin(cep, tmp):
    interrupted_run(cep, tmp, signal.SIGINT, use_fifo=False)


def limited(limit):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() returns EFBIG instead
    return preexec


def check_cut(tmp, name, stderr, limit):
    data = read(os.path.join(tmp, name))
    records = data.splitlines()
    expect(0 < len(data) <= limit and data.endswith(b"\n"),
           f"{name}: {len(data)} bytes, ends with {data[-20:]!r}")
    for line in records:
        json.loads(line)  # every record whole
    want = f'cannot write "{name}": File too large; it ends after {len(records)} whole records ' \
           f"({len(data)} bytes)"
    expect(want.encode() in stderr, f"stderr {stderr!r} lacks {want!r}")


def case_full_disk(cep, tmp):
    setup(tmp)
    limit = 100_000
    write(os.path.join(tmp, "many.jsonl"), "".join(payment(i) for i in range(3000)))
    write(os.path.join(tmp, "junk.jsonl"), "".join(f"junk {i} {'x' * 100}\n" for i in range(3000)))
    for engine in ("interp", "jit"):
        p = subprocess.run([cep, "run", "rules.cep", "--engine", engine, "-i", "many.jsonl", "-o",
                            "out.jsonl"], cwd=tmp, capture_output=True, timeout=TIMEOUT_S,
                           preexec_fn=limited(limit))
        expect(p.returncode == 3, f"[{engine}] -o: exit {p.returncode}, expected 3: {p.stderr!r}")
        check_cut(tmp, "out.jsonl", p.stderr, limit)
    p = subprocess.run([cep, "run", "rules.cep", "-i", "junk.jsonl", "--dead-letter", "dead.jsonl"],
                       cwd=tmp, capture_output=True, timeout=TIMEOUT_S, preexec_fn=limited(limit))
    expect(p.returncode == 3, f"--dead-letter: exit {p.returncode}, expected 3: {p.stderr!r}")
    check_cut(tmp, "dead.jsonl", p.stderr, limit)
    p = run([cep, "run", "rules.cep", "-i", "many.jsonl", "-o", "/dev/full"], tmp)
    expect(p.returncode == 3 and b'cannot write "/dev/full": No space left on device; it ends '
           b"after 0 whole records (0 bytes)" in p.stderr, f"-o /dev/full: {p!r}")


CASES = {"full_disk": case_full_disk, "sigterm_fifo": case_sigterm_fifo, "sigint_stdin": case_sigint_stdin, "imports": case_imports, "outputs": case_outputs, "compile_tmp": case_compile_tmp,
         "compile_fifo": case_compile_fifo}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cep", required=True)
    ap.add_argument("cases", nargs="+", choices=sorted(CASES))
    opts = ap.parse_args()
    cep = os.path.abspath(opts.cep)
    failed = 0
    for name in opts.cases:
        with tempfile.TemporaryDirectory(prefix=f"cep-{name}-") as tmp:
            try:
                CASES[name](cep, tmp)
                print(f"{name}: ok")
            except (Failure, subprocess.TimeoutExpired) as e:
                print(f"{name}: FAILED: {e}")
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
