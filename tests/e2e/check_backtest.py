#!/usr/bin/env python3
"""`cep backtest` end to end on the fraud example (docs/backtest.md):

  1. --format json equals a join computed here, independently, from `cep run`'s records under
     the same order and end (--order sort --at-end drop) and the labels; and the example's known
     facts (each scenario rule catches its two frauds; o-9000039, whose order only the end of the
     file would report, is the one fraud missed);
  2. the interpreter and a compiled .cepo give the same JSON;
  3. the text table has the JSON's numbers, formatted (percent rounded half up, delays);
  4. --horizon/--lookback: an alert exactly at the horizon hits, 1 ms less does not;
  5. --report: headless chromium renders the page (data-rendered="ok", no data-error) and its
     per-rule table and cards show exactly the text output's cells;
  6. bad label lines: exit 3, one error per line with its number; --progress always writes a
     progress line, the default (stderr not a terminal) none;
  7. over gen-events history with --slow-card-testing, the frauds no rule caught are exactly the
     slow ones (class card_testing), and every other label is caught.
"""
import argparse
import datetime
import glob
import html.parser
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

DAY = 86_400_000


def fail(message):
    sys.exit("check_backtest: " + message)


def run(cmd, expect=0, timeout=120):
    got = subprocess.run(cmd, capture_output=True, timeout=timeout)
    if got.returncode != expect:
        fail(f"{' '.join(cmd)}: exit {got.returncode} (expected {expect}): "
             f"{got.stderr.decode()[-2000:]}")
    return got.stdout.decode(), got.stderr.decode()


def ms(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1000)


def key_of(value):
    return json.dumps(value, separators=(",", ":"))


def nearest_rank(values, p):
    if not values:
        return None
    values = sorted(values)
    rank = max(1, min(len(values), math.ceil(p * len(values) / 100)))
    return values[rank - 1]


def expected_join(records, labels, rules, horizon, lookback):
    """The join of docs/backtest.md, written again from its text."""
    by_rule = {r: {"alerts": 0, "tp": 0, "earliest": {}} for r in rules}
    for rec in records:
        r = by_rule[rec["@pattern"]]
        r["alerts"] += 1
        a = ms(rec["@end"])
        k = key_of(rec["@key"])
        hit = False
        for i, lab in enumerate(labels):
            if lab["key"] == k and lab["time"] - lookback <= a <= lab["time"] + horizon:
                hit = True
                r["earliest"][i] = min(r["earliest"].get(i, a), a)
        r["tp"] += hit
    out = {}
    for name, r in by_rule.items():
        delays = [t - labels[i]["time"] for i, t in r["earliest"].items()]
        out[name] = {
            "alerts": r["alerts"], "true_positives": r["tp"],
            "false_positives": r["alerts"] - r["tp"], "caught": len(r["earliest"]),
            "precision": r["tp"] / r["alerts"] if r["alerts"] else None,
            "recall": len(r["earliest"]) / len(labels) if labels else None,
            "delay_median_ms": nearest_rank(delays, 50), "delay_p90_ms": nearest_rank(delays, 90),
        }
    caught = set()
    for r in by_rule.values():
        caught |= set(r["earliest"])
    missed = [labels[i]["key"] for i in range(len(labels)) if i not in caught]
    return out, missed


def rounded(v, digits):
    units = math.floor(v * (10 if digits == 1 else 100) + 0.5)
    d = str(abs(units)).rjust(digits + 1, "0")
    return ("-" if units < 0 else "") + d[:-digits] + "." + d[-digits:]


def delay(v):
    if v is None:
        return "-"
    sign, v = ("-" if v < 0 else ""), abs(v)
    if v < 1000:
        return f"{sign}{v}ms"
    if v < 60_000:
        return f"{sign}{v // 1000}.{v % 1000 // 100}s"
    if v < 3_600_000:
        return f"{sign}{v // 60_000}m{v % 60_000 // 1000:02d}s"
    if v < DAY:
        return f"{sign}{v // 3_600_000}h{v % 3_600_000 // 60_000:02d}m"
    return f"{sign}{v // DAY}d{v % DAY // 3_600_000:02d}h"


def cells(r):
    pct = lambda v: "-" if v is None else rounded(v * 100, 1) + "%"
    return [r["rule"], str(r["alerts"]),
            "-" if r["alerts_per_day"] is None else rounded(r["alerts_per_day"], 2),
            str(r["true_positives"]), str(r["false_positives"]), pct(r["precision"]),
            str(r["caught"]), pct(r["recall"]), delay(r["delay_median_ms"]),
            delay(r["delay_p90_ms"])]


def text_rows(text):
    """The per-rule table of the text output: the lines from the header to `any rule`."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("rule "))
    rows = []
    for line in lines[start + 1:]:
        # `median delay` is two words in the header only; cells have no spaces.
        rows.append(line.split())
        if line.startswith("any rule"):
            rows[-1] = ["any rule"] + rows[-1][2:]
            break
    return rows


class Dom(html.parser.HTMLParser):
    """The rendered page: body attributes, the rows of table#rules, the summary cards."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.rows, self.cards = [], {}
        self.in_rules = False
        self.cell = None
        self.card = None
        self.card_part = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "table" and a.get("id") == "rules":
            self.in_rules = True
        if self.in_rules and tag == "tr":
            self.rows.append([])
        if self.in_rules and tag == "td":
            self.cell = ""
        if "data-card" in a:
            self.card = a["data-card"]
        if self.card and tag == "div" and a.get("class") == "v":
            self.card_part = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_rules = False
        if tag == "td" and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None
        if tag == "div" and self.card_part is not None:
            self.cards[self.card] = self.card_part
            self.card, self.card_part = None, None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.card_part is not None:
            self.card_part += data


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cep", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--gen-events", required=True, help="tools/gen-events")
    ap.add_argument("--keep", help="keep the report and a screenshot in this folder")
    args = ap.parse_args()
    cep = args.cep
    rules = sorted(glob.glob(os.path.join(args.example, "*.cep")))
    events = os.path.join(args.example, "events.jsonl")
    labels_path = os.path.join(args.example, "labels.jsonl")
    base = [cep, "backtest", *rules, "-i", events, "--labels", labels_path]
    work = tempfile.mkdtemp(prefix="cep-backtest-")
    try:
        check(cep, rules, events, labels_path, base, work, args.keep)
        check_generated(cep, rules, args.gen_events, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ok: cep backtest json = independent join; engines agree; text = json; "
          "the page renders in chromium with the text's numbers; bad labels refused")


def check(cep, rules, events, labels_path, base, work, keep):
    # 1. JSON against a join computed here from cep run's records.
    out, err = run(base + ["--format", "json"])
    if "\r" in err:
        fail("a progress line on stderr that is not a terminal")
    got = json.loads(out)
    if got["format"] != "cep-backtest/1":
        fail(f"format {got['format']!r}")
    records = [json.loads(l) for l in
               run([cep, "run", *rules, "-i", events, "--order", "sort", "--at-end", "drop"])[0]
               .splitlines()]
    labels = []
    with open(labels_path) as f:
        for line in f:
            lab = json.loads(line)
            labels.append({"key": key_of(lab["key"]), "time": lab["time"]})
    names = [r["rule"] for r in got["rules"]]
    want, missed = expected_join(records, labels, names, DAY, DAY)
    for r in got["rules"]:
        for field, value in want[r["rule"]].items():
            if r[field] != value:
                fail(f"{r['rule']}.{field}: cep backtest says {r[field]}, the join here {value}")
    if [key_of(m["key"]) for m in got["missed"]] != missed:
        fail(f"missed {got['missed']}, expected {missed}")
    caught = {r["rule"]: r["caught"] for r in got["rules"]}
    for rule in ("velocity", "card_testing", "takeover", "travel"):
        if caught[rule] != 2:
            fail(f"{rule} caught {caught[rule]} of its 2 frauds")
    if caught["unpaid"] != 1 or missed != ['"o-9000039"']:
        fail(f"unpaid caught {caught['unpaid']}, missed {missed}: expected o-9000039 missed")
    if got["history"]["events"] != 2049 or got["labels"]["total"] != 10:
        fail(f"history {got['history']}, labels {got['labels']}")
    for r in got["rules"]:
        keyless = sum(1 for rec in records if rec["@pattern"] == r["rule"] and rec["@key"] is None)
        if r["keyless"] != keyless:
            fail(f"{r['rule']}: {r['keyless']} keyless alerts, cep run wrote {keyless}")
    if got["any"]["alerts"] != len(records):
        fail(f"{got['any']['alerts']} alerts, cep run wrote {len(records)}")

    # 2. The interpreter and a .cepo agree.
    cepo = os.path.join(work, "fraud.cepo")
    run([cep, "compile", *rules, "-o", cepo])
    strip = lambda doc: {k: v for k, v in doc.items() if k != "run"}
    for variant, cmd in (("--engine interp", base + ["--engine", "interp", "--format", "json"]),
                         (".cepo", [cep, "backtest", cepo, "-i", events, "--labels",
                                    labels_path, "--format", "json"])):
        other = json.loads(run(cmd)[0])
        if strip(other) != strip(got):
            fail(f"{variant} gives other results than jit")

    # 3. The text table has the JSON's numbers.
    text, _ = run(base)
    expected_rows = [cells(r) for r in got["rules"]] + [cells(got["any"])]
    if text_rows(text) != expected_rows:
        fail(f"text table {text_rows(text)} != json {expected_rows}")
    if "frauds no rule caught: 1 of 10" not in text:
        fail("the text does not name the missed fraud count:\n" + text)

    # 4. The horizon's edge: a card_testing alert's @end is its label's `end` (the example's
    # README), so it comes end - time after the labelled time: hit at exactly that horizon, not
    # at 1 ms less.
    with open(labels_path) as f:
        card = [json.loads(l) for l in f if '"card_testing"' in l]
    gap = card[1]["end"] - card[1]["time"]
    counts = []
    for horizon in (gap, gap - 1):
        doc = json.loads(run(base + ["--format", "json", "--horizon", f"{horizon}ms",
                                     "--lookback", "0s"])[0])
        ct = next(r for r in doc["rules"] if r["rule"] == "card_testing")
        expect = sum(1 for lab in card if lab["end"] - lab["time"] <= horizon)
        if ct["caught"] != expect:
            fail(f"--horizon {horizon}ms: card_testing caught {ct['caught']}, expected {expect}")
        counts.append(ct["caught"])
    if counts[0] != counts[1] + 1:
        fail(f"at the horizon's edge the label should flip: caught {counts}")

    # 5. The page in headless chromium.
    report = os.path.join(work, "report.html")
    run(base + ["--report", report])
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        fail("chromium is not installed (scripts/setup installs it)")
    profile = os.path.join(work, "profile")
    browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={profile}"]
    dom_text, _ = run(browser + ["--dump-dom", "file://" + report], timeout=90)
    dom = Dom()
    dom.feed(dom_text)
    if dom.body.get("data-error"):
        fail(f"the page's script failed: {dom.body['data-error']}")
    if dom.body.get("data-rendered") != "ok":
        fail("the page did not finish drawing (no data-rendered=\"ok\")")
    page_rows = [r for r in dom.rows if r]
    if page_rows != expected_rows:
        fail(f"page table {page_rows} != text {expected_rows}")
    cards = {"alerts": str(got["any"]["alerts"]), "precision": cells(got["any"])[5],
             "recall": cells(got["any"])[7], "frauds missed": "1 of 10",
             "median time to detection": delay(got["any"]["delay_median_ms"])}
    if dom.cards != cards:
        fail(f"page cards {dom.cards} != {cards}")
    with open(report) as f:
        page = f.read()
    if re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page):
        fail("the page loads something from the network")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(report, os.path.join(keep, "report.html"))
        run(browser + ["--hide-scrollbars", "--window-size=1280,2200",
                       "--screenshot=" + os.path.join(keep, "report.png"),
                       "file://" + report], timeout=90)

    # 6. Bad labels; the progress line.
    bad = os.path.join(work, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"key":"c-1","time":1767607200000,"class":"x"}\n'
                '{"key":"c-1","time":"soon","class":"x"}\n'
                '{"key":"c-1","time":1767607200000}\n')
    _, err = run([cep, "backtest", *rules, "-i", events, "--labels", bad], expect=3)
    for line in (f"{bad}:2: error: \"time\":", f"{bad}:3: error: missing \"class\"",
                 "2 bad label lines"):
        if line not in err:
            fail(f"bad labels: {line!r} not in {err!r}")
    _, err = run(base + ["--progress", "always"])
    if not re.search(r"\r\x1b\[Kcep backtest: \d+ events", err):
        fail(f"--progress always wrote no progress line: {err!r}")


def check_generated(cep, rules, gen, work):
    history, labels = os.path.join(work, "gen.jsonl"), os.path.join(work, "gen.labels.jsonl")
    run([gen, "--seed", "5", "--events", "3000", "--rate", "0.1", "--disorder", "3s",
         "--card-testing", "3", "--velocity", "2", "--takeover", "2", "--travel", "2",
         "--unpaid", "0", "--slow-card-testing", "3", "-o", history, "--labels", labels])
    with open(labels) as f:
        lines = [json.loads(l) for l in f]
    slow = sorted(key_of(l["key"]) for l in lines if l["scenario"] == "slow_card_testing")
    doc = json.loads(run([cep, "backtest", *rules, "-i", history, "--labels", labels,
                          "--format", "json"])[0])
    missed = sorted(key_of(m["key"]) for m in doc["missed"])
    if len(slow) != 3 or missed != slow:
        fail(f"generated history: missed {missed}, the slow card tests are {slow}")
    if any(m["class"] != "card_testing" for m in doc["missed"]):
        fail(f"the slow card tests' class: {doc['missed']}")
    if doc["labels"]["caught"] != len(lines) - 3:
        fail(f"generated history: caught {doc['labels']['caught']} of {len(lines)} - 3")


if __name__ == "__main__":
    main()
