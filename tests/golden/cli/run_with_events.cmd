cep run run/rules.cep --input run/events.jsonl --max-delay 1s --with-events
