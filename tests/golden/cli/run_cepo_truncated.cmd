cep run cepo/truncated.cepo --input run/events.jsonl
