cep state cepo --format yaml
