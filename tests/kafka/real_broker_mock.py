#!/usr/bin/env python3
"""`make real-broker-mock` (tests/kafka/README.md): tests/kafka/real_broker.sh run whole against
librdkafka's mock cluster (tools/kafka-mock) with CEP_KAFKA_KILLS=0, so that every step of the
script (topics, produce, serve, the read_committed comparisons, the scale-out part) is run here
although no real broker is. With kills it cannot pass on the mock (no transaction markers:
aborted records stay visible); that is the real cluster's check. About 2 minutes; not in
`make test`.

    tests/kafka/real_broker_mock.py --cep build/release/cli/cep --mock build/release/tools/kafka-mock
"""

import argparse
import os
import signal
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--cep", required=True)
ap.add_argument("--mock", required=True)
args = ap.parse_args()
mock = subprocess.Popen([args.mock, "--brokers", "3"], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    bootstrap = mock.stdout.readline().strip()  # printed once it listens
    if not bootstrap:
        sys.exit("real_broker_mock.py: kafka-mock did not start")
    env = dict(os.environ, CEP_KAFKA_BROKERS=bootstrap, CEP_KAFKA_KILLS="0")
    env.pop("CEP_KAFKA_CONFIG", None)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "real_broker.sh")
    code = subprocess.run(["bash", script, args.cep], env=env, timeout=600).returncode
finally:
    mock.send_signal(signal.SIGTERM)
    try:
        mock.wait(timeout=10)
    except subprocess.TimeoutExpired:
        mock.kill()
        mock.wait()
sys.exit(code)
