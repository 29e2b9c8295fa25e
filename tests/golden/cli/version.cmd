cep version
