# The admin endpoint on a non-loopback address needs a token: refused before anything is served.
cep serve run/rules.cep -i run/events.jsonl -o $TMP/out.jsonl --admin 0.0.0.0:0
