cep compile run/rules.cep -o $TMP/missing/rules.cepo
