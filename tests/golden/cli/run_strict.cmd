cep run run/types.cep --input run/events.jsonl --strict
