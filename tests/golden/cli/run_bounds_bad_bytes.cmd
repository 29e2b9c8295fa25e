cep run run/rules.cep --input run/events.jsonl --max-state-bytes 12X
