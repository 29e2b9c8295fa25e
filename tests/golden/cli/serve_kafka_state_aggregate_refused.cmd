cep serve run/aggregates.cep -i kafka://127.0.0.1:9/in?group=g -o kafka://127.0.0.1:9/out --admin 127.0.0.1:0 --state $TMP/state
