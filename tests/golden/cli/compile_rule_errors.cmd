cep compile run/broken.cep -o $TMP/broken.cepo
