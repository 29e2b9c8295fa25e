# A snapshot resumed with other options that change results is refused with the reason (exit 3).
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --snapshot-after 4 --snapshot-file $TMP/snap -o $TMP/first.jsonl
cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --resume $TMP/snap --max-delay 1s
