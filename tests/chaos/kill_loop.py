#!/usr/bin/env python3
"""Kill loop: `cep serve --state` killed with SIGKILL at random moments loses, duplicates and
reorders nothing.

A feeder appends a generated stream (tests/chaos/rules.cep's events, with some malformed and
some late records) to a file that `cep serve --follow --state DIR --checkpoint-every D` reads.
The server is killed with SIGKILL at random moments (also while it starts and recovers, and
while it writes a checkpoint) and started again on the same state folder, until the feeder is
done and the last server has read every record; then it gets SIGTERM. Its outputs (matches,
dead letters, late events) must be byte for byte those of one uninterrupted `cep serve` over
the same file. With --swap, a `cep deploy` of the same rules built again (another version) is
made in the middle, and later a deploy is sent and the server killed 30-400 ms into it; the
records then differ in "@version" only, which is left out of the comparison.
With --workers N the killed servers match on N threads (docs/serve.md "Workers") and must still
write the one-worker reference's bytes.

  tests/chaos/kill_loop.py --cep build/release/cli/cep --events 100000 --kills 5
  make chaos   # the long form: 1M events, 100 kills, a swap

Every process is started here, bound to 127.0.0.1, and killed by its pid; every wait is
bounded. Exit 0 when equal; 1 with the first difference and the lost/duplicated counts.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules.cep"
TIMEOUT = 300.0


def log(*args):
    print("kill_loop:", *args, file=sys.stderr, flush=True)


def wait_for(what, condition, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def generate(path, events, keys, seed):
    """The stream: times move on by 0-3 s; 0.1% malformed lines, 0.1% late events."""
    rng = random.Random(seed)
    t = 1767607200000
    lines = []
    for i in range(events):
        t += rng.randint(0, 3000)
        r = rng.random()
        if r < 0.001:
            lines.append('{"kind":"A","key":' + str(rng.randrange(keys)) + ',"amount":1.0,"ts":\n')
            continue
        ts = t - 120000 if r < 0.002 else t - rng.randint(0, 2000)
        kind = rng.choice("AAABBCCOOPPSSSS")
        amount = round(rng.uniform(0.1, 0.99), 2) if rng.random() < 0.7 else round(
            rng.uniform(1.0, 900.0), 2)
        lines.append(json.dumps({"kind": kind, "key": rng.randrange(keys), "amount": amount,
                                 "ts": ts}, separators=(",", ":")) + "\n")
    data = "".join(lines).encode()
    path.write_bytes(data)
    return data


class Server:
    """`cep serve` in `folder`, reading events.jsonl there and writing out.jsonl, dead.jsonl
    and late.jsonl there (relative paths: the reference and the killed runs name their input
    and outputs alike, and dead letters name their input)."""

    def __init__(self, cep, folder, artifact, state, checkpoint_every, workers=1):
        self.folder = folder
        self.port_file = folder / "admin.port"
        if self.port_file.exists():
            self.port_file.unlink()
        args = [str(cep), "serve", str(artifact), "-i", "events.jsonl", "--follow",
                "--max-delay", "5s", "-o", "out.jsonl", "--dead-letter", "dead.jsonl",
                "--late-output", "late.jsonl", "--admin", "127.0.0.1:0", "--admin-port-file",
                "admin.port"]
        if state:
            args += ["--state", "state", "--checkpoint-every", checkpoint_every]
        if workers != 1:
            args += ["--workers", str(workers)]
        self.stderr = open(folder / "serve.stderr", "ab")
        self.proc = subprocess.Popen(args, cwd=folder, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr)
        self.port = None

    def read_port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"cep serve exited with {self.proc.returncode} (see "
                               f"{self.stderr.name})")
        try:
            text = self.port_file.read_text().strip()
        except FileNotFoundError:
            return None
        if text:
            self.port = int(text)
        return self.port

    def records_read(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
            text = r.read().decode()
        return sum(float(m) for m in
                   re.findall(r'^cep_input_records_read_total\{[^}]*\} (\S+)$', text, re.M))

    def checkpoints_done(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
            text = r.read().decode()
        found = re.search(r'^cep_checkpoints_total\{outcome="done"\} (\S+)$', text, re.M)
        return float(found.group(1)) if found else 0

    def log(self):
        return (self.folder / "serve.stderr").read_text(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(TIMEOUT)
        self.stderr.close()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(TIMEOUT)
        self.stderr.close()
        if code != 0:
            raise RuntimeError(f"cep serve exited with {code} after SIGTERM (see "
                               f"{self.stderr.name})")


def run_to_end(server, records):
    wait_for("the admin port", server.read_port)
    wait_for(f"{records} records read", lambda: server.records_read() >= records)
    server.stop()


def compare(ref_folder, got_folder, strip_version):
    ok = True
    for suffix in ("out", "dead", "late"):
        ref = (ref_folder / f"{suffix}.jsonl").read_bytes().splitlines(keepends=True)
        got = (got_folder / f"{suffix}.jsonl").read_bytes().splitlines(keepends=True)
        if strip_version:
            ref = [re.sub(rb',"@version":"[0-9a-f]+"', b"", l) for l in ref]
            got = [re.sub(rb',"@version":"[0-9a-f]+"', b"", l) for l in got]
        if ref == got:
            log(f"{suffix}: {len(got)} records, equal")
            continue
        ok = False
        rc, gc = Counter(ref), Counter(got)
        lost = sum((rc - gc).values())
        dup = sum((gc - rc).values())
        first = next((i for i, (a, b) in enumerate(zip(ref, got)) if a != b), min(len(ref),
                                                                                    len(got)))
        log(f"{suffix}: DIFFERENT: {len(ref)} expected, {len(got)} written; lost {lost}, "
            f"duplicated {dup}; first difference at record {first + 1}:")
        log("  expected:", ref[first].decode().rstrip() if first < len(ref) else "(end)")
        log("  written: ", got[first].decode().rstrip() if first < len(got) else "(end)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cep", required=True)
    ap.add_argument("--rules", default=str(RULES), help="the rules (default tests/chaos/rules.cep)")
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--keys", type=int, default=2000)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--rate", type=int, default=50000, help="events per second fed")
    ap.add_argument("--checkpoint-every", default="100ms")
    ap.add_argument("--max-life", type=float, default=0.5,
                    help="longest a server lives before its kill, in seconds")
    ap.add_argument("--swap", action="store_true", help="a keep deploy in the middle")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--work", default=None)
    ap.add_argument("--workers", type=int, default=1,
                    help="the killed servers' --workers (the reference runs one worker)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = Path(args.work or tempfile.mkdtemp(prefix="cep-chaos-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    log(f"seed {seed}; work in {work}")
    cep = Path(args.cep).resolve()

    artifacts = []
    for level in ("2", "1"):
        path = work / f"rules-O{level}.cepo"
        subprocess.run([str(cep), "compile", args.rules, "-O", level, "-o", str(path)],
                       check=True, timeout=TIMEOUT)
        artifacts.append(path)
    reference = work / "reference"
    chaos = work / "chaos"
    for folder in (reference, chaos):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    data = generate(reference / "events.jsonl", args.events, args.keys, seed)
    records = data.count(b"\n")

    # The uninterrupted run, over the whole file.
    started = time.monotonic()
    ref = Server(cep, reference, artifacts[0], False, None)
    run_to_end(ref, records)
    log(f"reference: {records} records in {time.monotonic() - started:.1f} s")

    # The killed runs, over a file that grows.
    fed = chaos / "events.jsonl"
    fed.write_bytes(b"")
    done = threading.Event()
    failure = []

    def feed():
        try:
            chunk = max(1, args.rate // 100)
            lines = data.splitlines(keepends=True)
            with open(fed, "ab", buffering=0) as f:
                for i in range(0, len(lines), chunk):
                    f.write(b"".join(lines[i:i + chunk]))
                    time.sleep(0.01)
        except Exception as e:  # reported by the main thread
            failure.append(e)
        finally:
            done.set()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    kills, swapped, current = 0, not args.swap, artifacts[0]
    while kills < args.kills:
        server = Server(cep, chaos, current, True, args.checkpoint_every, args.workers)
        life = rng.uniform(0.0, args.max_life)
        if not swapped and kills >= args.kills // 2:
            # The swap: deployed (and made durable) before this server is killed.
            wait_for("the admin port", server.read_port)
            r = subprocess.run([str(cep), "deploy", str(artifacts[1]), "--server",
                                f"127.0.0.1:{server.port}", "--mode", "keep"],
                               capture_output=True, text=True, timeout=TIMEOUT)
            if r.returncode != 0 or '"durable":true' not in r.stdout:
                server.kill()
                raise RuntimeError(f"the swap failed: {r.stdout}{r.stderr}")
            swapped, current = True, artifacts[1]
            log(f"swapped to {artifacts[1].name}")
        if args.swap and kills == (3 * args.kills) // 4 and kills > args.kills // 2:
            # A kill during a deploy: the deploy (the other build, keep mode) is sent and the
            # server killed 30-400 ms later (the client starts in ~65 ms; then the upload, the
            # load and JIT, the swap, the checkpoint of the change). The next server restores
            # whichever version the last complete checkpoint holds.
            wait_for("the admin port", server.read_port)
            other = artifacts[0] if current == artifacts[1] else artifacts[1]
            deployer = subprocess.Popen([str(cep), "deploy", str(other), "--server",
                                         f"127.0.0.1:{server.port}", "--mode", "keep"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            life = rng.uniform(0.03, 0.4)
            before = server.log().count("cep serve: deployed")
            time.sleep(life)
            server.kill()
            deployer.wait(TIMEOUT)
            applied = server.log().count("cep serve: deployed") > before
            kills += 1
            log(f"kill {kills}/{args.kills} {life * 1000:.0f} ms into a deploy (the swap "
                f"{'was applied' if applied else 'was not reached'})")
            continue
        after = ""
        if kills % 2 == 1:
            # Every other server lives until it has committed a checkpoint (then `life` more),
            # so that restarts resume mid-file also when a loaded machine starts servers slowly;
            # the others die at any moment, also while starting or recovering.
            wait_for("the admin port", server.read_port)
            wait_for("a checkpoint", lambda: server.checkpoints_done() >= 1)
            after = " after its first checkpoint"
        time.sleep(life)
        server.kill()
        kills += 1
        log(f"kill {kills}/{args.kills} {life * 1000:.0f} ms{after}")
    feeder.join(TIMEOUT)
    if failure:
        raise failure[0]
    last = Server(cep, chaos, current, True, args.checkpoint_every, args.workers)
    run_to_end(last, records)
    ok = compare(reference, chaos, args.swap)
    # Equal outputs prove nothing if every server started over from the first byte: some must
    # have resumed from a checkpoint, mid-file.
    log_text = (chaos / "serve.stderr").read_text(errors="replace")
    restores = log_text.count("cep serve: restored checkpoint")
    resumed = [int(b) for b in re.findall(r"input events\.jsonl resumes at byte (\d+)", log_text)]
    mid_file = sum(1 for b in resumed if 0 < b < len(data))
    log(f"{restores} of {kills + 1} starts restored a checkpoint; {mid_file} resumed mid-file")
    if restores == 0 or mid_file == 0:
        log("FAIL  no start resumed mid-file from a checkpoint: the recovery was not exercised")
        ok = False
    if ok:
        log(f"equal after {kills} kills: 0 lost, 0 duplicated, 0 reordered")
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
