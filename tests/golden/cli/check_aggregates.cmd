cep check run/aggregates.cep
