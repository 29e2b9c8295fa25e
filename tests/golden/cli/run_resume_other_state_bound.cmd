cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --snapshot-after 4 --snapshot-file $TMP/snap --max-runs-per-key 5 -o $TMP/first.jsonl
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --resume $TMP/snap
