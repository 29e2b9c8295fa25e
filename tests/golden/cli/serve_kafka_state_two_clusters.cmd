cep serve run/rules.cep -i run/events.jsonl -o kafka://127.0.0.1:9092/alerts --dead-letter kafka://127.0.0.2:9092/dead --admin 127.0.0.1:0 --state $TMP/state
