cep run run/rules.cep --trust keys/pipeline.pub --input run/events.jsonl
