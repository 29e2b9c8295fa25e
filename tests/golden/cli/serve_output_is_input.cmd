# The output is the file served as input (made in $TMP by a first run, so nothing of the case is at risk).
cep run run/rules.cep -i run/events.jsonl -o $TMP/events.jsonl
cep serve run/rules.cep -i $TMP/events.jsonl -o $TMP/events.jsonl --admin 127.0.0.1:0
