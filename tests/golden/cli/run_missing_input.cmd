cep run run/types.cep --input run/missing.jsonl
