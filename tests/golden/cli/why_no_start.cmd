cep explain --why ../trace/strict_condition/rules.cep -i ../trace/strict_condition/events.jsonl --key c4 --pattern small_then_big
