cep run run/broken.cep --input run/events.jsonl
