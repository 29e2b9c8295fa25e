#!/usr/bin/env python3
"""Instructions per event of the parts of `cep run`, from a callgrind profile.

    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file=cg.out \
        cep run bench/rules/seq.cep -i seq-200k.jsonl --max-delay 2s -o out.jsonl
    bench/callgrind_parts.py cg.out --events 200000 [--compare cg.before] [--agg]

Each row is the inclusive instruction count (Ir) of one function of the run path divided by the
events of the input (every record of the file). The parts nest (one dot per level): `run` is the
whole loop, `decode` is inside `ingest`, `onEvent` inside `dispatch` inside `release`.
Uses callgrind_annotate (valgrind's package); RESULTS.md "One-core speed of seq" uses it.
"""

import argparse
import subprocess
import sys

# (label, depth, a substring of the function's name in callgrind_annotate's output)
PARTS = [
    ("whole process", 0, "PROGRAM TOTALS"),
    ("JIT compile and load (Pipeline::makeMatchers)", 1, "Pipeline::makeMatchers("),
    ("run loop (runtime::run)", 1, "cep::runtime::run("),
    ("line reading (LineReader::next)", 2, "LineReader::next("),
    ("ingest (Ingest::onRecord)", 2, "Ingest::onRecord("),
    ("decode (JsonlDecoder::decode)", 3, "JsonlDecoder::decode("),
    ("typed plans (RecordPlan::decode)", 4, "RecordPlan::decode("),
    ("event blocks (allocateEvent)", 4, "cep::runtime::allocateEvent("),
    ("watermarks (Watermarks::onEvent)", 3, "Watermarks::onEvent("),
    ("reorder buffer push (Driver::push)", 2, "Driver::push("),
    ("release (Driver::release)", 2, "Driver::release("),
    ("time steps, out of line (Driver::step; since seqdrv Driver::stepDue)", 3, "Driver::step"),
    ("dispatch (Driver::dispatch)", 3, "Driver::dispatch("),
    ("matcher onEvent", 4, "NativeMatcher::onEvent("),
    ("step calls, follow-on runs (nextRuns)", 5, "NativeMatcher::nextRuns("),
    ("records (processHeld)", 5, "NativeMatcher::processHeld("),
    ("timers (reschedule)", 5, "NativeMatcher::reschedule("),
    ("matcher advanceTime (all calls)", 3, "NativeMatcher::advanceTime("),
    ("writing records (Driver::writeOutputs)", 3, "Driver::writeOutputs("),
]

# --agg: the parts of an aggregate's run (bench/agg_bench.py's rules; RESULTS.md "Aggregates").
AGG_PARTS = [
    ("whole process", 0, "PROGRAM TOTALS"),
    ("JIT compile and load (Pipeline::makeMatchers)", 1, "Pipeline::makeMatchers("),
    ("run loop (runtime::run)", 1, "cep::runtime::run("),
    ("line reading (LineReader::next)", 2, "LineReader::next("),
    ("ingest (Ingest::onRecord)", 2, "Ingest::onRecord("),
    ("decode (JsonlDecoder::decode)", 3, "JsonlDecoder::decode("),
    ("reorder buffer push (Driver::push)", 2, "Driver::push("),
    ("release (Driver::release)", 2, "Driver::release("),
    ("time steps, out of line (Driver::step; since seqdrv Driver::stepDue)", 3, "Driver::step"),
    ("window advance (WindowAggregator::advance)", 4, "WindowAggregator::advance("),
    ("window advance past a due time (advanceDue; advance is inline)", 4,
     "WindowAggregator::advanceDue("),
    ("dispatch (Driver::dispatch)", 3, "Driver::dispatch("),
    ("aggregate onEvent (NativeAggregate::offer)", 4, "NativeAggregate::offer("),
    ("window runtime (WindowAggregator::onEvent)", 5, "WindowAggregator::onEvent("),
    ("key table (WindowAggregator::keyFor)", 6, "WindowAggregator::keyFor("),
    ("rolling and none (runningEvent)", 6, "WindowAggregator::runningEvent("),
    ("time windows (timeEvent)", 6, "WindowAggregator::timeEvent("),
    ("records of an event (NativeAggregate::writeResults)", 5, "NativeAggregate::writeResults("),
    ("writing records (Driver::writeOutputs)", 3, "Driver::writeOutputs("),
]


def inclusive(path):
    """Function name -> summed inclusive Ir (clones such as `.constprop` added up)."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = []
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        count = parts[0].replace(",", "")
        if count.isdigit():
            rows.append((int(count), parts[1]))
    return rows


def lookup(rows, needle):
    total = 0
    for count, name in rows:
        if needle in name:
            if needle == "PROGRAM TOTALS":
                return count
            total += count
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile")
    ap.add_argument("--events", type=int, required=True, help="records in the input")
    ap.add_argument("--compare", help="an earlier profile of the same input: before | after")
    ap.add_argument("--agg", action="store_true", help="the parts of an aggregate's run")
    args = ap.parse_args()
    after = inclusive(args.profile)
    before = inclusive(args.compare) if args.compare else None
    head = "| part | " + ("before | after |" if before else "Ir/event |")
    print(head)
    print("|---|" + ("---:|---:|" if before else "---:|"))
    for label, depth, needle in AGG_PARTS if args.agg else PARTS:
        name = "· " * depth + label
        a = lookup(after, needle) / args.events
        if before:
            b = lookup(before, needle) / args.events
            print(f"| {name} | {b:,.0f} | {a:,.0f} |")
        else:
            print(f"| {name} | {a:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
