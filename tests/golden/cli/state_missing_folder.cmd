cep state missing-state-dir
