cep explain --emit=typed run/aggregates.cep
