cep compile run/aggregates.cep -o $TMP/aggregates.cepo
cep explain $TMP/aggregates.cepo --no-host
