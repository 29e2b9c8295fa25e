#!/usr/bin/env bash
# kafka.real_broker_script (tests/kafka/README.md): what of tests/kafka/real_broker.sh can be
# checked without a real cluster. The script parses (`bash -n`), shellcheck finds no warning in
# it (when shellcheck is installed: scripts/setup installs it), and without CEP_KAFKA_BROKERS
# (unset, or empty) it says it is skipped, exits 0, writes nothing to stderr and never runs the
# cep it is given. `make real-broker-mock` runs the whole script against tools/kafka-mock.
#
#   tests/kafka/check_real_broker_script.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=$here/real_broker.sh
work=$(mktemp -d /tmp/cep-real-broker-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
check() { # CONDITION-STATUS WHAT
  if [[ $1 == 0 ]]; then echo "ok    $2"; else echo "FAIL  $2"; failed=1; fi
}

status=0
bash -n "$script" || status=$?
check $status "bash -n real_broker.sh"

if command -v shellcheck >/dev/null; then
  status=0
  shellcheck --severity=warning "$script" >"$work/shellcheck.txt" || status=$?
  check $status "shellcheck --severity=warning real_broker.sh"
  cat "$work/shellcheck.txt"
else
  echo "skip  shellcheck is not installed (scripts/setup installs it)"
fi

# A cep that must never run: it would leave a mark.
fake=$work/cep
printf '#!/bin/sh\ntouch "%s/ran"\nexit 9\n' "$work" >"$fake"
chmod +x "$fake"
want="real_broker.sh: skipped: set CEP_KAFKA_BROKERS=HOST:PORT[,HOST:PORT] to run it against a real cluster"
for how in unset empty; do
  status=0
  if [[ $how == unset ]]; then
    env -u CEP_KAFKA_BROKERS bash "$script" "$fake" >"$work/out" 2>"$work/err" || status=$?
  else
    CEP_KAFKA_BROKERS= bash "$script" "$fake" >"$work/out" 2>"$work/err" || status=$?
  fi
  check $status "CEP_KAFKA_BROKERS $how: exit 0"
  status=0
  [[ $(cat "$work/out") == "$want" ]] || status=1
  check $status "CEP_KAFKA_BROKERS $how: it says it is skipped ($(head -c 200 "$work/out"))"
  status=0
  [[ ! -s $work/err && ! -e $work/ran ]] || status=1
  check $status "CEP_KAFKA_BROKERS $how: nothing on stderr, cep not run"
done
exit $failed
