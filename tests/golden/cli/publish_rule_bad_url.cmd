cep publish-rule --to kafka://127.0.0.1:9/rules?group=g --at 1767607200000 --undeploy big
