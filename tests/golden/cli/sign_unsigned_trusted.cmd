cep compile run/rules.cep -o $TMP/rules.cepo
cep run $TMP/rules.cepo --trust keys/pipeline.pub --input run/events.jsonl
