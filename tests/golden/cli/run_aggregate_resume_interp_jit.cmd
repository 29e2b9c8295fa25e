cep run run/aggregates_resume.cep -i run/events.jsonl --engine interp --snapshot-after 3 --snapshot-file $TMP/snap -o $TMP/first.jsonl
cep run run/aggregates_resume.cep -i run/events.jsonl --engine jit --resume $TMP/snap
