#!/usr/bin/env python3
"""A scripted Language Server Protocol session with `cep lsp` (ctest: lsp.session).

Copies examples/fraud/common.cep and accounts.cep to a temporary folder, starts `cep lsp`, and
checks over stdin/stdout (Content-Length framing, JSON-RPC 2.0):

  1. initialize: full text sync, hover and definition providers;
  2. didOpen of accounts.cep with `amount` misspelt `amout` in a step condition (the buffer, not
     the file on disk): one error diagnostic whose 0-based range is exactly the word, with the
     "did you mean" note in its message;
  3. didChange back to the file's text: an empty diagnostics list;
  4. definition of a step name used in the emit (`login` of `login.user`), of an event type
     (`Withdrawal`, declared in the imported common.cep), of a field (`amount` of `cash.amount`)
     and of the import's path; hover on that field (`amount: float`) and on a step name;
  5. an aggregate in a subfolder importing `../common.cep` checks clean (the workspace folder
     is a root), and hover works in it;
  6. an unknown request gets MethodNotFound, a hover in a document not open InvalidParams, a bad
     Content-Length a line on stderr, a body that is not JSON a ParseError, and the server
     carries on; shutdown then exit: exit code 0.

Every wait is bounded; the server is killed by its pid if anything fails.
"""
import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading

TIMEOUT = 20  # seconds for any one answer


def frames(stream, out):
    """Reads Content-Length framed messages from `stream` into the queue `out` (None at EOF)."""
    while True:
        length = None
        while True:
            line = stream.readline()
            if not line:
                out.put(None)
                return
            line = line.rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            out.put({"bad-frame": True})
            continue
        out.put(json.loads(stream.read(length)))


class Session:
    def __init__(self, cep):
        self.proc = subprocess.Popen([cep, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.messages = queue.Queue()
        threading.Thread(target=frames, args=(self.proc.stdout, self.messages), daemon=True).start()
        self.next_id = 1

    def send_raw(self, body):
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, method, params=None, request=True):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if request:
            message["id"] = self.next_id
            self.next_id += 1
        self.send_raw(json.dumps(message).encode())
        return message.get("id")

    def wait(self, predicate, what):
        while True:
            try:
                message = self.messages.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no {what} within {TIMEOUT}s")
            if message is None:
                raise AssertionError(f"the server's output ended before {what}")
            if predicate(message):
                return message

    def request(self, method, params=None):
        rid = self.send(method, params)
        return self.wait(lambda m: m.get("id") == rid and "method" not in m, f"answer to {method}")

    def diagnostics(self, uri):
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                      and m["params"]["uri"] == uri, f"diagnostics for {uri}")
        return m["params"]["diagnostics"]


def position(text, needle, nth=0, delta=0):
    """The LSP position of the nth occurrence of `needle` in `text` (plus `delta` characters)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += delta
    line = text.count("\n", 0, at)
    return {"line": line, "character": at - (text.rfind("\n", 0, at) + 1)}


def span(text, needle, nth=0, length=None):
    start = position(text, needle, nth)
    size = len(needle) if length is None else length
    return {"start": start,
            "end": {"line": start["line"], "character": start["character"] + size}}


def check(cep, examples):
    folder = os.path.realpath(tempfile.mkdtemp(prefix="cep-lsp-"))
    session = None
    try:
        for name in ("common.cep", "accounts.cep", "windows/card_hourly.cep"):
            os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
            shutil.copy(os.path.join(examples, name), os.path.join(folder, name))
        accounts = os.path.join(folder, "accounts.cep")
        common = os.path.join(folder, "common.cep")
        uri = "file://" + accounts
        with open(accounts) as f:
            text = f.read()
        with open(common) as f:
            common_text = f.read()

        session = Session(cep)
        init = session.request("initialize", {"processId": os.getpid(), "rootUri": "file://" + folder,
                                              "capabilities": {}})
        caps = init["result"]["capabilities"]
        assert caps["textDocumentSync"]["change"] == 1, caps
        assert caps["hoverProvider"] and caps["definitionProvider"], caps
        session.send("initialized", {}, request=False)

        # 2. An error in the buffer (the file on disk is clean).
        broken = text.replace("Withdrawal(amount > 1000)", "Withdrawal(amout > 1000)")
        assert broken != text
        session.send("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "cep", "version": 1, "text": broken}}, request=False)
        diags = session.diagnostics(uri)
        assert len(diags) == 1, diags
        d = diags[0]
        assert d["severity"] == 1, d
        assert d["range"] == span(broken, "amout"), (d["range"], span(broken, "amout"))
        assert "unknown field `amout`" in d["message"] and "amount" in d["message"], d

        # 3. Fixed in the buffer.
        session.send("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": text}]}, request=False)
        assert session.diagnostics(uri) == []

        # 4. Definitions and hovers.
        def definition(pos):
            return session.request("textDocument/definition", {
                "textDocument": {"uri": uri}, "position": pos})["result"]

        def hover(pos):
            return session.request("textDocument/hover", {
                "textDocument": {"uri": uri}, "position": pos})["result"]

        loc = definition(position(text, "login.user", delta=2))
        assert loc == {"uri": uri, "range": span(text, "login: Login", length=5)}, loc
        common_uri = "file://" + os.path.realpath(common)
        loc = definition(position(text, "Withdrawal(", delta=3))
        assert loc == {"uri": common_uri, "range": span(common_text, "Withdrawal {", length=10)}, loc
        field = position(text, "cash.amount", delta=7)
        loc = definition(field)
        withdrawal = common_text.index("event Withdrawal")
        amount = common_text.index("amount", withdrawal)
        assert loc["uri"] == common_uri and loc["range"]["start"] == position(
            common_text, "amount", nth=common_text.count("amount", 0, amount)), loc
        loc = definition(position(text, '"common.cep"', delta=3))
        assert loc["uri"] == common_uri and loc["range"]["start"] == {"line": 0, "character": 0}, loc
        h = hover(field)
        assert h["contents"]["value"].startswith("amount: float"), h
        assert h["range"] == span(text, "amount", nth=text.count("amount", 0, text.index("cash.amount") + 5)), h
        h = hover(position(text, "cash: Withdrawal"))
        assert h["contents"]["value"].startswith("cash: Withdrawal"), h
        assert definition(position(text, "// Rules")) is None

        # An aggregate importing `../common.cep`: the workspace folder (rootUri) is a root, as
        # `--import-path` is for `cep check`.
        hourly = os.path.join(folder, "windows", "card_hourly.cep")
        hourly_uri = "file://" + hourly
        with open(hourly) as f:
            hourly_text = f.read()
        session.send("textDocument/didOpen", {"textDocument": {
            "uri": hourly_uri, "languageId": "cep", "version": 1, "text": hourly_text}},
            request=False)
        assert session.diagnostics(hourly_uri) == []
        h = session.request("textDocument/hover", {
            "textDocument": {"uri": hourly_uri},
            "position": position(hourly_text, "sum(p.amount", delta=7)})["result"]
        assert h["contents"]["value"].startswith("amount: float"), h

        # 5. Errors that leave the server running.
        answer = session.request("textDocument/formatting", {"textDocument": {"uri": uri}})
        assert answer["error"]["code"] == -32601, answer
        session.proc.stdin.write(b"Content-Length: many\r\n\r\n")
        answer = session.request("textDocument/hover", {"textDocument": {"uri": "file:///nope.cep"},
                                                        "position": {"line": 0, "character": 0}})
        assert answer["error"]["code"] == -32602, answer
        session.send_raw(b"{not json")
        bad = session.wait(lambda m: "error" in m, "a ParseError answer")
        assert bad["error"]["code"] == -32700 and bad["id"] is None, bad
        assert session.request("shutdown")["result"] is None
        session.send("exit", request=False)
        code = session.proc.wait(timeout=TIMEOUT)
        stderr = session.proc.stderr.read().decode()
        assert code == 0, (code, stderr)
        assert "not JSON" in stderr and "bad Content-Length" in stderr, stderr
        print("lsp.session: ok")
        return 0
    finally:
        if session is not None and session.proc.poll() is None:
            session.proc.kill()
            session.proc.wait(timeout=TIMEOUT)
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cep", required=True)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--examples", default=os.path.join(here, "..", "..", "examples", "fraud"))
    args = parser.parse_args()
    return check(args.cep, args.examples)


if __name__ == "__main__":
    sys.exit(main())
