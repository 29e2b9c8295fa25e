cep serve run/rules.cep -i kafka://127.0.0.1:9092/payments?group=fraud -o kafka://127.0.0.1:9092/alerts --admin 127.0.0.1:0 --kafka-config serve/kafka_txn.properties
