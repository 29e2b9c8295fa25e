cep compile run/rules.cep -o $TMP/rules.cepo
cep run $TMP/rules.cepo --import-path run -i run/events.jsonl
