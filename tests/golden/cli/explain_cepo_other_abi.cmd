cep explain cepo/other_abi.cepo
