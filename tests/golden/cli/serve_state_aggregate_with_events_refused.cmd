cep serve run/aggregates.cep -i run/events.jsonl -o $TMP/out.jsonl --admin 127.0.0.1:0 --state $TMP/state --with-events
