cep run run/rules.cep --input run/events.jsonl --input run/logins.jsonl:Login --stats --no-timing
