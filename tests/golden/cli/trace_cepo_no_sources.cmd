cep compile --no-sources ../trace/strict_condition/rules.cep -o $TMP/rules.cepo
cep run $TMP/rules.cepo -i ../trace/strict_condition/events.jsonl --trace c1
