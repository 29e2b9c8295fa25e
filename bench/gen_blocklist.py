#!/usr/bin/env python3
"""Writes a blocklist rule with two long `in` lists and payments to run it on (bench/RESULTS.md,
"Long `in` lists"):

    bench/gen_blocklist.py --entries 20000 --events 100000 --out /tmp/bl
    cep run /tmp/bl/block20000.cep -i /tmp/bl/pay100000.jsonl --stats

BLOCK holds `--entries` card strings, MERCHANTS as many ints; the payments draw cards from
400,000 and merchants from 2,000,000 with a fixed seed, so every run writes the same files.
"""
import argparse
import json
import os
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=20000)
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cards = ", ".join('"c%05d"' % i for i in range(a.entries))
    merchants = ", ".join(str(1000000 + i * 13) for i in range(a.entries))
    with open(os.path.join(a.out, f"block{a.entries}.cep"), "w") as f:
        f.write(f"""const BLOCK = [{cards}]
const MERCHANTS = [{merchants}]
event Payment {{
    card:     string
    merchant: int
    amount:   float
    ts:       time
}}
pattern blocked partition by card {{
    p: Payment(card in BLOCK or merchant in MERCHANTS)
}}
emit Blocked {{ card: p.card, amount: p.amount }}
""")
    rng = random.Random(1)
    with open(os.path.join(a.out, f"pay{a.events}.jsonl"), "w") as f:
        for i in range(a.events):
            f.write(json.dumps({"@type": "Payment", "card": "c%05d" % rng.randrange(400000),
                                "merchant": rng.randrange(2000000), "amount": 1.0,
                                "ts": i * 10}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
