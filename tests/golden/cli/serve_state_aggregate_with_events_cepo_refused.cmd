cep compile run/aggregates.cep -o $TMP/aggregates.cepo
cep serve $TMP/aggregates.cepo -i run/events.jsonl -o $TMP/out.jsonl --admin 127.0.0.1:0 --state $TMP/state --with-events
