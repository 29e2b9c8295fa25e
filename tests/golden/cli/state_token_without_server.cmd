cep state cepo --token-file x
