cep
