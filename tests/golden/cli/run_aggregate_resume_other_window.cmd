cep run run/aggregates_resume.cep -i run/events.jsonl --engine jit --snapshot-after 3 --snapshot-file $TMP/snap -o $TMP/first.jsonl
cep run run/aggregates_resume_2h.cep -i run/events.jsonl --engine interp --resume $TMP/snap
