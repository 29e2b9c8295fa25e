cep run run/rules.cepo --input run/events.jsonl
