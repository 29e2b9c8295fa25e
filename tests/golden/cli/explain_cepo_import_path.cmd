cep compile run/rules.cep -o $TMP/rules.cepo
cep explain $TMP/rules.cepo --import-path run
