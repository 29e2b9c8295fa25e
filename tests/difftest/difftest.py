#!/usr/bin/env python3
"""Differential tester: random valid cases (gen_case.py) run under several `cep run`
configurations whose outputs must agree byte for byte.

Configurations (each compared with the reference, `--engine interp` on the generated input):
  jit, jit-O0   `--engine jit` [`--opt-level 0`] (the native matcher); skipped, with a note,
                when `cep run --engine jit` fails on a trivial case.
  cepo          the rules compiled ahead of time (`cep compile rules.cep -o rules.cepo`) and run
                from the artifact (`cep run rules.cepo`).
  interp-nopass `--engine interp` with every optimisation pass disabled; skipped, with a note,
                while `cep run` has no `--disable-pass` option.
  The metamorphic configurations below run the interpreter (`--engine interp`): they check
  the oracle itself.
  batch         metamorphic: the same records in the same arrival order, without the records
                that are late in the generated input, the rejected records and the `@watermark`
                lines, run with `--watermark explicit` (so everything is released at the end of
                the input, in one step). Output must not depend on when the watermark advanced
                (docs/semantics.md §3, §6): byte for byte.
  ordered       metamorphic: those records sorted by event time (stable, so equal times keep
                their arrival order), run with `--max-delay 0s`. Compared as a set of records,
                and only when every pattern is `skip none`: §6 rule 5 breaks ties by arrival,
                which sorting changes, and with the other strategies that order decides what is
                pruned.
  events-flag   the run with `--with-events` toggled: identical except for the `@events` key.
  late          the reference's `--late-output` must be exactly the records that are late by
                docs/semantics.md §8 (computed here).
Any exit code other than 0 (70 = internal error, a signal = crash) is a failure too.

With --aggregates every case also declares one or two random aggregates (spec §8: every window
kind, keys, step conditions, accumulators over fields and expressions, `having`, `lateness`,
`ttl`; gen_case.py gen_aggregate) after its patterns, and only the engine configurations run
(interp vs jit, jit-O0, cepo, interp-nopass): the metamorphic ones assume that no operator takes
a late event and that release timing changes no record, which windows do not keep (an open
window counts a late event; a window fires when the watermark passes it).

A failing case is minimised (patterns dropped, then records dropped in chunks and one at a
time, while the same configuration still fails) and kept:
  - a divergence of jit/jit-O0/interp-nopass -> tests/golden/match/diff_<seed>/ with
    expected.jsonl = the interpreter's output (the interpreter is the oracle);
  - a failure of the interpreter itself (ordered, events-flag, late, crash) ->
    tests/difftest/found/diff_<seed>/ with both inputs and outputs: there is no oracle to write a
    golden expectation from, so a person decides what the right output is.

    difftest.py --cep build/release/cli/cep --seeds 1:41          # fixed seeds (ctest)
    difftest.py --cep build/release/cli/cep --seconds 1800         # long mode: random seeds
    difftest.py --cep build/release/cli/cep --seeds 1:21 --aggregates   # with aggregates
"""

import argparse
import concurrent.futures
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import functools
print = functools.partial(print, flush=True)  # noqa: A001 (progress visible in logs)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_case  # noqa: E402

TESTS = os.path.dirname(HERE)
GOLDEN_MATCH = os.path.join(TESTS, "golden", "match")
FOUND = os.path.join(HERE, "found")
TIMEOUT_S = 20
MINIMISE_S = 180  # per failing case
MAX_OUTPUT = 16 << 20  # a reference output larger than this: too expensive
MEMORY_LIMIT = 2 << 30  # a case that needs more is skipped as too expensive
NL = b"\n"
ENGINE_CONFIGS = ("jit", "jit-O0", "cepo", "interp-nopass")


def limit_memory():
    # An AddressSanitizer build reserves terabytes of shadow address space: no RLIMIT_AS there
    # (--no-memory-limit).
    if os.environ.get("CEP_DIFFTEST_NO_MEMORY_LIMIT") != "1":
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cep(cep, argv, cwd):
    try:
        p = subprocess.run([cep] + argv, cwd=cwd, capture_output=True, timeout=TIMEOUT_S,
                           env=dict(os.environ, NO_COLOR="1"), preexec_fn=limit_memory)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b"timed out\n"


# ---------------------------------------------------------------------------------------------
# Lateness and the ordered variant, from the generator's line metadata.

def late_and_ordered(lines, max_delay_ms):
    """(late lines, ordered lines): §8 — watermark = max(max time - delay - 1, explicit)."""
    wm = None
    max_seen = None
    late, good = [], []
    for idx, l in enumerate(lines):
        if l["kind"] == "watermark":
            wm = l["time"] if wm is None else max(wm, l["time"])
            continue
        if l["kind"] != "event":
            continue
        t = l["time"]
        if wm is not None and t <= wm:
            late.append(l)
            continue
        good.append((t, idx, l))
        max_seen = t if max_seen is None else max(max_seen, t)
        auto = max_seen - max_delay_ms - 1
        wm = auto if wm is None else max(wm, auto)
    good.sort(key=lambda x: (x[0], x[1]))
    return late, [l for _, _, l in good]


def strip_events_key(line):
    """The record without its `@events` member (the `@at_end` marker after it stays)."""
    i = line.find(b',"@events":')
    if i < 0:
        return line
    tail = b',"@at_end":true}' if line.endswith(b',"@at_end":true}') else b"}"
    return line[:i] + tail


# ---------------------------------------------------------------------------------------------

class Tester:
    def __init__(self, cep, configs, keep, verbose, aggregates=False):
        self.cep, self.configs, self.keep, self.verbose = cep, configs, keep, verbose
        self.aggregates = aggregates
        self.lock = threading.Lock()
        self.crashes = {}  # crash signature -> the seed or folder that has it
        for folder in (FOUND, GOLDEN_MATCH):
            for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
                path = os.path.join(folder, entry, "failures.txt")
                if entry.startswith("diff_") and os.path.exists(path):
                    with open(path, encoding="utf-8") as f:
                        name, _, message = f.read().partition(": ")
                    failures = {name: message}
                    sig = crash_signature(failures)
                    if sig is not None:
                        self.crashes.setdefault(sig, os.path.relpath(os.path.join(folder, entry)))

    def evaluate(self, case, patterns, lines, workdir, only=None):
        """{config: description} of the failures of this (case, patterns, lines)."""
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, "rules.cep"), "w", encoding="utf-8") as f:
            f.write(case.rules_text(patterns))
        with open(os.path.join(workdir, "events.jsonl"), "w", encoding="utf-8") as f:
            f.write(case.events_text(lines))
        late, ordered = late_and_ordered(lines, case.max_delay_ms)
        with open(os.path.join(workdir, "ordered.jsonl"), "w", encoding="utf-8") as f:
            f.write(case.events_text(ordered))
        late_ids = {id(l) for l in late}
        batch = [l for l in lines if l["kind"] == "event" and id(l) not in late_ids]
        with open(os.path.join(workdir, "batch.jsonl"), "w", encoding="utf-8") as f:
            f.write(case.events_text(batch))
        args = case.args()
        base = ["run", "rules.cep", "--input", "events.jsonl"] + args
        failures, outputs = {}, {}

        rc, ref, err = run_cep(self.cep, ["--engine", "interp"] if False else
                               base + ["--engine", "interp", "--late-output", "late.out"], workdir)
        outputs["interp"] = ref
        if rc == "timeout" or (rc != 0 and (b"bad_alloc" in err or b"memory" in err)) or \
                len(ref) > MAX_OUTPUT:
            failures["too-expensive"] = f"reference: {rc}"
            return failures, outputs
        if rc != 0:
            failures["interp"] = f"exit {rc}: {err.decode('utf-8', 'replace')[-400:]}"
            return failures, outputs
        with open(os.path.join(workdir, "late.out"), "rb") as f:
            got_late = f.read()
        want_late = case.events_text(late).encode()
        metamorphic = not case.aggregates
        if metamorphic and got_late != want_late:
            failures["late"] = (f"late output differs: expected {len(late)} record(s), got "
                                f"{got_late.count(NL)}")

        runs = []
        if "jit" in self.configs:
            runs.append(("jit", base + ["--engine", "jit"]))
        if "jit-O0" in self.configs:
            runs.append(("jit-O0", base + ["--engine", "jit", "--opt-level", "0"]))
        if "cepo" in self.configs and (only is None or only == "cepo"):
            rc, _, err = run_cep(self.cep, ["compile", "rules.cep", "-o", "rules.cepo"], workdir)
            if rc != 0:
                failures["cepo"] = f"cep compile: exit {rc}: {err.decode('utf-8', 'replace')[-400:]}"
            else:
                runs.append(("cepo", ["run", "rules.cepo", "--input", "events.jsonl"] + args))
        if "interp-nopass" in self.configs:
            runs.append(("interp-nopass", base + ["--engine", "interp", "--disable-pass", "all"]))
        # Only with `skip none` everywhere: otherwise rule 5's arrival tie-break decides which
        # matches are released first and prune the others, so the set itself may change.
        if metamorphic and "ordered" in self.configs and all("skip none" in p for p in patterns):
            oargs = ["--max-delay", "0s"] + (["--with-events"] if case.with_events else [])
            runs.append(("ordered", ["run", "rules.cep", "--input", "ordered.jsonl", "--engine",
                                     "interp"] + oargs))
        if metamorphic and "batch" in self.configs:
            bargs = ["--watermark", "explicit"] + (["--with-events"] if case.with_events else [])
            runs.append(("batch", ["run", "rules.cep", "--input", "batch.jsonl", "--engine",
                                   "interp"] + bargs))
        if metamorphic and "events-flag" in self.configs:
            flipped = [a for a in args if a != "--with-events"]
            if not case.with_events:
                flipped.append("--with-events")
            runs.append(("events-flag", ["run", "rules.cep", "--input", "events.jsonl", "--engine",
                                         "interp"] + flipped))
        for name, argv in runs:
            if only is not None and name != only:
                continue
            rc, out, err = run_cep(self.cep, argv, workdir)
            outputs[name] = out
            if rc == "timeout":
                failures["too-expensive"] = f"{name}: timed out"
                continue
            if rc != 0:
                failures[name] = f"exit {rc}: {err.decode('utf-8', 'replace')[-400:]}"
                continue
            if name == "events-flag":
                a = [strip_events_key(x) for x in ref.splitlines()]
                b = [strip_events_key(x) for x in out.splitlines()]
                if a != b:
                    failures[name] = first_diff(a, b)
            elif name == "ordered":
                # Rule 5 of the output order compares matched events by arrival, which this
                # variant changes: only the set of records must be the same.
                a, b = sorted(ref.splitlines()), sorted(out.splitlines())
                if a != b:
                    failures[name] = "as sets: " + first_diff(a, b)
            elif out != ref:
                failures[name] = first_diff(ref.splitlines(), out.splitlines())
        return failures, outputs

    def run_seed(self, seed):
        """(seed, failures after minimisation, rejections, records matched)."""
        case = gen_case.generate(seed, self.cep, aggregates=self.aggregates)
        with tempfile.TemporaryDirectory(prefix=f"cep-diff-{seed}-") as tmp:
            failures, outputs = self.evaluate(case, case.patterns, case.lines, tmp)
            nout = outputs.get("interp", b"").count(b"\n")
            if not failures:
                return seed, {}, case.rejections, nout, None
            if "too-expensive" in failures:
                return seed, None, case.rejections, 0, None
            target = sorted(failures)[0] if "interp" not in failures else "interp"
            sig = crash_signature(failures)
            if sig is not None:
                with self.lock:
                    known = self.crashes.get(sig)
                    if known is None:
                        self.crashes[sig] = seed
                if known is not None:
                    # The same internal error as a case already kept: report, do not keep.
                    return seed, failures, case.rejections, nout, f"(same crash as {known})"
            patterns, lines = self.minimise(case, failures, target, tmp)
            failures, outputs = self.evaluate(case, patterns, lines, tmp)
            where = None
            if self.keep:
                where = self.save(case, patterns, lines, failures, outputs, tmp)
            return seed, failures, case.rejections, nout, where

    def minimise(self, case, failures, target, tmp):
        deadline = time.time() + MINIMISE_S

        def still(patterns, lines):
            if time.time() > deadline:
                return False  # out of time: keep what is reduced so far
            f, _ = self.evaluate(case, patterns, lines, os.path.join(tmp, "min"), only=target)
            return target in f

        patterns, lines = list(case.patterns), list(case.lines)
        i = 0
        while len(patterns) > 1 and i < len(patterns):
            trial = patterns[:i] + patterns[i + 1:]
            if still(trial, lines):
                patterns = trial
            else:
                i += 1
        chunk = max(1, len(lines) // 4)
        while chunk >= 1:
            i = 0
            while i < len(lines):
                trial = lines[:i] + lines[i + chunk:]
                if trial and still(patterns, trial):
                    lines = trial
                else:
                    i += chunk
            chunk //= 2
        return patterns, lines

    def save(self, case, patterns, lines, failures, outputs, tmp):
        engine_only = all(k in ENGINE_CONFIGS for k in failures)
        folder = os.path.join(GOLDEN_MATCH if engine_only else FOUND, f"diff_{case.seed}")
        os.makedirs(folder, exist_ok=True)
        what = ", ".join(sorted(failures))
        if "interp" in failures:
            what = "the reference run `--engine interp` itself failed (" + \
                failures["interp"].split(":")[0] + ")"
        else:
            what += " disagreed with `--engine interp`"
        comment = (f"// Found by the differential tester (tests/difftest/difftest.py), seed {case.seed}:"
                   f" {what}.\n")
        if engine_only:
            comment += "// expected.jsonl is the interpreter's output (the oracle), not hand-derived.\n"
        else:
            comment += ("// The interpreter failed a self-check; output.<config> are the outputs,\n"
                        "// ordered.jsonl, batch.jsonl the inputs of those configurations. No oracle: decide\n"
                        "// by hand which output is right before turning this into a golden case.\n")
        with open(os.path.join(folder, "rules.cep"), "w", encoding="utf-8") as f:
            f.write(case.rules_text(patterns, comment))
        with open(os.path.join(folder, "events.jsonl"), "w", encoding="utf-8") as f:
            f.write(case.events_text(lines))
        with open(os.path.join(folder, "args"), "w", encoding="utf-8") as f:
            f.write(" ".join(case.args()) + "\n")
        with open(os.path.join(folder, "expected.jsonl"), "wb") as f:
            f.write(outputs.get("interp", b""))
        if not engine_only:
            for extra in ("ordered.jsonl", "batch.jsonl"):
                shutil.copy(os.path.join(tmp, extra), os.path.join(folder, extra))
            for name, out in outputs.items():
                if name != "interp":
                    with open(os.path.join(folder, f"output.{name}"), "wb") as f:
                        f.write(out)
            with open(os.path.join(folder, "failures.txt"), "w", encoding="utf-8") as f:
                for k, v in sorted(failures.items()):
                    f.write(f"{k}: {v}\n")
        return folder


def crash_signature(failures):
    """For a failure that is a crash or an internal error: its message without names, else None."""
    for name, message in sorted(failures.items()):
        if message.startswith("exit "):
            lines = [l for l in message.splitlines() if "internal error" in l or "Assertion" in l]
            text = lines[-1] if lines else message.splitlines()[0]
            text = re.sub(r"^exit \S+: ", "", text)
            return name + ": " + re.sub(r"`[^`]*`|\d+", "_", text)
    return None


def first_diff(a, b):
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else b"<none>"
        y = b[i] if i < len(b) else b"<none>"
        if x != y:
            return (f"{len(a)} vs {len(b)} records; first difference at record {i + 1}:\n"
                    f"    reference: {x.decode('utf-8', 'replace')[:300]}\n"
                    f"    this:      {y.decode('utf-8', 'replace')[:300]}")
    return "outputs differ"


def detect_configs(cep):
    """The configurations this `cep` can run, and notes about those it cannot."""
    configs, notes = ["batch", "ordered", "events-flag"], []
    with tempfile.TemporaryDirectory(prefix="cep-diff-probe-") as d:
        with open(os.path.join(d, "r.cep"), "w") as f:
            f.write("event E { k: string, ts: time }\npattern p { a: E() }\nemit O { k: a.k }\n")
        with open(os.path.join(d, "e.jsonl"), "w") as f:
            f.write('{"k": "a", "ts": 1}\n')
        rc, _, err = run_cep(cep, ["run", "r.cep", "--input", "e.jsonl", "--engine", "jit"], d)
        if rc == 0:
            configs.append("jit")
            rc, _, err2 = run_cep(cep, ["run", "r.cep", "--input", "e.jsonl", "--engine", "jit",
                                        "--opt-level", "0"], d)
            if rc == 0:
                configs.append("jit-O0")
            else:
                notes.append("jit-O0 skipped: `cep run --opt-level 0` failed: "
                             + err2.decode().strip().splitlines()[-1])
            rc, _, err3 = run_cep(cep, ["compile", "r.cep", "-o", "r.cepo"], d)
            if rc == 0:
                rc, _, err3 = run_cep(cep, ["run", "r.cepo", "--input", "e.jsonl"], d)
            if rc == 0:
                configs.append("cepo")
            else:
                notes.append("cepo skipped: `cep compile` / `cep run x.cepo` failed: "
                             + err3.decode().strip().splitlines()[-1])
        else:
            notes.append(f"jit and jit-O0 skipped: `cep run --engine jit` exits {rc}: "
                         + err.decode().strip().splitlines()[-1])
        rc, out, _ = run_cep(cep, ["run", "--help"], d)
        if b"--disable-pass" in out:
            rc, _, err = run_cep(cep, ["run", "r.cep", "--input", "e.jsonl", "--disable-pass", "all"], d)
            if rc == 0:
                configs.append("interp-nopass")
            else:
                notes.append("interp-nopass skipped: `--disable-pass all` not accepted")
        else:
            notes.append("interp-nopass skipped: `cep run` has no --disable-pass option")
    return configs, notes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cep", required=True)
    ap.add_argument("--seeds", help="A:B, the seeds A..B-1")
    ap.add_argument("--seconds", type=float, help="long mode: random seeds for this long")
    ap.add_argument("--start", type=int, help="long mode: first seed (default: from the clock)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-keep", action="store_true", help="do not write failing cases")
    ap.add_argument("--configs", help="comma-separated subset of the configurations")
    ap.add_argument("--no-memory-limit", action="store_true",
                    help="no address-space limit per run (sanitizer builds)")
    ap.add_argument("--aggregates", action="store_true",
                    help="every case also declares random aggregates (engine configurations only)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.no_memory_limit:
        os.environ["CEP_DIFFTEST_NO_MEMORY_LIMIT"] = "1"
    cep = os.path.abspath(a.cep)
    configs, notes = detect_configs(cep)
    if a.configs:
        configs = [c for c in configs if c in a.configs.split(",")]
    for n in notes:
        print(f"difftest: note: {n}")
    print(f"difftest: configurations: interp (reference), {', '.join(configs)}")
    tester = Tester(cep, configs, not a.no_keep, a.verbose, a.aggregates)

    if a.seeds:
        lo, hi = (int(x) for x in a.seeds.split(":"))
        seeds = iter(range(lo, hi))
        deadline = None
    else:
        start = a.start if a.start is not None else int(time.time() * 1000) % 1_000_000_000 * 1000
        seeds = iter(range(start, start + 10**12))
        deadline = time.time() + (a.seconds or 60)
    t0 = time.time()
    done = rejected = matched = 0
    failing, expensive = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        pending = set()

        def submit():
            if deadline is not None and time.time() >= deadline:
                return False
            seed = next(seeds, None)
            if seed is None:
                return False
            pending.add(pool.submit(tester.run_seed, seed))
            return True

        for _ in range(a.jobs * 2):
            if not submit():
                break
        while pending:
            finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in finished:
                pending.discard(fut)
                seed, failures, rej, nout, where = fut.result()
                done += 1
                rejected += rej
                matched += nout
                if failures is None:
                    expensive.append(seed)
                    if a.verbose:
                        print(f"seed {seed}: skipped, too expensive for the reference")
                    submit()
                    continue
                if a.verbose:
                    print(f"seed {seed}: {nout} record(s), {'FAIL ' + ','.join(failures) if failures else 'ok'}")
                if failures:
                    failing.append(seed)
                    kept = ""
                    if where and where.startswith("(same crash"):
                        kept = f"; not kept, {where[1:-1]}"
                    elif where:
                        kept = f"; kept in {os.path.relpath(where)}"
                    print(f"difftest: seed {seed}: FAILED ({', '.join(sorted(failures))}){kept}")
                    for k, v in sorted(failures.items()):
                        print(f"  {k}: {v}")
                submit()
    el = time.time() - t0
    draws = done + rejected
    print(f"difftest: {done} case(s) in {el:.1f} s, {matched} output record(s) from the reference, "
          f"{rejected} rejected draw(s) of {draws} ({100.0 * rejected / max(1, draws):.1f}%), "
          f"{len(expensive)} skipped as too expensive, {len(failing)} failing seed(s){': ' + ' '.join(map(str, failing)) if failing else ''}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
