cep state cepo
