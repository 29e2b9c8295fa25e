cep compile run/rules.cep --disable-pass nope -o $TMP/rules.cepo
