cep run run/types.cep --input run/events.jsonl --max-delay 100001d
