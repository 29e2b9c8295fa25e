# cepo/signed_tampered.cepo: run/rules.cep signed with keys/pipeline.key, then one byte of its
# schema changed and every checksum recomputed.
cep run cepo/signed_tampered.cepo --trust keys/pipeline.pub --input run/events.jsonl
