cep compile run/rules.cep -o $TMP/rules.out
