#!/usr/bin/env python3
"""`cep serve --trust KEY.pub`: only artifacts signed by a trusted key are served.

At start an unsigned artifact stops the server (exit 1, nothing opened); once running, an
unsigned deploy is refused with HTTP 400 and the reason and changes nothing, and a signed one is
deployed.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_serve_cases import CaseError, Server  # noqa: E402

RULES = """event Payment { card: string, amount: float, ts: time }
pattern big { p: Payment(amount > 500.0) }
emit Big { card: p.card, amount: p.amount }
"""


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    options = parser.parse_args()
    cep = os.path.abspath(options.cep)
    work = tempfile.mkdtemp(prefix="cep-trust-")
    server = None
    try:
        with open(os.path.join(work, "rules.cep"), "w") as f:
            f.write(RULES)
        for command in ([cep, "keygen", "-o", "ops"],
                        [cep, "compile", "rules.cep", "--sign", "ops.key", "-o", "signed.cepo"],
                        [cep, "compile", "rules.cep", "-o", "unsigned.cepo"]):
            result = run(command, cwd=work)
            if result.returncode != 0:
                raise CaseError(f"{' '.join(command)}: {result.stderr}")

        start = run([cep, "serve", "unsigned.cepo", "--trust", "ops.pub", "-i", "nothing.jsonl",
                     "--admin", "127.0.0.1:0"], cwd=work)
        want = ("cep serve: unsigned.cepo: not signed; --trust loads only artifacts signed by a "
                "trusted key (cep compile --sign)\n")
        if start.returncode != 1 or start.stderr != want:
            raise CaseError(f"an unsigned start artifact: exit {start.returncode}, stderr "
                            f"{start.stderr!r}, wanted exit 1 and {want!r}")

        server = Server(cep, work, [os.path.join(work, "signed.cepo")],
                        ["--trust", os.path.join(work, "ops.pub")], 30)
        refused = run([cep, "deploy", "unsigned.cepo", "--server", server.server], cwd=work)
        want = ("cep deploy: HTTP 400: POST /deploy: not signed; --trust loads only artifacts "
                "signed by a trusted key (cep compile --sign)\n")
        if refused.returncode != 3 or refused.stderr != want:
            raise CaseError(f"an unsigned deploy: exit {refused.returncode}, stderr "
                            f"{refused.stderr!r}, wanted exit 3 and {want!r}")
        done = run([cep, "deploy", "signed.cepo", "--server", server.server], cwd=work)
        if done.returncode != 0 or json.loads(done.stdout)["patterns"][0]["action"] != "replaced":
            raise CaseError(f"a signed deploy: exit {done.returncode}: {done.stdout}{done.stderr}")
        server.stop()
        print("ok    unsigned refused at start and when deployed; signed deployed")
        return 0
    except CaseError as e:
        print(f"FAIL  {e}")
        if server is not None:
            print(server.stderr_text())
        return 1
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
