cep run run/rules.cep --input run/disorder.jsonl
