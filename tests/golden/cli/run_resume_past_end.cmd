# The inputs hold 8 records: a cut after 20 cannot be made (exit 3, no snapshot written).
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --snapshot-after 20 --snapshot-file $TMP/snap
