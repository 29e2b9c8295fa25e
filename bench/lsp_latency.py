#!/usr/bin/env python3
"""`cep lsp`'s answer times (bench/README.md): a change of examples/fraud/accounts.cep to its
diagnostics (the whole front end over the buffer and its import), and a hover, N times each.

  bench/lsp_latency.py [--cep build/release/cli/cep] [-n 100]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lsp"))
import check_lsp  # noqa: E402  (its Session: the framing, bounded waits)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cep", default=os.path.join(HERE, "..", "build", "release", "cli", "cep"))
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    root = os.path.realpath(os.path.join(HERE, "..", "examples", "fraud"))
    path = os.path.join(root, "accounts.cep")
    uri = "file://" + path
    with open(path) as f:
        text = f.read()
    session = check_lsp.Session(args.cep)
    try:
        session.request("initialize", {"rootUri": "file://" + root})
        session.send("textDocument/didOpen", {"textDocument": {"uri": uri, "text": text}},
                     request=False)
        session.diagnostics(uri)
        start = time.monotonic()
        for i in range(args.n):
            session.send("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": i + 2},
                "contentChanges": [{"text": text + "\n" * (i % 2)}]}, request=False)
            session.diagnostics(uri)
        change = (time.monotonic() - start) / args.n
        where = check_lsp.position(text, "cash.amount", delta=7)
        start = time.monotonic()
        for _ in range(args.n):
            session.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": where})
        hover = (time.monotonic() - start) / args.n
        print(f"didChange to publishDiagnostics: {change * 1000:.2f} ms (mean of {args.n})")
        print(f"hover round trip: {hover * 1000:.2f} ms (mean of {args.n})")
        session.request("shutdown")
        session.send("exit", request=False)
        session.proc.wait(timeout=10)
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
            session.proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
