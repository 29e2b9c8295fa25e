#!/usr/bin/env python3
"""The two programs (cli/README.md "Two programs"): the lean `cep` runs `cep run x.cepo` itself and
hands every other command line to the whole program, `cep-full`, by exec.

1. `cep` copied alone into an empty folder (no cep-full to hand anything to) runs `cep run x.cepo`
   with the same output, --stats lines and exit codes as cep-full: so the lean program ran it.
   There, `cep run x.cep`, `cep version` and `cep run x.cepo --trace K` fail with the internal
   error naming what it tried (exit 70): so those are handed over.
2. In the build tree, the handed-over command lines work and say what cep-full says: a .cep file,
   --trace, CEP_FORCE_BITCODE=1 (the bitcode needs the JIT), `cep run --help`, a bad option, a
   second rule file, an unknown command; the process id stays the same across the hand-over.
3. Installed (`cmake --install` into a temporary prefix): bin/cep runs the artifact and hands a
   .cep file to libexec/cep/cep-full."""
import argparse
import errno
import os
import shutil
import subprocess
import sys
import tempfile
import time

RULES = """event Ev { type: string, key: int, ts: time }

pattern seq partition by key within 10m skip none {
    a: Ev(type == "A") -> b: Ev(type == "B") -> c: Ev(type == "C")
}
emit Seq { key: a.key, a: a.ts, c: c.ts }
"""

EVENTS = "".join(
    f'{{"type":"{t}","key":{k},"ts":{1700000000000 + i * 1000}}}\n'
    for i, (t, k) in enumerate([("A", 1), ("A", 2), ("B", 1), ("C", 1), ("B", 2), ("X", 3),
                                ("C", 2), ("A", 1), ("B", 1)]))


def fail(message):
    sys.exit("check_lean: " + message)


def run(args, env=None, stdin=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, input=stdin)


def stable_stats(stderr):
    # --stats lines without timings (--no-timing leaves wall time out; the load line has times).
    return [line for line in stderr.splitlines() if not line.startswith("artifact load ")]


def same(label, a, b):
    if (a.returncode, a.stdout, stable_stats(a.stderr)) != (b.returncode, b.stdout,
                                                           stable_stats(b.stderr)):
        fail(f"{label}: the lean cep and cep-full differ:\n"
             f"lean rc={a.returncode} stdout={a.stdout!r} stderr={a.stderr!r}\n"
             f"full rc={b.returncode} stdout={b.stdout!r} stderr={b.stderr!r}")


def open_writer(fifo, proc):
    """The FIFO's write end, once `proc` has opened its read end (bounded: 60 s, or its exit)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            time.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        return fd
    fail(f"cep never opened {fifo} (exit {proc.poll()}): " +
         (proc.communicate()[1] if proc.poll() is not None else "still running"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cep", required=True)
    p.add_argument("--cep-full", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--source-dir", required=True)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "seq.cep")
        cepo = os.path.join(tmp, "seq.cepo")
        events = os.path.join(tmp, "events.jsonl")
        with open(rules, "w") as f:
            f.write(RULES)
        with open(events, "w") as f:
            f.write(EVENTS + '{"type":"A","key":"not an int","ts":1700000100000}\n')
        made = run([args.cep_full, "compile", rules, "-o", cepo])
        if made.returncode != 0:
            fail("cep-full compile: " + made.stderr)

        # 1. Alone.
        alone = os.path.join(tmp, "alone")
        os.mkdir(alone)
        lean = os.path.join(alone, "cep")
        shutil.copy2(args.cep, lean)
        base = ["run", cepo, "-i", events, "--stats", "--no-timing"]
        for extra in ([], ["--with-events"], ["--strict"], ["--workers", "2"],
                      ["--max-delay", "bogus"], ["-i", os.path.join(tmp, "missing.jsonl")]):
            a = run([lean] + base + extra)
            b = run([args.cep_full] + base + extra)
            same("cep run x.cepo " + " ".join(extra), a, b)
        ok = run([lean] + base)
        if ok.returncode != 0 or ok.stdout.count('"@pattern":"seq"') != 2:
            fail("the lean cep did not write the two matches: " + ok.stdout + ok.stderr)
        if "object code loaded" not in ok.stderr:
            fail("--stats does not say the object code was loaded: " + ok.stderr)
        piped = run([lean, "run", cepo], stdin=EVENTS)
        if piped.returncode != 0 or piped.stdout != run([args.cep_full, "run", cepo],
                                                        stdin=EVENTS).stdout:
            fail("cep run x.cepo from stdin differs: " + piped.stderr)
        for handed in (["run", rules, "-i", events], ["version"],
                       ["run", cepo, "-i", events, "--trace", "1"]):
            r = run([lean] + handed)
            if r.returncode != 70 or "cannot start the whole program" not in r.stderr:
                fail(f"cep {' '.join(handed)} without cep-full: expected exit 70 and the reason, "
                     f"got {r.returncode}: {r.stderr}")

        # 2. Handed over in the build tree.
        for handed in (["run", rules, "-i", events, "--stats", "--no-timing"],
                       ["run", cepo, "-i", events, "--trace", "1", "--trace-output",
                        os.path.join(tmp, "trace.txt")],
                       ["run", "--help"], ["run", cepo, "--no-such-option"],
                       ["run", cepo, rules], ["no-such-command"], ["version"]):
            same("cep " + " ".join(handed), run([args.cep] + handed),
                 run([args.cep_full] + handed))
        env = dict(os.environ, CEP_FORCE_BITCODE="1")
        forced = run([args.cep] + base, env=env)
        if forced.returncode != 0 or "bitcode compiled again" not in forced.stderr:
            fail("CEP_FORCE_BITCODE=1 cep run x.cepo was not handed over: " + forced.stderr)
        if forced.stdout != ok.stdout:
            fail("the bitcode path's records differ from the object code's")
        # Which program reads the input, in the same process: the FIFO's writer opens once the
        # reader did, so by then the hand-over is decided; /proc/PID/exe says the program.
        for rule_file, program in ((cepo, args.cep), (rules, args.cep_full)):
            fifo = os.path.join(tmp, "fifo")
            os.mkfifo(fifo)
            proc = subprocess.Popen([args.cep, "run", rule_file, "-i", fifo],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                writer = open_writer(fifo, proc)
                exe = os.readlink(f"/proc/{proc.pid}/exe")
                os.write(writer, EVENTS.encode())
                os.close(writer)
                out, err = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            os.unlink(fifo)
            if os.path.realpath(exe) != os.path.realpath(program):
                fail(f"cep run {os.path.basename(rule_file)}: process {proc.pid} runs {exe}, "
                     f"expected {program}")
            if proc.returncode != 0 or out != ok.stdout:
                fail(f"cep run {os.path.basename(rule_file)} over a FIFO: exit {proc.returncode}, "
                     f"{out!r} {err!r}")

        # 3. Installed.
        prefix = os.path.join(tmp, "prefix")
        inst = run(["cmake", "--install", args.build_dir, "--prefix", prefix])
        if inst.returncode != 0:
            fail("cmake --install: " + inst.stdout + inst.stderr)
        installed = os.path.join(prefix, "bin", "cep")
        if not os.path.exists(os.path.join(prefix, "libexec", "cep", "cep-full")):
            fail("cmake --install put no libexec/cep/cep-full")
        same("installed cep run x.cepo", run([installed] + base), run([args.cep_full] + base))
        same("installed cep run x.cep", run([installed, "run", rules, "-i", events]),
             run([args.cep_full, "run", rules, "-i", events]))
    print("check_lean: ok")


if __name__ == "__main__":
    main()
