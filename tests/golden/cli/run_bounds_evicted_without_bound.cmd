cep run run/rules.cep --input run/events.jsonl --evicted-output $TMP/evicted.jsonl
