cep run run/bounds_loop.cep --input run/bounds_1000.jsonl --engine jit --max-runs-per-key 1000 --stats --no-timing
