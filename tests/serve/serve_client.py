"""Small helpers the `cep serve` stress scripts share (standard library only).

  status, body = request("127.0.0.1:7077", "POST", "/deploy?mode=keep", artifact_bytes)
  status, body = request(server, "GET", "/patterns", token="s3cret")
  rss_kib(pid)              # VmRSS of a live process, in KiB (/proc/PID/status)
  payment("c1", 0.5, ts)    # one Payment record as a JSONL line (bytes, with its newline)

`request` answers every HTTP status (4xx and 5xx included) as (status, body text) and raises
OSError only when there is no answer at all (refused, reset, timed out).
"""

import http.client
import json


def request(server, method, path, body=None, token=None, timeout=60.0, headers=None):
    host, port = server.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = "Bearer " + token
        if body is not None and "Content-Type" not in all_headers:
            all_headers["Content-Type"] = "application/octet-stream"
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise OSError(f"no VmRSS for pid {pid}")


def payment(card, amount, ts):
    return (json.dumps({"card": card, "amount": amount, "ts": ts}, separators=(",", ":")) +
            "\n").encode()


def watermark(ts):
    return (json.dumps({"@watermark": ts}) + "\n").encode()
