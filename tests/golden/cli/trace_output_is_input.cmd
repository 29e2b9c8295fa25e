cep run ../trace/strict_condition/rules.cep -i ../trace/strict_condition/events.jsonl --trace c1 --trace-output ../trace/strict_condition/events.jsonl
