cep publish-rule --to kafka://127.0.0.1:9/rules --at 0 --undeploy big --mode fresh
