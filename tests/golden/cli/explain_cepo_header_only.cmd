cep explain cepo/header_only.cepo
