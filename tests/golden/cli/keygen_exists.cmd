cep keygen -o keys/pipeline
