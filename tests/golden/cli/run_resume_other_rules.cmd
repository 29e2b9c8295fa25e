# Rules without the pattern `logins`: the snapshot names a pattern this run does not have.
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --snapshot-after 4 --snapshot-file $TMP/snap -o $TMP/first.jsonl
cep run run/types.cep --input run/events.jsonl --input run/logins.jsonl:Login --resume $TMP/snap
