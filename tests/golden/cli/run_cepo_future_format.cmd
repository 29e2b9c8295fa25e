cep run cepo/future_format.cepo --input run/events.jsonl
