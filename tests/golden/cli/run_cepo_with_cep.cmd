cep run run/rules.cep cepo/other_abi.cepo --input run/events.jsonl
