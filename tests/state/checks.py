"""What the `cep serve --state` scripts of tests/state share (standard library only).

  from checks import check, failures, wait_for
  check(code == 0, f"the server stops with exit 0 (got {code})")  # "ok    ..." or "FAIL  ..."
  wait_for("5 records read", lambda: server.records_read() >= 5)  # bounded: TimeoutError

`check` prints one line per check and keeps the failed ones in `failures` (a script exits 1
when it is not empty); the part of `what` from " (got " on is printed on a failure only.
"""

import time

TIMEOUT = 60.0
failures = []


def check(ok, what):
    if ok:
        what = what.split(" (got ", 1)[0]  # what was got is shown on a failure only
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def wait_for(what, condition, timeout=TIMEOUT):
    """Polls `condition` (5 ms, doubling to 100 ms) until it is true; its value is returned."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class Serve:
    """One `cep serve` started in `work` with `args` (after "serve"), its stderr in `log`.

    Ready once stderr says "admin endpoint on" (the port file is written before the inputs are
    opened and before a restore's "resumes at byte" lines). Stopped by its pid with SIGTERM.

      server = Serve(cep, work, ["rules.cepo", "-i", "events.jsonl", "--follow", "--state", "st"])
      wait_for("5 records read", lambda: server.metric("cep_input_records_read_total") >= 5)
      code = server.stop()
    """

    def __init__(self, cep, work, args, log="serve.stderr"):
        import subprocess
        self.work = work
        self.port_file = work / "admin.port"
        if self.port_file.exists():
            self.port_file.unlink()
        self.stderr_path = work / log
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(cep), "serve", *args, "--admin", "127.0.0.1:0", "--admin-port-file",
                 str(self.port_file)], cwd=work, stdout=subprocess.DEVNULL, stderr=err)
        self.port = wait_for("the admin port", self._read_port)
        wait_for("the server to be ready", lambda: "admin endpoint on" in self.stderr())

    def _read_port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"cep serve exited with {self.proc.returncode}: {self.stderr()}")
        text = self.port_file.read_text().strip() if self.port_file.exists() else ""
        return int(text) if text else None

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def metric(self, name, labels=None):
        """The sum of metric `name`'s samples whose labels include every item of `labels`."""
        import re
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        total = 0.0
        for sample, value in re.findall(r"^" + re.escape(name) + r"(\{[^}]*\})? (\S+)$", text,
                                        re.M):
            if all(f'{k}="{v}"' in sample for k, v in (labels or {}).items()):
                total += float(value)
        return total

    def stop(self):
        import os
        import signal
        os.kill(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(TIMEOUT)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
