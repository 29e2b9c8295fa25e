cep run run/rules.cep -i kafka://127.0.0.1:9092/payments?group=g
