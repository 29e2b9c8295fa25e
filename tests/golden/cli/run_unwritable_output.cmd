cep run run/types.cep --input run/events.jsonl --output /nonexistent-dir/out.jsonl
