cep state --server 127.0.0.1:1 --key card-42
