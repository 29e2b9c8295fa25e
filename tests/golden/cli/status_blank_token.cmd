cep status --server 127.0.0.1:1 --token-file admin/blank.token
