cep keygen -o $TMP/k
cep compile run/rules.cep --sign $TMP/k.key -o $TMP/rules.cepo
cep run $TMP/rules.cepo --trust keys/other.pub --trust $TMP/k.pub --input run/events.jsonl
