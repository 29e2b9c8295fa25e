cep serve run/rules.cep -i kafka://127.0.0.1:9092/payments -o $TMP/out.jsonl --admin 127.0.0.1:0
