cep compile run/rules.cep -o $TMP/rules.cepo
cep explain --emit=llvm $TMP/rules.cepo
