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
