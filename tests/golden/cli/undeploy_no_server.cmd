cep undeploy card_testing --server 127.0.0.1:1 --mode drop
