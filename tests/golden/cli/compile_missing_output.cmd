cep compile rules.cep
