cep compile run/rules.cep -o $TMP/rules.cepo
cep run $TMP/rules.cepo --engine interp --input run/events.jsonl
