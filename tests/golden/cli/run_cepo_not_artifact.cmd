cep run cepo/not_cepo.cepo --input run/events.jsonl
