cep run --engine warp rules.cep
