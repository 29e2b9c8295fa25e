cep run run/rules.cep --input run/disorder.jsonl --order sort --max-delay 1s
