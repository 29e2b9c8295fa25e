cep serve run/keys_two_ways.cep -i kafka://127.0.0.1:9/in?group=g --repartition -o kafka://127.0.0.1:9/out --admin 127.0.0.1:0
