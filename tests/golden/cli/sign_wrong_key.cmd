cep compile run/rules.cep --sign keys/pipeline.key -o $TMP/rules.cepo
cep run $TMP/rules.cepo --trust keys/other.pub --input run/events.jsonl
