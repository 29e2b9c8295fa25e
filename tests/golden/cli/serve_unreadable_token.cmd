cep serve run/rules.cep -i run/events.jsonl -o $TMP/out.jsonl --admin 127.0.0.1:0 --admin-token-file admin/no_such.token
