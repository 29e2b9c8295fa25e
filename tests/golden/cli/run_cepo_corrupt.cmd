cep run cepo/corrupt.cepo --input run/events.jsonl
