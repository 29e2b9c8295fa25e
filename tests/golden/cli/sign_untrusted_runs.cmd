cep compile run/rules.cep --sign keys/pipeline.key -o $TMP/rules.cepo
cep run $TMP/rules.cepo --input run/events.jsonl
