cep run run/types.cep --input run/events.jsonl --event-time-range 2200-01-01T00:00:00Z..1970-01-01T00:00:00Z
