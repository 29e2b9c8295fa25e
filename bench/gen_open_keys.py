#!/usr/bin/env python3
"""Writes the input of bench/rules/open_run.cep (bench/RESULTS.md, "Memory at scale"): --events
lines over --keys keys, key k's first event an `A` (the first --keys lines, keys in order), the
others `B`, `C` or `D` round the keys; event time +1 ms per line. Same bytes every time.

    bench/gen_open_keys.py --events 10000000 --keys 1000000 > /tmp/open-10m.jsonl
    /usr/bin/time -v cep run bench/rules/open_run.cep -i /tmp/open-10m.jsonl --stats -o /dev/null
"""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--keys", type=int, default=1_000_000)
    opts = ap.parse_args()
    out = sys.stdout
    types = "BCD"
    lines = []
    for i in range(opts.events):
        kind = "A" if i < opts.keys else types[i % 3]
        lines.append('{"type":"%s","key":%d,"ts":%d}\n' % (kind, i % opts.keys, 1700000000000 + i))
        if len(lines) == 100_000:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


if __name__ == "__main__":
    main()
