#!/bin/sh
# Builds tests/tsan/librdkafka_min.c under ThreadSanitizer twice, without and with
# c11_threads_shim.c, runs each RUNS times (default 10) and prints how each run ended
# (README.md). Needs gcc and librdkafka-dev. Files go to a temporary folder, removed at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -g -fsanitize=thread "$here/librdkafka_min.c" -o "$work/plain" -lrdkafka || exit 2
gcc -g -fsanitize=thread "$here/librdkafka_min.c" "$here/c11_threads_shim.c" -o "$work/shim" \
  -lrdkafka || exit 2
for build in plain shim; do
  ok=0 segv=0 races=0 other=0
  i=0
  while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    timeout 60 "$work/$build" >"$work/out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then ok=$((ok + 1))
    elif [ "$rc" -eq 139 ] || grep -q "SEGV" "$work/out"; then segv=$((segv + 1))
    elif grep -q "WARNING: ThreadSanitizer" "$work/out"; then races=$((races + 1))
      cp "$work/out" "$work/last_race"
    else other=$((other + 1))
    fi
  done
  echo "$build: $runs runs: $ok clean, $segv SIGSEGV, $races with a TSan report, $other other"
done
if [ -f "$work/last_race" ]; then
  echo "the last TSan report with the shim:"
  grep -A8 -m1 "WARNING: ThreadSanitizer" "$work/last_race"
fi
