cep compile run/rules.cep -o $TMP/rules.cepo
cep explain --no-host --pattern nope $TMP/rules.cepo
