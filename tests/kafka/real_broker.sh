#!/usr/bin/env bash
# Exactly-once of `cep serve --state` against a REAL Kafka cluster (docs/kafka.md, "Exactly
# once"), then two `--scale-out` servers sharing a topic (docs/kafka.md "Scale-out"): the check that librdkafka's mock cluster cannot make (it writes no transaction markers
# and stores no offsets sent in a transaction). Not in `make test`: it needs brokers.
#
#   CEP_KAFKA_BROKERS=b1:9092,b2:9092 tests/kafka/real_broker.sh [build/release/cli/cep]
#
# Optional: CEP_KAFKA_CONFIG=client.properties (TLS/SASL: given to cep as --kafka-config and to
# kcat as -F), CEP_KAFKA_KILLS (default 5), CEP_KAFKA_SEED (the kill moments; printed).
# Topics: new ones per run, named cep-eos-<pid>-<time>-...: payments and alerts (4 partitions
# each) and the changelog topic <group>-state (compacted, 4 partitions; the group is the name)
# for the exactly-once part, group-payments, group-alerts and group-state for the scale-out
# part; made with kafka-topics.sh when it is on PATH (as docs/kafka.md's steps say), else the
# changelog topics by `cep serve` itself and the others by the brokers'
# auto.create.topics.enable (their default partition count). They are left behind (delete them
# with kafka-topics.sh).
#
# Without CEP_KAFKA_BROKERS it says it is skipped and exits 0 (ctest kafka.real_broker_script
# checks that, `bash -n` and shellcheck). `make real-broker-mock` runs it against tools/kafka-mock
# with CEP_KAFKA_KILLS=0 (about 2 minutes): every step but the strict check after kills.
#
# The fraud example stream is produced in parts while `cep serve --state` reads it into the
# alerts topic, killed with SIGKILL at random moments (bounded) and started again; a last server
# reads to the end and stops with SIGTERM. Then the alerts topic is read with kcat as a
# read_committed consumer and must equal `cep run` on the same events EXACTLY (as a multiset:
# with several partitions the arrival order, the last output sort key, differs): no loss, no
# duplicate, since the records of aborted transactions are hidden by their markers. (Against
# tools/kafka-mock it passes only with CEP_KAFKA_KILLS=0: the mock writes no markers, so the
# records of transactions aborted by the kills are read too; tests/kafka/check_exactly_once.py
# is the mock's form of this check.)
set -euo pipefail

if [[ -z "${CEP_KAFKA_BROKERS:-}" ]]; then
  echo "real_broker.sh: skipped: set CEP_KAFKA_BROKERS=HOST:PORT[,HOST:PORT] to run it against a real cluster"
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cep=${1:-$root/build/release/cli/cep}
kills=${CEP_KAFKA_KILLS:-5}
seed=${CEP_KAFKA_SEED:-$RANDOM}
echo "real_broker.sh: brokers $CEP_KAFKA_BROKERS, $kills kills, seed $seed (CEP_KAFKA_SEED=$seed repeats it)"
RANDOM=$seed
work=$(mktemp -d /tmp/cep-real-broker.XXXXXX)
name=cep-eos-$$-$(date +%s)
in=$name-payments
out=$name-alerts
kcat=(kcat -b "$CEP_KAFKA_BROKERS")
config=()
if [[ -n "${CEP_KAFKA_CONFIG:-}" ]]; then
  kcat+=(-F "$CEP_KAFKA_CONFIG")
  config=(--kafka-config "$CEP_KAFKA_CONFIG")
fi
server=
cleanup() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then kill -9 "$server"; fi
}
trap cleanup EXIT

if command -v kafka-topics.sh >/dev/null; then
  for t in "$in" "$out"; do
    kafka-topics.sh --bootstrap-server "$CEP_KAFKA_BROKERS" --create --topic "$t" \
      --partitions 4 --replication-factor 1 ${CEP_KAFKA_CONFIG:+--command-config "$CEP_KAFKA_CONFIG"}
  done
  # The changelog topic of group $name (--state with a Kafka output writes one; docs/kafka.md
  # "The changelog topic": compacted, the input's partition count).
  kafka-topics.sh --bootstrap-server "$CEP_KAFKA_BROKERS" --create --topic "$name-state" \
    --partitions 4 --replication-factor 1 --config cleanup.policy=compact \
    ${CEP_KAFKA_CONFIG:+--command-config "$CEP_KAFKA_CONFIG"}
fi

example=$root/examples/fraud
rules=("$example"/*.cep)
"$cep" run "${rules[@]}" --input "$example/events.jsonl" --max-delay 2s |
  python3 -c 'import sys; print("\n".join(sorted(l.rstrip("\n").replace(",\"@at_end\":true}", "}") for l in sys.stdin)))' \
    >"$work/expected.txt"
# (cep run marks what only its end settled with "@at_end"; the server settles those by the
# watermark below, unmarked.) The stream keyed as a payments pipeline keys it, in parts; then a watermark per partition
# past the last event, so that every window closes as at the end of cep run's file.
python3 - "$example/events.jsonl" "$work" "$((kills + 1))" <<'PY'
import json, sys
events = [l for l in open(sys.argv[1]) if l.strip()]
parts = int(sys.argv[3])
size = (len(events) + parts - 1) // parts
for i in range(parts):
    with open(f"{sys.argv[2]}/part{i}.txt", "w") as f:
        for l in events[i * size:(i + 1) * size]:
            r = json.loads(l)
            f.write((r.get("card") or r["user"]) + "\t" + l)
last = max(json.loads(l)["ts"] for l in events)
open(f"{sys.argv[2]}/watermark.txt", "w").write(json.dumps({"@watermark": last + 86400000}) + "\n")
PY
produce() { "${kcat[@]}" -P -t "$in" -K $'\t' -l "$1"; }

serve_args=("${rules[@]}" -i "kafka://$CEP_KAFKA_BROKERS/$in?group=$name" -o "kafka://$CEP_KAFKA_BROKERS/$out"
  --max-delay 2s --state "$work/state" --checkpoint-every 400ms --admin 127.0.0.1:0 "${config[@]}")
for ((round = 0; round < kills; round++)); do
  "$cep" serve "${serve_args[@]}" 2>>"$work/serve.log" &
  server=$!
  sleep "0.$((RANDOM % 8))"
  produce "$work/part$round.txt"
  sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  echo "real_broker.sh: killed server $((round + 1)) of $kills"
done
produce "$work/part$kills.txt"
partitions=$("${kcat[@]}" -L -t "$in" | grep -c 'partition [0-9]*,' || true)
for ((p = 0; p < partitions; p++)); do
  "${kcat[@]}" -P -t "$in" -p "$p" -l "$work/watermark.txt"
done
"$cep" serve "${serve_args[@]}" 2>>"$work/serve.log" &
server=$!
want=$(wc -l <"$work/expected.txt")
deadline=$((SECONDS + 120))
count() {
  "${kcat[@]}" -C -t "$out" -e -q -X isolation.level=read_committed -f '%s\n' | wc -l
}
until [[ $(count) -ge $want ]]; do
  if ((SECONDS > deadline)); then
    echo "real_broker.sh: FAIL: fewer than $want committed alerts after 120 s (log: $work/serve.log)"
    exit 1
  fi
  sleep 1
done
kill -TERM "$server"
wait "$server"
server=
"${kcat[@]}" -C -t "$out" -e -q -X isolation.level=read_committed -f '%s\n' |
  python3 -c 'import json, sys
rows = []
for l in sys.stdin:
    r = json.loads(l); r.pop("@version", None)
    rows.append(json.dumps(r, separators=(",", ":"), ensure_ascii=False))
print("\n".join(sorted(rows)))' >"$work/got.txt"
if ! diff -u "$work/expected.txt" "$work/got.txt" >"$work/diff.txt"; then
  echo "real_broker.sh: FAIL: the read_committed alerts differ from cep run's ($work/diff.txt)"
  exit 1
fi
echo "real_broker.sh: ok: the read_committed alerts equal cep run's exactly ($want records, $kills kills; topics $in, $out)"

# Scale-out (docs/kafka.md "Scale-out"): two `cep serve --scale-out` of one group share two new
# 4-partition topics; the second joins after the first has read half the stream, a cooperative
# rebalance moves two partitions and their state through the changelog topic <group>-state;
# the read_committed alerts must equal `cep run`'s exactly. The rules are the two whose key is
# the topic's (payments.cep by card, accounts.cep by user): orders.cep is keyed by order_id.
gin=$name-group-payments
gout=$name-group-alerts
ggroup=$name-group
if command -v kafka-topics.sh >/dev/null; then
  for t in "$gin" "$gout"; do
    kafka-topics.sh --bootstrap-server "$CEP_KAFKA_BROKERS" --create --topic "$t" \
      --partitions 4 --replication-factor 1 ${CEP_KAFKA_CONFIG:+--command-config "$CEP_KAFKA_CONFIG"}
  done
  kafka-topics.sh --bootstrap-server "$CEP_KAFKA_BROKERS" --create --topic "$ggroup-state" \
    --partitions 4 --replication-factor 1 --config cleanup.policy=compact \
    ${CEP_KAFKA_CONFIG:+--command-config "$CEP_KAFKA_CONFIG"}
fi
group_rules=("$example/payments.cep" "$example/accounts.cep")
"$cep" run "${group_rules[@]}" --input "$example/events.jsonl" --max-delay 2s |
  python3 -c 'import sys; print("\n".join(sorted(l.rstrip("\n").replace(",\"@at_end\":true}", "}") for l in sys.stdin)))' \
    >"$work/group-expected.txt"
python3 - "$example/events.jsonl" "$work" <<'PY'
import json, sys
events = [l for l in open(sys.argv[1]) if l.strip()]
half = len(events) // 2
for name, part in (("group-part0", events[:half]), ("group-part1", events[half:])):
    with open(f"{sys.argv[2]}/{name}.txt", "w") as f:
        for l in part:
            r = json.loads(l)
            f.write((r.get("card") or r["user"]) + "\t" + l)
PY
group_args() {
  echo "${group_rules[@]}" -i "kafka://$CEP_KAFKA_BROKERS/$gin?group=$ggroup" \
    -o "kafka://$CEP_KAFKA_BROKERS/$gout" --max-delay 2s --state "$work/group-$1" \
    --checkpoint-every 400ms --scale-out --admin 127.0.0.1:0 "${config[@]}"
}
wait_log() { # FILE TEXT: until FILE holds TEXT, at most 120 s
  local deadline=$((SECONDS + 120))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      echo "real_broker.sh: FAIL: no \"$2\" in $1 after 120 s"
      exit 1
    fi
    sleep 0.2
  done
}
"${kcat[@]}" -P -t "$gin" -K $'\t' -l "$work/group-part0.txt"
# shellcheck disable=SC2046 # group_args prints words without spaces
"$cep" serve $(group_args a) 2>"$work/group-a.log" &
server=$!
wait_log "$work/group-a.log" "partitions restored in"
# shellcheck disable=SC2046
"$cep" serve $(group_args b) 2>"$work/group-b.log" &
second=$!
cleanup() {
  for pid in "$server" "${second:-}"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  done
}
wait_log "$work/group-b.log" "partitions restored in"
wait_log "$work/group-a.log" "gave up "
"${kcat[@]}" -P -t "$gin" -K $'\t' -l "$work/group-part1.txt"
for ((p = 0; p < 4; p++)); do
  "${kcat[@]}" -P -t "$gin" -p "$p" -l "$work/watermark.txt"
done
want=$(wc -l <"$work/group-expected.txt")
deadline=$((SECONDS + 120))
until [[ $("${kcat[@]}" -C -t "$gout" -e -q -X isolation.level=read_committed -f '%s\n' | wc -l) -ge $want ]]; do
  if ((SECONDS > deadline)); then
    echo "real_broker.sh: FAIL: fewer than $want committed alerts from the group after 120 s ($work/group-*.log)"
    exit 1
  fi
  sleep 1
done
kill -TERM "$second" "$server"
wait "$second" "$server"
server=
second=
"${kcat[@]}" -C -t "$gout" -e -q -X isolation.level=read_committed -f '%s\n' |
  python3 -c 'import json, sys
rows = []
for l in sys.stdin:
    r = json.loads(l); r.pop("@version", None)
    rows.append(json.dumps(r, separators=(",", ":"), ensure_ascii=False))
print("\n".join(sorted(rows)))' >"$work/group-got.txt"
if ! diff -u "$work/group-expected.txt" "$work/group-got.txt" >"$work/group-diff.txt"; then
  echo "real_broker.sh: FAIL: the group's read_committed alerts differ from cep run's ($work/group-diff.txt)"
  exit 1
fi
echo "real_broker.sh: ok: two --scale-out servers, partitions moved by a rebalance: the read_committed alerts equal cep run's exactly ($want records; topics $gin, $gout)"
