cep check --help
