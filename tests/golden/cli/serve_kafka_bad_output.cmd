cep serve run/rules.cep -i run/events.jsonl -o kafka://127.0.0.1:9092/alerts?acks=all --admin 127.0.0.1:0
