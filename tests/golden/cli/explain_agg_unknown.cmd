cep explain --emit=agg --pattern nope run/aggregates.cep
