cep run run/aggregates.cep -i run/events.jsonl --engine interp --snapshot-after 1 --snapshot-file $TMP/snap
