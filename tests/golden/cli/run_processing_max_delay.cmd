cep run run/types.cep --input run/events.jsonl --time processing --max-delay 2s
