cep status --server [::1]:99999
