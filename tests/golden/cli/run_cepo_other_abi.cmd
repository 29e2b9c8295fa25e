cep run cepo/other_abi.cepo --input run/events.jsonl
