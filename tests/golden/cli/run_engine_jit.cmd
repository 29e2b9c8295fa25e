cep run run/types.cep --input run/events.jsonl --engine jit
