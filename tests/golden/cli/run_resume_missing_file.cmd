cep run run/rules.cep --input run/events.jsonl --resume run/no_such.snap
