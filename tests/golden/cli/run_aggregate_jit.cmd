cep run run/aggregates.cep -i run/events.jsonl
