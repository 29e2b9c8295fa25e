cep serve run/rules.cep -i run/events.jsonl --rules-topic kafka://127.0.0.1/rules
