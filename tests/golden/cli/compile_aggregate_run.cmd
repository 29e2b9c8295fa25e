cep compile run/aggregates.cep -o $TMP/aggregates.cepo
cep run $TMP/aggregates.cepo --input run/events.jsonl
