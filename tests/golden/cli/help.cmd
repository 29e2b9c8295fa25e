cep --help
