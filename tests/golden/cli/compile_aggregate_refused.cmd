cep compile run/aggregates.cep -o $TMP/aggregates.cepo
