#!/usr/bin/env python3
"""`cep serve --workers N` (docs/serve.md "Workers"): a deploy in keep mode mid-stream and a
checkpoint restart across worker counts give the bytes one worker gives.

Over 300 cards, partial matches in flight on every worker at each switch:

  reference  one server, --workers 1 --state: part A, deploy v2 (keep), part B, part C, stop;
  workers    --workers 2 --state: part A, deploy v2 (keep), part B, SIGTERM (its last
             checkpoint); `cep state` of its folder equals the reference's at the same point
             (the key records merged from both workers are one worker's); then a restart with
             --workers 1 from that folder: part C, stop. The output equals the reference's.
  back       the same with the worker counts the other way (1 -> 2), and 2 -> 3.
  savepoint  `cep savepoint` of a server after A, keep, B under 2 (1) workers; a server started
             --from-savepoint under 1 (2) reads C: both outputs together equal the reference's.
  refusals   --workers 2 with what it does not cover yet: a usage error naming it (exit 2), no
             output file written.

With --aggregates every version also has an aggregate (tumbling 10-minute windows per card,
fired at the workers' barrier as the watermark passes): the keep deploy moves each worker's open
windows, the checkpoints and savepoints hold one worker's key records of the windows, and a
restore places each key on the worker its name hashes to.

  check_workers.py --cep CEP [--aggregates]

Every process is started here on 127.0.0.1 and stopped by its pid; every wait is bounded.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "serve"))
from checks import Serve, check, failures, wait_for  # noqa: E402
from serve_client import payment, request  # noqa: E402

COMMON = "event Payment { card: string, amount: float, ts: time }\n"
V1 = COMMON + """\
pattern probe partition by card within 10m {
    small: Payment(amount < 5.0) -> big: Payment(amount > 400.0)
}
emit Probe { card: big.card, small: small.amount, big: big.amount }
"""
# The same steps, another condition: its partial matches move (keep).
V2 = V1.replace("amount > 400.0", "amount > 300.0")
# --aggregates: with an aggregate; version 2's `having` keeps the window state (keep moves it).
AGGREGATE = """
aggregate per_card partition by card window tumbling 10m {
    p: Payment
}
having count(p) >= 1
emit PerCard { card: last(p).card, n: count(p), total: sum(p.amount) }
"""
AGGREGATE_V2 = AGGREGATE.replace("count(p) >= 1", "count(p) >= 2")
RULES = {"v1": V1, "v2": V2}


def events(seed, first_ts, count, cards=300):
    rng = random.Random(seed)
    out = b""
    for i in range(count):
        card = "card-%03d" % rng.randrange(cards)
        amount = rng.choice([1.0, 2.5, 50.0, 350.0, 450.0, 20.0])
        out += payment(card, amount, first_ts + i * 1000)
    return out


PARTS = [events(1, 1_000_000, 1500), events(2, 2_600_000, 1500), events(3, 4_200_000, 1500)]


def compile_rules(cep, work):
    for name, text in RULES.items():
        (work / (name + ".cep")).write_text(text)
        subprocess.run([cep, "compile", name + ".cep", "-o", name + ".cepo"], cwd=work,
                       check=True, capture_output=True)


def feed(server, work, part, total):
    with open(work / "events.jsonl", "ab") as f:
        f.write(part)
    wait_for(f"{total} records read",
             lambda: server.metric("cep_input_records_read_total") >= total)


def state_listing(cep, work):
    result = subprocess.run([cep, "state", "state"], cwd=work, capture_output=True, text=True,
                            timeout=60)
    check(result.returncode == 0, f"cep state exits 0 (got {result.returncode}: {result.stderr})")
    # The first line says when the checkpoint was taken.
    return result.stdout.split("\n", 1)[-1]


def serve(cep, work, workers, log, artifact="v1.cepo"):
    return Serve(cep, work, [artifact, "-i", "events.jsonl", "--follow", "-o", "out.jsonl",
                             "--state", "state", "--workers", str(workers)], log=log)


def run(cep, root, name, first, second):
    """Parts A, keep deploy, B under `first` workers; stop; C under `second` (None: no restart).
    Returns (output, `cep state` after B)."""
    work = root / name
    work.mkdir()
    compile_rules(cep, work)
    (work / "events.jsonl").write_bytes(b"")
    server = serve(cep, work, first, "first.stderr")
    try:
        feed(server, work, PARTS[0], 1500)
        status, body = request(f"127.0.0.1:{server.port}", "POST", "/deploy?mode=keep",
                               (work / "v2.cepo").read_bytes())
        check(status == 200, f"{name}: the keep deploy is taken (got {status}: {body})")
        check('"runs_moved":0' not in body,
              f"{name}: the deploy moves partial matches (got {body})")
        check(RULES["v1"] == V1 or ('"windows_moved":' in body and '"windows_moved":0' not in body),
              f"{name}: the deploy moves open windows (got {body})")
        feed(server, work, PARTS[1], 3000)
        listing = None
        if second is not None:
            code = server.stop()
            check(code == 0, f"{name}: the first server stops with exit 0 (got {code})")
            listing = state_listing(cep, work)
            # v2, which the checkpoint serves (v1 would be deployed over it in keep mode).
            server = serve(cep, work, second, "second.stderr", "v2.cepo")
        feed(server, work, PARTS[2], 4500)  # the read count goes on from the checkpoint's
        code = server.stop()
        check(code == 0, f"{name}: the server stops with exit 0 (got {code})")
        return (work / "out.jsonl").read_bytes(), listing
    finally:
        server.kill()


def reference_state(cep, root):
    """`cep state` of a --workers 1 server stopped after part B (its last checkpoint)."""
    work = root / "ref_state"
    work.mkdir()
    compile_rules(cep, work)
    (work / "events.jsonl").write_bytes(b"")
    server = serve(cep, work, 1, "serve.stderr")
    try:
        feed(server, work, PARTS[0], 1500)
        request(f"127.0.0.1:{server.port}", "POST", "/deploy?mode=keep",
                (work / "v2.cepo").read_bytes())
        feed(server, work, PARTS[1], 3000)
        code = server.stop()
        check(code == 0, f"reference state: the server stops with exit 0 (got {code})")
        return state_listing(cep, work)
    finally:
        server.kill()


def savepoint_across(cep, root, first, second, want):
    """`cep savepoint` of a `first`-worker server after parts A, keep, B; a `second`-worker
    server started from it reads C: both outputs together equal one worker's."""
    name = f"savepoint_{first}_to_{second}"
    work = root / name
    work.mkdir()
    compile_rules(cep, work)
    (work / "events.jsonl").write_bytes(b"")
    server = Serve(cep, work, ["v1.cepo", "-i", "events.jsonl", "--follow", "-o", "out1.jsonl",
                               "--workers", str(first)], log="first.stderr")
    try:
        feed(server, work, PARTS[0], 1500)
        status, body = request(f"127.0.0.1:{server.port}", "POST", "/deploy?mode=keep",
                               (work / "v2.cepo").read_bytes())
        check(status == 200, f"{name}: the keep deploy is taken (got {status}: {body})")
        feed(server, work, PARTS[1], 3000)
        result = subprocess.run([cep, "savepoint", "--server", f"127.0.0.1:{server.port}", "-o",
                                 "sp.cepsp"], cwd=work, capture_output=True, text=True,
                                timeout=60)
        check(result.returncode == 0, f"{name}: cep savepoint exits 0 (got {result.returncode}: "
              f"{result.stderr})")
        code = server.stop()
        check(code == 0, f"{name}: the first server stops with exit 0 (got {code})")
    finally:
        server.kill()
    with open(work / "events.jsonl", "ab") as f:
        f.write(PARTS[2])
    # --follow as the reference: an input that ends releases the events it held.
    server = Serve(cep, work, ["--from-savepoint", "sp.cepsp", "-i", "events.jsonl", "--follow",
                               "-o", "out2.jsonl", "--workers", str(second)], log="second.stderr")
    try:
        wait_for("4500 records read",
                 lambda: server.metric("cep_input_records_read_total") >= 4500)
        code = server.stop()
        check(code == 0, f"{name}: the server started from the savepoint stops with exit 0 (got "
              f"{code})")
    finally:
        server.kill()
    got = (work / "out1.jsonl").read_bytes() + (work / "out2.jsonl").read_bytes()
    check(got == want, f"{name}: both outputs together equal one worker's, byte for byte (got "
          f"{len(got)} bytes, want {len(want)})")


def refusals(cep, root):
    work = root / "refusals"
    work.mkdir()
    compile_rules(cep, work)
    (work / "events.jsonl").write_bytes(PARTS[0])
    for extra, names in (
        (["-o", "refused.jsonl", "--time", "processing"], "--time processing"),
        (["-o", "refused.jsonl", "--max-runs-per-key", "10"], "--max-runs-per-key"),
    ):
        result = subprocess.run([cep, "serve", "v1.cepo", "-i", "events.jsonl",
                                 "--workers", "2", "--admin", "127.0.0.1:0",
                                 *extra], cwd=work, capture_output=True, text=True, timeout=60)
        check(result.returncode == 2 and names in result.stderr and "--workers 2" in
              result.stderr, f"--workers 2 with {names} is a usage error naming both (got "
              f"{result.returncode}: {result.stderr})")
        check(not (work / "refused.jsonl").exists(),
              f"--workers 2 with {names} writes no output")
    # A key trace: 409.
    server = Serve(cep, work, ["v1.cepo", "-i", "events.jsonl", "--follow", "-o", "out.jsonl",
                               "--workers", "2"])
    try:
        wait_for("1500 records read",
                 lambda: server.metric("cep_input_records_read_total") >= 1500)
        status, body = request(f"127.0.0.1:{server.port}", "POST", "/trace?key=card-001")
        check(status == 409 and "--workers 2" in body,
              f"a key trace under --workers 2 is refused (got {status}: {body})")
        code = server.stop()
        check(code == 0, f"the server stops with exit 0 (got {code})")
    finally:
        server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    parser.add_argument("--aggregates", action="store_true",
                        help="every version with an aggregate too")
    options = parser.parse_args()
    if options.aggregates:
        RULES["v1"] = V1 + AGGREGATE
        RULES["v2"] = V2 + AGGREGATE_V2
    cep = str(Path(options.cep).resolve())
    root = Path(tempfile.mkdtemp(prefix="cep-workers-"))
    try:
        want, _ = run(cep, root, "reference", 1, None)
        want_state = reference_state(cep, root)
        lines = want.count(b"\n")
        check(lines >= 20, f"the reference writes matches (got {lines})")
        windows = want.count(b"PerCard")
        check(not options.aggregates or windows >= 100,
              f"the reference writes windows (got {windows})")
        for name, first, second in (("workers_1_to_1", 1, 1), ("workers_2_to_1", 2, 1), ("workers_1_to_2", 1, 2),
                                    ("workers_2_to_3", 2, 3)):
            got, state = run(cep, root, name, first, second)
            check(got == want, f"{name}: the output equals one worker's, byte for byte (got "
                  f"{len(got)} bytes, want {len(want)})")
            check(state == want_state, f"{name}: `cep state` after the first server equals one "
                  f"worker's (got {state[:300]!r}, want {want_state[:300]!r})")
        for first, second in ((2, 1), (1, 2)):
            savepoint_across(cep, root, first, second, want)
        if not options.aggregates:
            refusals(cep, root)
    except (TimeoutError, RuntimeError, OSError, subprocess.SubprocessError) as e:
        check(False, f"the run completes (got {e})")
    finally:
        if failures and os.environ.get("CEP_KEEP_WORK"):
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
