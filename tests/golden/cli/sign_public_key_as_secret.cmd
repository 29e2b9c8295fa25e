cep compile run/rules.cep --sign keys/pipeline.pub -o $TMP/rules.cepo
