cep frobnicate
