cep run --help
