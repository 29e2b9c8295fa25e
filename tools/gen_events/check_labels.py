#!/usr/bin/env python3
"""Checks a gen-events stream against its label file.

    check_labels.py EVENTS LABELS [--disorder DUR] [--expect SCENARIO=N ...]

Verifies that
  * every line is a JSON object of one of the five event types (or a Click, --click-floods) with exactly the declared fields
    and types (floats written with a decimal point, times as epoch ms or RFC 3339);
  * no line comes after a line whose time exceeds its own by more than DUR (default 0s);
  * every label names existing lines, in event-time order, carrying its key and the event types
    of its scenario, meets the conditions of the rule that should match it, has the right
    start/end, and its key occurs nowhere else (each scenario is on a fresh key);
  * the background (everything else) is clean for the alerting rules of examples/fraud.

Prints one line per problem (at most 50) and exits 1 when there is any, else prints a summary.
"""

import argparse
import calendar
import json
import math
import re
import sys
from collections import defaultdict
from decimal import Decimal

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

SCHEMA = {
    "Payment": [("card", "string"), ("amount", "float"), ("country", "string"),
                ("merchant", "string?"), ("order_id", "string"), ("ts", "time")],
    "Login": [("user", "string"), ("country", "string"), ("lat", "float"), ("lon", "float"),
              ("new_device", "bool"), ("ts", "time")],
    "PasswordReset": [("user", "string"), ("ts", "time")],
    "Withdrawal": [("user", "string"), ("amount", "float"), ("ts", "time")],
    "Order": [("order_id", "string"), ("user", "string"), ("total", "float"), ("ts", "time")],
    "Click": [("user", "string"), ("page", "string"), ("ts", "time")],  # --click-floods only
}

# scenario -> (output stream, key field, event types in order; None: checked by check_scenario)
SCENARIOS = {
    "card_testing": ("CardTesting", "card", None),
    "velocity": ("Velocity", "card", None),
    "takeover": ("Takeover", "user", ["Login", "PasswordReset", "Withdrawal"]),
    "travel": ("ImpossibleTravel", "user", ["Login", "Login"]),
    "unpaid": ("Unpaid", "order_id", ["Order"]),
    "click_flood": ("ClickFlood", "user", None),
    # card testing too slow for the rule: a fraud no rule of examples/fraud catches (no stream)
    "slow_card_testing": ("", "card", ["Payment"] * 4),
}
# scenario -> the label's class (the kind of fraud), when it is not the scenario itself
CLASSES = {"slow_card_testing": "card_testing"}
KEY_FIELDS = ("card", "user", "order_id")
LABEL_FIELDS = {"scenario", "key", "stream", "lines", "start", "end", "time", "class"}

RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$")
DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)?$")
DURATION_UNITS = {"ms": 1, "s": SECOND, "m": MINUTE, "h": HOUR, "d": 24 * HOUR, None: 1}

MAX_REPORTED = 50


class Problems:
    def __init__(self):
        self.messages = []

    def add(self, message):
        self.messages.append(message)

    def report(self):
        for message in self.messages[:MAX_REPORTED]:
            print(message)
        if len(self.messages) > MAX_REPORTED:
            print(f"... and {len(self.messages) - MAX_REPORTED} more problems")


def parse_duration(text):
    match = DURATION.match(text)
    if not match or (match.group(2) is None and match.group(1) != "0"):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r}")
    return int(match.group(1)) * DURATION_UNITS[match.group(2)]


def no_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_json(line):
    return json.loads(line, parse_float=Decimal, object_pairs_hook=no_duplicate_keys)


def parse_time(value):
    """Epoch ms from an integer or an RFC 3339 UTC string with milliseconds; None if neither."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        match = RFC3339.match(value)
        if match:
            year, month, day, hour, minute, second, millis = (int(g) for g in match.groups())
            try:
                seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
            except (OverflowError, ValueError):
                return None
            if calendar.monthrange(year, month)[1] < day or hour > 23 or minute > 59 or second > 59:
                return None
            return seconds * 1000 + millis
    return None


def check_field(kind, value):
    if kind == "string":
        return isinstance(value, str)
    if kind == "string?":
        return value is None or isinstance(value, str)
    if kind == "float":
        return isinstance(value, Decimal)  # written with a decimal point (or exponent)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "time":
        return parse_time(value) is not None
    raise AssertionError(kind)


def read_events(path, problems):
    events = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            where = f"{path}:{number}"
            try:
                record = parse_json(line)
            except ValueError as error:
                problems.add(f"{where}: not JSON: {error}")
                events.append(None)
                continue
            if not isinstance(record, dict):
                problems.add(f"{where}: not a JSON object")
                events.append(None)
                continue
            kind = record.get("@type")
            if kind not in SCHEMA:
                problems.add(f"{where}: unknown @type {kind!r}")
                events.append(None)
                continue
            fields = dict(SCHEMA[kind])
            for name in record:
                if name != "@type" and name not in fields:
                    problems.add(f"{where}: {kind} has an undeclared field {name!r}")
            valid = True
            for name, field_type in fields.items():
                if name not in record:
                    if not field_type.endswith("?"):
                        problems.add(f"{where}: {kind} lacks the field {name!r}")
                        valid = False
                elif not check_field(field_type, record[name]):
                    problems.add(f"{where}: {kind}.{name} is not a {field_type}: "
                                 f"{record[name]!r}")
                    valid = False
            if not valid:
                events.append(None)
                continue
            record["@line"] = number
            record["@ts"] = parse_time(record["ts"])
            events.append(record)
    return events


def check_disorder(events, disorder, problems):
    """No line may come after one whose time exceeds its own by more than `disorder`."""
    highest = None
    out_of_order = 0
    worst = 0
    for event in events:
        if event is None:
            continue
        ts = event["@ts"]
        if highest is not None and ts < highest:
            out_of_order += 1
            worst = max(worst, highest - ts)
            if highest - ts > disorder:
                problems.add(f"line {event['@line']}: time {ts} is {highest - ts} ms behind an "
                             f"earlier line, more than the disorder bound {disorder} ms")
        highest = ts if highest is None else max(highest, ts)
    return out_of_order, worst


def haversine_km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (lat1, lon1, lat2, lon2))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def speed_kmh(a, b):
    distance = haversine_km(a["lat"], a["lon"], b["lat"], b["lon"])
    hours = (b["@ts"] - a["@ts"]) / HOUR
    if hours == 0:
        return math.inf if distance > 0 else 0.0
    return distance / hours


def check_scenario(label, evs, problems):
    """The rule-specific conditions; evs are the label's events in the label's order."""
    scenario = label["scenario"]
    where = f"label {scenario} {label['key']}"
    times = [e["@ts"] for e in evs]
    expected_end = times[-1]

    def need(condition, message):
        if not condition:
            problems.add(f"{where}: {message}")

    if scenario == "card_testing":
        smalls, big = evs[:-1], evs[-1]
        need(all(e["@type"] == "Payment" for e in evs), "not all events are Payments")
        need(3 <= len(smalls) <= 5, f"{len(smalls)} small payments, expected 3 to 5")
        need(all(e["amount"] < Decimal("1.00") for e in smalls), "a probe is not under 1.00")
        need(big["amount"] > Decimal("500"), "the final payment is not over 500")
        need(all(big["country"] != e["country"] for e in smalls),
             "the final payment's country equals a probe's country")
        need(times[-1] - times[0] < 10 * MINUTE, "not within 10 minutes")
    elif scenario == "slow_card_testing":
        smalls, big = evs[:-1], evs[-1]
        need(all(e["amount"] < Decimal("1.00") for e in smalls), "a probe is not under 1.00")
        need(big["amount"] > Decimal("500"), "the final payment is not over 500")
        need(all(big["country"] != e["country"] for e in smalls),
             "the final payment's country equals a probe's country")
        need(times[2] - times[0] >= 10 * MINUTE and times[-1] - times[0] >= 10 * MINUTE,
             "within 10 minutes: card_testing would catch it")
    elif scenario == "velocity":
        need(all(e["@type"] == "Payment" for e in evs), "not all events are Payments")
        need(11 <= len(evs) <= 14, f"{len(evs)} payments, expected 11 to 14")
        need(all(e["amount"] >= Decimal("1.00") for e in evs), "a payment is under 1.00")
        need(times[-1] - times[0] < HOUR, "not within one hour")
        if len(evs) >= 11:
            expected_end = times[10]  # the match is the first 11 uses
    elif scenario == "takeover":
        login, reset, cash = evs
        need(login["new_device"] is True, "the login is not from a new device")
        need(0 <= times[1] - times[0] < 10 * MINUTE, "the reset is not within 10m of the login")
        need(0 <= times[2] - times[1] < 10 * MINUTE,
             "the withdrawal is not within 10m of the reset")
        need(times[2] - times[0] < 30 * MINUTE, "not within 30 minutes")
        need(cash["amount"] > Decimal("1000"), "the withdrawal is not over 1000")
    elif scenario == "click_flood":
        need(all(e["@type"] == "Click" for e in evs), "not all events are Clicks")
        need(6 <= len(evs) <= 9, f"{len(evs)} clicks, expected 6 to 9")
        need(len({t // (5 * MINUTE) for t in times}) == 1,
             "the clicks are not in one clock-aligned 5-minute window")
    elif scenario == "travel":
        a, b = evs
        need(0 < times[1] - times[0] < 2 * HOUR, "the logins are not within 2 hours")
        need(haversine_km(a["lat"], a["lon"], b["lat"], b["lon"]) > 2000,
             "the logins are not more than 2000 km apart")
        need(speed_kmh(a, b) > 900, "the implied speed is not over 900 km/h")
    need(label["start"] == times[0], f"start {label['start']} != first event time {times[0]}")
    need(label["end"] == expected_end, f"end {label['end']} != expected {expected_end}")


def check_labels(path, events, problems):
    labels = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            where = f"{path}:{number}"
            try:
                label = parse_json(line)
            except ValueError as error:
                problems.add(f"{where}: not JSON: {error}")
                continue
            if not isinstance(label, dict) or set(label) != LABEL_FIELDS:
                problems.add(f"{where}: expected exactly the fields {sorted(LABEL_FIELDS)}")
                continue
            scenario = label["scenario"]
            if scenario not in SCENARIOS:
                problems.add(f"{where}: unknown scenario {scenario!r}")
                continue
            # What `cep backtest --labels` reads: the fraud's time is its first event's, its
            # class the scenario.
            if (label["time"] != label["start"]
                    or label["class"] != CLASSES.get(scenario, scenario)):
                problems.add(f"{where}: time must equal start and class be "
                             f"{CLASSES.get(scenario, scenario)!r}")
                continue
            stream, key_field, types = SCENARIOS[scenario]
            if label["stream"] != stream:
                problems.add(f"{where}: stream {label['stream']!r}, expected {stream!r}")
            lines = label["lines"]
            if (not isinstance(lines, list) or not lines
                    or not all(isinstance(n, int) and not isinstance(n, bool) for n in lines)
                    or len(set(lines)) != len(lines)):
                problems.add(f"{where}: lines must be a non-empty list of distinct integers")
                continue
            if not all(1 <= n <= len(events) for n in lines):
                problems.add(f"{where}: a line number is outside 1..{len(events)}")
                continue
            evs = [events[n - 1] for n in lines]
            if any(e is None for e in evs):
                problems.add(f"{where}: names a line that is not a valid event")
                continue
            if any(e.get(key_field) != label["key"] for e in evs):
                problems.add(f"{where}: a line does not have {key_field} {label['key']!r}")
                continue
            if types is not None and [e["@type"] for e in evs] != types:
                problems.add(f"{where}: event types {[e['@type'] for e in evs]}, "
                             f"expected {types}")
                continue
            if any(a["@ts"] > b["@ts"] for a, b in zip(evs, evs[1:])):
                problems.add(f"{where}: lines are not listed in event-time order")
                continue
            check_scenario(label, evs, problems)
            # A fresh key: it occurs on exactly the label's lines.
            elsewhere = [e["@line"] for e in events
                         if e is not None and e.get(key_field) == label["key"]
                         and e["@line"] not in set(lines)]
            if elsewhere:
                problems.add(f"{where}: key {label['key']!r} also occurs on lines "
                             f"{elsewhere[:10]}")
            labels.append(label)
    return labels


def check_background(events, labels, problems):
    """The alerting rules must find nothing outside the labelled scenarios."""
    labelled = {(SCENARIOS[label["scenario"]][1], label["key"]) for label in labels}
    by_card = defaultdict(list)
    by_user = defaultdict(list)
    payments_by_order = defaultdict(list)
    orders = []
    for event in events:
        if event is None:
            continue
        if event["@type"] == "Payment":
            payments_by_order[event["order_id"]].append(event)
            if ("card", event["card"]) not in labelled:
                by_card[event["card"]].append(event)
        elif event["@type"] == "Order":
            if ("order_id", event["order_id"]) not in labelled:
                orders.append(event)
        elif ("user", event["user"]) not in labelled:
            by_user[event["user"]].append(event)

    for card, payments in by_card.items():
        payments.sort(key=lambda e: e["@ts"])
        times = [e["@ts"] for e in payments]
        for i in range(len(times) - 10):
            if times[i + 10] - times[i] < HOUR:
                problems.add(f"background: card {card} has 11 payments within an hour from "
                             f"line {payments[i]['@line']} (velocity would fire)")
                break
        smalls = [e["@ts"] for e in payments if e["amount"] < Decimal("1.00")]
        for i in range(len(smalls) - 2):
            if smalls[i + 2] - smalls[i] < 10 * MINUTE:
                problems.add(f"background: card {card} has 3 payments under 1.00 within 10 "
                             f"minutes (card testing could fire)")
                break

    for user, evs in by_user.items():
        evs.sort(key=lambda e: e["@ts"])
        logins = [e for e in evs if e["@type"] == "Login"]
        resets = [e["@ts"] for e in evs if e["@type"] == "PasswordReset"]
        new_device = [e["@ts"] for e in logins if e["new_device"]]
        for cash in (e for e in evs if e["@type"] == "Withdrawal"):
            if cash["amount"] <= Decimal("1000"):
                continue
            for reset in resets:
                if 0 <= cash["@ts"] - reset < 10 * MINUTE and any(
                        0 <= reset - login < 10 * MINUTE for login in new_device):
                    problems.add(f"background: user {user}: withdrawal on line {cash['@line']} "
                                 f"completes a takeover")
                    break
        for i, a in enumerate(logins):
            for b in logins[i + 1:]:
                if b["@ts"] - a["@ts"] >= 2 * HOUR:
                    break
                if speed_kmh(a, b) > 900:
                    problems.add(f"background: user {user}: logins on lines {a['@line']} and "
                                 f"{b['@line']} imply {speed_kmh(a, b):.0f} km/h")

    for order in orders:
        if not any(0 < p["@ts"] - order["@ts"] < 15 * MINUTE
                   for p in payments_by_order[order["order_id"]]):
            problems.add(f"background: order {order['order_id']} on line {order['@line']} has "
                         f"no payment within 15 minutes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events")
    parser.add_argument("labels")
    parser.add_argument("--disorder", type=parse_duration, default=0,
                        help="the --disorder the stream was generated with (default 0s)")
    parser.add_argument("--expect", action="append", default=[], metavar="SCENARIO=N",
                        help="expect exactly N labels of SCENARIO (repeatable)")
    args = parser.parse_args()

    problems = Problems()
    events = read_events(args.events, problems)
    out_of_order, worst = check_disorder(events, args.disorder, problems)
    labels = check_labels(args.labels, events, problems)
    check_background(events, labels, problems)

    counts = defaultdict(int)
    for label in labels:
        counts[label["scenario"]] += 1
    for expectation in args.expect:
        scenario, _, count = expectation.partition("=")
        if scenario not in SCENARIOS or not count.isdigit():
            parser.error(f"--expect: expected SCENARIO=N, got {expectation!r}")
        if counts[scenario] != int(count):
            problems.add(f"{counts[scenario]} {scenario} labels, expected {count}")

    if problems.messages:
        problems.report()
        return 1
    summary = ", ".join(f"{s} {counts[s]}" for s in SCENARIOS)
    print(f"ok: {len(events)} events, {len(labels)} labels ({summary}); "
          f"{out_of_order} lines out of order, at most {worst} ms behind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
