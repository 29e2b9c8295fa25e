cep state
