cep serve run/rules.cep -i kafka://127.0.0.1:9092/payments?group=fraud -o $TMP/out.jsonl --admin 127.0.0.1:0 --from-savepoint run/events.jsonl
