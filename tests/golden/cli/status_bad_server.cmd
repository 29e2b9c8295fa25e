cep status --server localhost
