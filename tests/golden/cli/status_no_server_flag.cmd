cep status
