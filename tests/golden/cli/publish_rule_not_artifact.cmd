cep publish-rule --to kafka://127.0.0.1:9/rules --at 2026-01-05T10:00:00Z cepo/not_cepo.cepo
