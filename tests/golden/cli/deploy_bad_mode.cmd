cep deploy cepo/corrupt.cepo --server 127.0.0.1:1 --mode hot
