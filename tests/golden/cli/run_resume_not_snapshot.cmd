cep run run/rules.cep --input run/events.jsonl --resume run/events.jsonl -o $TMP/out.jsonl
