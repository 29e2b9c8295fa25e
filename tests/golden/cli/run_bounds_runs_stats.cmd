cep run run/bounds_loop.cep --input run/bounds_1000.jsonl --engine interp --max-runs-per-key 1000 --stats --no-timing
