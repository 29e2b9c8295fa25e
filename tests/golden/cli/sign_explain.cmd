cep compile run/rules.cep --sign keys/pipeline.key -o $TMP/rules.cepo
cep explain --no-host $TMP/rules.cepo
