# The snapshot consumed 4 records of run/events.jsonl; run/logins.jsonl in its place is refused.
cep run run/rules.cep --input run/events.jsonl --snapshot-after 4 --snapshot-file $TMP/snap -o $TMP/first.jsonl
cep run run/rules.cep --input run/logins.jsonl --resume $TMP/snap
