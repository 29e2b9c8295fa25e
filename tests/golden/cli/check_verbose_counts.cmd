cep check -v run/aggregates.cep
