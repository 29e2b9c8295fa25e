cep state cepo --server 127.0.0.1:1
