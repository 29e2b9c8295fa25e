cep run run/rules.cep --input run/events.jsonl --snapshot-after 2
