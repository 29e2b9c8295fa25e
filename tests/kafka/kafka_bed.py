"""The Kafka test bed of tests/kafka (standard library only): librdkafka's mock cluster
(tools/kafka-mock), kcat as the outside producer and consumer, and `cep serve` started, waited
for and stopped by pid. Every wait is bounded and polls a condition; nothing binds beyond
127.0.0.1 (the mock listens on loopback only).

  with KafkaBed(cep, mock, workdir, topics=["payments:4", "alerts:4"]) as bed:
      bed.produce("payments", lines, key=lambda record: record["card"])
      server = bed.serve(rules, ["-i", bed.url("payments", group="g"), "-o", bed.url("alerts")])
      bed.wait_for("142 alerts", lambda: len(bed.consume("alerts")) >= 142)
      server.stop()
"""

import json
import shutil
import argparse
import os
import re
import signal
import subprocess
import time
import urllib.request

TIMEOUT = 45.0
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def wait_for(what, condition, timeout=TIMEOUT):
    """Polls `condition` (10 ms, doubling to 250 ms) until it is true; returns its value."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def check_alerts(got, expected, who):
    """Checks two Counters of records equal ("the alerts of WHO equal ..."); prints up to ten
    records each way that differ."""
    missing, extra = expected - got, got - expected
    check(got == expected,
          f"the alerts of {who} equal {sum(expected.values())} records (missing "
          f"{sum(missing.values())}, extra {sum(extra.values())})")
    for r in list(missing.elements())[:10] + list(extra.elements())[:10]:
        print(f"      differs: {r}", flush=True)


def check_served_again(log, names, held):
    """Checks that a server restoring a drain from the changelog topic served each of `names`'
    old version again from its artifact there, with some keys and `held` ("open windows" or
    "partial matches"); returns how many were."""
    revived = 0
    for name in names:
        found = re.search(r"restored from the changelog: " + name + r" \w+ \(draining\): "
                          r"served again, draining, from its artifact in the changelog "
                          r"topic: (\d+) keys, (\d+) " + held, log)
        check(found is not None and int(found.group(1)) > 0 and int(found.group(2)) > 0,
              f"B serves v1's {name} again, draining, with its {held} "
              f"({found.group(0) if found else 'no line'})")
        revived += found is not None
    return revived


def restored_transaction(log, bases, committed):
    """The latest transaction number of `bases` a server's log says it restored records of, or
    `committed` when later."""
    named = [int(seq) for base, seq in
             re.findall(r"state from the changelog topic fraud-state \(transaction "
                        r"(\d+)-(\d+)", log) if base in bases]
    return max(named + [committed])


def strip_version(line):
    """A served record carries "@version" (the artifact's); `cep run`'s does not."""
    record = json.loads(line)
    record.pop("@version", None)
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


# A producer transaction's label (header cep-txn, docs/kafka.md "Exactly-once"): BASE-SEQ, BASE
# one per server start, SEQ its transactions in order.
LABEL = re.compile(r"^(\d+)-(\d+)$")


def parse_output(lines):
    """(label, rest) per message of `kcat -f '%h\\t...'`; label None without cep-txn."""
    out = []
    for line in lines:
        headers, rest = line.split("\t", 1)
        label = None
        for header in headers.split(","):
            if header.startswith("cep-txn="):
                label = header[len("cep-txn="):]
        out.append((label, rest))
    return out


def payment_key(value):
    """The message key a payments pipeline gives an event of the fraud example: a Payment's card,
    else its user (the patterns' keys)."""
    record = json.loads(value)
    return record.get("card") or record.get("user")


def run_records(stdout):
    """`cep run`'s records as a server writes them: a run marks what only the end of its input
    settled with "@at_end" (docs/semantics.md §3); a server, whose input has no end, settles
    those by a watermark and writes no marker."""
    return [line.replace(',"@at_end":true}', "}") for line in stdout.decode().splitlines()]


def example_case(add_arguments=None, rule_files=None):
    """The start every example-stream test shares: its arguments (--cep, --mock, --example,
    --workdir, and what `add_arguments(parser)` adds), a fresh workdir, and the example's rule
    files (`rule_files`, or every .cep file of the example), events and `cep run` records (the
    expectation, "@at_end" markers removed).
    Returns (args, rules, events_path, events: list of bytes lines, expected: list of records,
    last event time)."""
    ap = argparse.ArgumentParser()
    for name in ("--cep", "--mock", "--example", "--workdir"):
        ap.add_argument(name, required=True)
    if add_arguments is not None:
        add_arguments(ap)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    names = rule_files or sorted(f for f in os.listdir(args.example) if f.endswith(".cep"))
    rules = [os.path.join(args.example, f) for f in names]
    events_path = os.path.join(args.example, "events.jsonl")
    with open(events_path, "rb") as f:
        events = [line.rstrip(b"\n") for line in f if line.strip()]
    run = subprocess.run([args.cep, "run", *rules, "--input", events_path, "--max-delay", "2s"],
                         capture_output=True, timeout=120)
    check(run.returncode == 0, "cep run on the example exits 0")
    last = max(json.loads(e)["ts"] for e in events)
    return args, rules, events_path, events, run_records(run.stdout), last


def metric(port_file, name, **labels):
    """The value of series `name{labels}` in the server's /metrics; None when absent."""
    if not os.path.exists(port_file):
        return None
    with open(port_file) as f:
        text = f.read().strip()
    if not text:
        return None
    with urllib.request.urlopen(f"http://127.0.0.1:{int(text)}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            series, _, value = line.rpartition(" ")
            got, _, rest = series.partition("{")
            pairs = dict(p.split("=", 1) for p in rest.rstrip("}").split(",")) if rest else {}
            if got == name and {k: v.strip('"') for k, v in pairs.items()} == labels:
                return float(value)
    return None


class Server:
    def __init__(self, argv, workdir, name):
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        self.port_file = os.path.join(workdir, name + ".port")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.code = None

    def log(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def metric(self, name, **labels):
        """The value of series `name{labels}` on this server's /metrics; None when absent."""
        return metric(self.port_file, name, **labels)

    def wait_log(self, text, timeout=TIMEOUT):
        def seen():
            if self.proc.poll() is not None:
                raise RuntimeError(f"cep serve exited with {self.proc.returncode}:\n{self.log()}")
            return text in self.log()
        wait_for(repr(text) + " in the server's log", seen, timeout)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.code = self.proc.wait()
        self.stderr.close()
        return self.code


class KafkaBed:
    def __init__(self, cep, mock, workdir, topics, brokers=3):
        self.cep = cep
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.mock = subprocess.Popen(
            [mock, "--brokers", str(brokers)] + sum((["--topic", t] for t in topics), []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.bootstrap = self.mock.stdout.readline().strip()  # printed once the topics exist
        if not self.bootstrap:
            raise RuntimeError("kafka-mock did not start: " + self.mock.stderr.read())
        self.servers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for server in self.servers:
            server.stop()
        self.mock.send_signal(signal.SIGTERM)
        try:
            self.mock.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.mock.kill()
            self.mock.wait()

    def command(self, line):
        """A failure injected into the mock (tools/kafka_mock: down, up, errors, leader)."""
        self.mock.stdin.write(line + "\n")
        self.mock.stdin.flush()
        answer = self.mock.stdout.readline().strip()
        if not answer.startswith("ok "):
            raise RuntimeError(f"kafka-mock refused {line!r}: {answer}")

    def url(self, topic, group=None):
        return f"kafka://{self.bootstrap}/{topic}" + (f"?group={group}" if group else "")

    def kcat(self, args, data=None, timeout=30):
        return subprocess.run(["kcat", "-b", self.bootstrap] + args, input=data,
                              capture_output=True, timeout=timeout)

    def produce(self, topic, values, key=None, partition=None):
        """Produces byte strings (one message each) with kcat; `key(value)` keys them."""
        path = os.path.join(self.workdir, "produce.bin")
        with open(path, "wb") as f:
            for value in values:
                if key is not None:
                    f.write(key(value).encode() + b"\t")
                f.write(value + b"\x1e")  # record separator: values may hold newlines
        args = ["-P", "-t", topic, "-D", "\x1e", "-l", path]  # kcat sends an empty value only with a key
        if key is not None:
            args += ["-K", "\t"]
        if partition is not None:
            args += ["-p", str(partition)]
        p = self.kcat(args)
        if p.returncode != 0:
            raise RuntimeError("kcat -P failed: " + p.stderr.decode(errors="replace"))

    def consume(self, topic, fmt="%s\\n"):
        """Every message of `topic` now, as lines of `fmt` (kcat -f)."""
        p = self.kcat(["-C", "-t", topic, "-e", "-q", "-f", fmt])
        if p.returncode != 0:
            raise RuntimeError("kcat -C failed: " + p.stderr.decode(errors="replace"))
        return p.stdout.decode().splitlines()

    def serve(self, args, name="serve"):
        port = os.path.join(self.workdir, name + ".port")
        argv = [self.cep, "serve", *args, "--admin", "127.0.0.1:0", "--admin-port-file", port]
        server = Server(argv, self.workdir, name)
        self.servers.append(server)
        return server
