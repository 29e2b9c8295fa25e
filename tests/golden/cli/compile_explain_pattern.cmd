cep compile run/rules.cep -O 0 --disable-pass split-guards -o $TMP/rules.cepo
cep explain --no-host --pattern logins $TMP/rules.cepo
