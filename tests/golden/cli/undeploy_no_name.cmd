cep undeploy --server 127.0.0.1:1
