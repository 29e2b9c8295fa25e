#!/usr/bin/env python3
"""Random valid `cep` test cases for the differential tester (tests/difftest/difftest.py).

A case is a `rules.cep` (one to three patterns over two or three small event types) and an
`events.jsonl` (50-400 records, a few keys, small value domains, equal timestamps, disorder
within `--max-delay`, occasional `@watermark` lines, late records and rejected records).
Standard library only; the same seed always gives the same case.

The generator only draws what `cep check` accepts (docs/language.md §7.4, §14). When `--cep`
is given, every draw is checked with `cep check` and a rejected draw is replaced by another one
(seeded from the seed and the attempt number); rejections are counted in `meta.json`.

    gen_case.py --seed 17 --out /tmp/case17 [--cep build/release/cli/cep] [--max-delay 2000]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

BASE_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

# ---------------------------------------------------------------------------------------------
# Event types. Every type has the key fields `k` (string) and `g` (int), so any partition key
# is valid for any set of types; the other fields differ a little per type.

FIELD_POOL = [
    ("i", "int"), ("f", "float"), ("s", "string"), ("b", "bool"),
    ("ni", "int?"), ("nf", "float?"), ("ns", "string?"), ("nb", "bool?"),
]
STRINGS = ["x", "y", "z"]
KEYS_K = ["k1", "k2", "k3"]


class EventType:
    def __init__(self, name, fields, time_field):
        self.name, self.fields, self.time_field = name, fields, time_field  # fields: [(n, t)]

    def decl(self):
        parts = [f"{n}: {t}" for n, t in self.fields] + [f"{self.time_field}: time"]
        return f"event {self.name} {{ " + ", ".join(parts) + " }"

    def ftype(self, name):
        for n, t in self.fields:
            if n == name:
                return t
        return None


def make_types(r):
    count = r.choice([2, 2, 3])
    types = []
    for idx in range(count):
        name = "ABC"[idx]
        fields = [("k", "string"), ("g", "int")]
        pool = FIELD_POOL[:]
        # Always i, f, s; then a random subset of the rest.
        fields += pool[:3]
        for fld in pool[3:]:
            if r.random() < 0.6:
                fields.append(fld)
        types.append(EventType(name, fields, r.choice(["ts", "ts", "at"])))
    return types


# ---------------------------------------------------------------------------------------------
# Expressions, typed. A context says what is in scope:
#   cand      the candidate's EventType (None in emit)
#   singles   [(step name, EventType)] earlier single steps (may be optional: read as null)
#   loops     [(step name, EventType)] earlier looping steps (aggregates, first/last)
#   own_loop  (name, EventType) inside a looping step's own condition (iterative aggregates)
#   consts    {name: type}

class Ctx:
    def __init__(self, cand=None, singles=(), loops=(), own_loop=None, consts=None,
                 cand_name=None, cand_time=True):
        self.cand, self.singles, self.loops, self.own_loop = cand, list(singles), list(loops), own_loop
        self.consts = consts or {}
        self.cand_name = cand_name


def base(t):
    return t.rstrip("?")


class ExprGen:
    def __init__(self, r, consts):
        self.r = r
        self.consts = consts  # {name: type}

    # Field references of a given base type ("int" "float" "string" "bool"), possibly nullable.
    def field_refs(self, ctx, want):
        refs = []
        if ctx.cand is not None:
            for n, t in ctx.cand.fields:
                if base(t) == want:
                    refs.append(n)
                    if ctx.cand_name and self.r.random() < 0.15:
                        refs.append(f"{ctx.cand_name}.{n}")
        for sname, et in ctx.singles:
            for n, t in et.fields:
                if base(t) == want:
                    refs.append(f"{sname}.{n}")
        for lname, et in ctx.loops:
            for n, t in et.fields:
                if base(t) == want:
                    refs.append(f"{self.r.choice(['first', 'last'])}({lname}).{n}")
        for cname, ct in self.consts.items():
            if ct == want:
                refs.append(cname)
        return refs

    def aggregates(self, ctx, want):
        loops = list(ctx.loops)
        out = []
        for lname, et in loops:
            if want == "int":
                out.append(f"count({lname})")
            nums = [n for n, t in et.fields if base(t) in ("int", "float")]
            for n in nums:
                t = base(et.ftype(n))
                if want == t:
                    out.append(f"{self.r.choice(['sum', 'min', 'max'])}({lname}.{n})")
                    if want == "int":
                        out.append(f"count({lname}.{n})")
                if want == "float" and t == "float":
                    out.append(f"avg({lname}.{n})")
            if want == "float":
                out.append(f"avg({lname}.i)")
        return out

    def num(self, ctx, want, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.45:
            choices = self.field_refs(ctx, want) + self.aggregates(ctx, want)
            if want == "float":
                choices += self.field_refs(ctx, "int")  # int accepted where float expected
            if choices and r.random() < 0.8:
                return r.choice(choices)
            return self.lit(want)
        k = r.random()
        if k < 0.45:
            op = r.choice(["+", "-", "*"] + (["%", "/"] if want == "int" else ["/"]))
            lhs = self.num(ctx, want, depth - 1)
            if op in ("/", "%"):
                rhs = r.choice([self.lit_nonzero(want), self.num(ctx, want, 0)])
                if rhs in self.consts or _is_literal(rhs):
                    rhs = self.lit_nonzero(want)
                if op == "%":
                    rhs = str(r.randint(2, 3))
            else:
                rhs = self.num(ctx, want, depth - 1)
            return f"({lhs} {op} {rhs})"
        if k < 0.55:
            return f"-{self.num(ctx, want, 0)}"
        if k < 0.65:
            return f"abs({self.num(ctx, want, depth - 1)})"
        if k < 0.75:
            return f"coalesce({self.num(ctx, want, depth - 1)}, {self.lit(want)})"
        if k < 0.82:
            return (f"if({self.boolean(ctx, depth - 1)}, {self.num(ctx, want, depth - 1)}, "
                    f"{self.num(ctx, want, depth - 1)})")
        if k < 0.9 and want == "float":
            return r.choice([f"floor({self.num(ctx, 'float', depth - 1)})",
                             f"round({self.num(ctx, 'float', depth - 1)})",
                             f"max({self.num(ctx, 'float', 0)}, {self.num(ctx, 'float', 0)})"])
        if k < 0.9 and want == "int":
            return r.choice([f"len({self.string(ctx, depth - 1)})",
                             f"min({self.num(ctx, 'int', 0)}, {self.num(ctx, 'int', 0)})"])
        return self.num(ctx, want, 0)

    def lit(self, want):
        r = self.r
        if want == "int":
            return str(r.randint(0, 5))
        return r.choice(["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"])

    def lit_nonzero(self, want):
        return str(self.r.randint(1, 3)) if want == "int" else self.r.choice(["0.5", "1.5", "2.0"])

    def string(self, ctx, depth):
        r = self.r
        refs = self.field_refs(ctx, "string")
        if depth <= 0 or r.random() < 0.6:
            if refs and r.random() < 0.85:
                return r.choice(refs)
            return json.dumps(r.choice(STRINGS))
        k = r.random()
        if k < 0.3:
            return f"coalesce({self.string(ctx, 0)}, {json.dumps(r.choice(STRINGS))})"
        if k < 0.5:
            return f"{r.choice(['lower', 'upper'])}({self.string(ctx, 0)})"
        if k < 0.7:
            return f"({self.string(ctx, 0)} + {self.string(ctx, 0)})"
        if k < 0.8:
            return f"substr({self.string(ctx, 0)}, 0, 1)"
        return self.string(ctx, 0)

    def iterative(self, ctx):
        """A loop's own condition over what it accepted so far, guarded for the first event."""
        r = self.r
        lname, et = ctx.own_loop
        num = r.choice([n for n, t in et.fields if base(t) in ("int", "float") and not t.endswith("?")])
        k = r.random()
        if k < 0.3:
            return f"(count({lname}) == 0 or {num} {r.choice(['>=', '<=', '!=', '>'])} last({lname}).{num})"
        if k < 0.5:
            return f"sum({lname}.{num}) + {num} < {r.choice([4, 6, 8, 10])}"
        if k < 0.65:
            return f"count({lname}) < {r.randint(1, 4)}"
        if k < 0.8:
            return f"coalesce(avg({lname}.{num}), {num}) {r.choice(['>=', '<='])} {self.lit('float')}"
        if k < 0.9:
            return f"(first({lname}).s is null or s {r.choice(['==', '!='])} first({lname}).s)"
        return f"{ctx.own_loop[1].time_field} - coalesce(last({lname}).{et.time_field}, {et.time_field}) <= {r.choice(['500ms', '1s', '2s'])}"

    def time_atoms(self, ctx):
        out = []
        if ctx.cand is not None:
            out.append(ctx.cand.time_field)
        for sname, et in ctx.singles:
            out.append(f"{sname}.{et.time_field}")
        for lname, et in ctx.loops:
            out.append(f"{self.r.choice(['first', 'last'])}({lname}).{et.time_field}")
        return out

    def boolean(self, ctx, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.35:
            return self.bool_atom(ctx, depth)
        k = r.random()
        if k < 0.4:
            return f"({self.boolean(ctx, depth - 1)} and {self.boolean(ctx, depth - 1)})"
        if k < 0.75:
            return f"({self.boolean(ctx, depth - 1)} or {self.boolean(ctx, depth - 1)})"
        if k < 0.9:
            return f"not ({self.boolean(ctx, depth - 1)})"
        return self.bool_atom(ctx, depth)

    def bool_atom(self, ctx, depth):
        r = self.r
        if ctx.own_loop and r.random() < 0.35:
            return self.iterative(ctx)
        k = r.random()
        if k < 0.2 and ctx.cand is not None:
            # The common case: a candidate field against a small constant, often true.
            n, t = r.choice([(n, t) for n, t in ctx.cand.fields if base(t) in ("int", "float", "string")])
            if base(t) == "string":
                return f"{n} {r.choice(['==', '!='])} {json.dumps(r.choice(STRINGS))}"
            return f"{n} {r.choice(['<', '<=', '>', '>=', '!='])} {self.lit(base(t))}"
        if k < 0.38:
            want = r.choice(["int", "float", "int"])
            op = r.choice(["==", "!=", "<", "<=", ">", ">="])
            return f"{self.num(ctx, want, depth - 1)} {op} {self.num(ctx, want, 1)}"
        if k < 0.5:
            op = r.choice(["==", "!="])
            return f"{self.string(ctx, depth - 1)} {op} {self.string(ctx, 0)}"
        if k < 0.58:
            if r.random() < 0.5:
                items = r.sample(STRINGS, r.randint(1, 2))
                neg = r.choice(["in", "not in"])
                return f"{self.string(ctx, 0)} {neg} [{', '.join(json.dumps(s) for s in items)}]"
            lst = "SMALL" if "SMALL" in self.consts and r.random() < 0.5 else \
                "[" + ", ".join(str(v) for v in sorted(r.sample(range(6), 3))) + "]"
            return f"{self.num(ctx, 'int', 0)} {r.choice(['in', 'not in'])} {lst}"
        if k < 0.68:
            nullable = []
            if ctx.cand is not None:
                nullable += [n for n, t in ctx.cand.fields if t.endswith("?")]
            for sname, et in ctx.singles:
                nullable += [f"{sname}.{et.time_field}", f"{sname}.k"]
                nullable += [f"{sname}.{n}" for n, t in et.fields if t.endswith("?")]
            for lname, et in ctx.loops:
                nullable += [f"last({lname}).i", f"avg({lname}.f)"]
            if nullable:
                return f"{r.choice(nullable)} {r.choice(['is null', 'is not null'])}"
        if k < 0.76:
            refs = self.field_refs(ctx, "bool")
            if refs:
                ref = r.choice(refs)
                return ref if "?" not in ref else f"coalesce({ref}, false)"
            return r.choice(["true", "FLAG"]) if "FLAG" in self.consts else "true"
        if k < 0.86:
            times = self.time_atoms(ctx)
            if len(times) >= 2:
                a, b = r.sample(times, 2)
                dur = r.choice(["0ms", "500ms", "1s", "2s", "3s", "GAP"] if "GAP" in self.consts
                               else ["0ms", "500ms", "1s", "2s", "3s"])
                return f"{a} - {b} {r.choice(['<', '<=', '>', '>='])} {dur}"
            if times and r.random() < 0.5:
                return f"seconds({times[0]} - {times[0]}) == 0.0"
        if k < 0.93:
            fn = r.choice(["contains", "starts_with", "ends_with"])
            return f"{fn}({self.string(ctx, 0)}, {json.dumps(r.choice(STRINGS))})"
        want = r.choice(["int", "float"])
        return f"{self.num(ctx, want, depth - 1)} {r.choice(['<', '>=', '!='])} {self.lit(want)}"


def _is_literal(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# Patterns.

QUANTS = [
    ("", 0.36), ("?", 0.08), ("+", 0.14), ("*", 0.08), ("{1}", 0.02), ("{2}", 0.06),
    ("{2,}", 0.06), ("{1,3}", 0.05), ("{2,3}", 0.05), ("{0,2}", 0.05), ("{3}", 0.02),
    ("{1,}", 0.03),
]


def pick_weighted(r, items):
    total = sum(w for _, w in items)
    x = r.random() * total
    for v, w in items:
        x -= w
        if x <= 0:
            return v
    return items[-1][0]


def is_looping(q):
    if q in ("+", "*"):
        return True
    if q.startswith("{"):
        body = q[1:-1]
        if "," in body:
            lo, hi = body.split(",")
            return hi == "" or int(hi) > 1
        return int(body) > 1
    return False


def is_unbounded(q):
    return q in ("+", "*") or (q.startswith("{") and q.endswith(",}"))


def is_inherently_optional(q):
    return q in ("?", "*") or q.startswith("{0,")


def gen_pattern(r, pidx, types, consts, eg):
    name = f"p{pidx}"
    used_types = r.sample(types, r.randint(1, len(types)))
    nsteps = r.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])
    header = []
    key = r.choice([None, ["k"], ["k"], ["g"], ["k", "g"]])
    if key:
        header.append("partition by " + ", ".join(key))
    within_ms = None
    if r.random() < 0.6:
        within_ms = r.choice([2000, 3000, 5000, 8000, 12000])
        header.append(f"within {fmt_dur(within_ms)}" if r.random() < 0.8 or "WIN" not in consts
                      else "within WIN")
        if header[-1] == "within WIN":
            within_ms = consts_value_ms(consts)
    steps = []   # dicts: name, type, quant, mods, neg, contig, within
    singles, loops = [], []
    for si in range(nsteps):
        st = {"name": f"s{si}", "type": r.choice(used_types), "quant": "", "mods": [],
              "neg": False, "contig": None, "within": None, "cond": None}
        prev = steps[-1] if steps else None
        if prev is not None:
            st["contig"] = r.choice([",", "->", "->", "->>"])
        # Negation: not first, not after ->>, not right after an optional step, not after a
        # negated step (keep it simple), not last unless the bound rules allow.
        can_neg = (prev is not None and st["contig"] != "->>" and not prev["neg"]
                   and not step_optional(prev))
        if can_neg and r.random() < 0.22:
            st["neg"] = True
            if r.random() < 0.3:
                st["name"] = None
        if not st["neg"]:
            st["quant"] = pick_weighted(r, QUANTS)
            q = st["quant"]
            if is_looping(q):
                for mod in ["greedy", "consecutive", "combinations"]:
                    if r.random() < 0.18:
                        st["mods"].append(mod)
                if "consecutive" in st["mods"] and "combinations" in st["mods"]:
                    st["mods"].remove(r.choice(["consecutive", "combinations"]))
                if "greedy" in st["mods"] and "combinations" in st["mods"]:
                    st["mods"].remove(r.choice(["greedy", "combinations"]))
            if not is_inherently_optional(q) and r.random() < 0.12:
                st["mods"].append("optional")
            # an optional step right after a greedy loop is an error
            if prev is not None and not prev["neg"] and "greedy" in prev["mods"] and step_optional(st):
                if "optional" in st["mods"]:
                    st["mods"].remove("optional")
                if is_inherently_optional(st["quant"]):
                    st["quant"] = ""
            if si > 0 and r.random() < 0.15:
                st["within"] = r.choice([1000, 2000, 3000, 5000])
        steps.append(st)
        # A stray negated step at the end after `->` needs a bound.
    # Optionally put a negation at the end.
    last = steps[-1]
    if (not last["neg"] and not step_optional(last) and r.random() < 0.25):
        contig = r.choice([",", "->", "->"])
        st = {"name": r.choice([f"s{nsteps}", None]), "type": r.choice(used_types), "quant": "",
              "mods": [], "neg": True, "contig": contig, "within": None, "cond": None}
        steps.append(st)
    last = steps[-1]
    if last["neg"] and last["contig"] == "->":
        if within_ms is None or r.random() < 0.3:
            last["within"] = r.choice([1000, 2000, 4000])
            if within_ms is not None and last["within"] >= within_ms:
                last["within"] = None
        if within_ms is None and last["within"] is None:
            last["within"] = 2000
    for st in steps:
        if st["neg"] and st is not last:
            st["within"] = None  # within on a negated step only as the final absence window
    if steps[0]["within"]:
        steps[0]["within"] = None
    # Step within not shorter than pattern within: warning only, but avoid it.
    for st in steps:
        if st["within"] and within_ms is not None and st["within"] >= within_ms:
            st["within"] = None
    # All-optional pattern: make the first step mandatory.
    if all(step_optional(s) or s["neg"] for s in steps):
        steps[0]["mods"] = [m for m in steps[0]["mods"] if m != "optional"]
        if is_inherently_optional(steps[0]["quant"]):
            steps[0]["quant"] = "+" if r.random() < 0.5 else ""
            if not is_looping(steps[0]["quant"]):
                steps[0]["mods"] = []
        if len(steps) > 1 and steps[1]["neg"] and False:
            pass
    # Keep the state small: a `combinations` loop is bounded, and without a pattern `within`
    # there is no `->>` and no unbounded loop (their runs would live to the end of the input).
    for st in steps:
        if st["neg"]:
            continue
        unbounded_ok = within_ms is not None and "combinations" not in st["mods"]
        if is_unbounded(st["quant"]) and not unbounded_ok:
            st["quant"] = {"+": "{1,3}", "*": "{0,3}"}.get(st["quant"], None) or \
                "{%d,%d}" % (int(st["quant"][1:-2]), int(st["quant"][1:-2]) + 2)
        if within_ms is None and "combinations" in st["mods"]:
            st["mods"].remove("combinations")
        if within_ms is None and st["contig"] == "->>":
            st["contig"] = "->"
    # Modifiers that only apply to loops, on steps that the fixes above made single.
    for st in steps:
        if not is_looping(st["quant"]):
            st["mods"] = [m for m in st["mods"] if m == "optional"]
        if is_inherently_optional(st["quant"]) and "optional" in st["mods"]:
            st["mods"].remove("optional")
    # Conditions and until.
    for st in steps:
        loop = is_looping(st["quant"]) and not st["neg"]
        single_as_cand = st["name"] if (not loop and not st["neg"] and st["name"]) else None
        ctx = Ctx(cand=st["type"], singles=singles, loops=loops,
                  own_loop=(st["name"], st["type"]) if loop else None, consts=consts,
                  cand_name=single_as_cand)
        if r.random() < 0.75:
            st["cond"] = eg.boolean(ctx, r.choice([0, 1, 1, 1, 2, 3]))
        if loop and is_unbounded(st["quant"]) and r.random() < 0.2:
            uctx = Ctx(cand=st["type"], singles=singles, loops=loops,
                       own_loop=(st["name"], st["type"]) if r.random() < 0.5 else None,
                       consts=consts)
            st["mods"].append(f"until({eg.boolean(uctx, 1)})")
        if not st["neg"]:
            (loops if loop else singles).append((st["name"], st["type"]))
    r.shuffle(st["mods"]) if False else None
    # Skip strategy.
    pos_names = [s["name"] for s in steps if not s["neg"]]
    skip = pick_weighted(r, [(None, 0.2), ("skip none", 0.25), ("skip to next", 0.15),
                             ("skip past last", 0.15), ("skip to first", 0.12),
                             ("skip to last", 0.13)])
    if skip in ("skip to first", "skip to last"):
        cands = pos_names[1:] if skip == "skip to first" and len(pos_names) > 1 else pos_names
        skip += " " + r.choice(cands)
    if skip:
        header.append(skip)
    r.shuffle(header)
    # Body.
    lines = []
    for idx, st in enumerate(steps):
        text = ""
        if st["neg"]:
            text += "not "
        if st["name"]:
            text += f"{st['name']}: "
        text += st["type"].name
        if st["cond"] is not None:
            text += f"({st['cond']})"
        elif r.random() < 0.5:
            text += "()"
        text += st["quant"]
        mods = st["mods"][:]
        r.shuffle(mods)
        if mods:
            text += " " + " ".join(mods)
        if st["within"]:
            text += f" within {fmt_dur(st['within'])}"
        if idx == 0:
            lines.append("    " + text)
        else:
            lines.append(f"    {st['contig']} {text}")
    # Emit.
    ectx = Ctx(cand=None, singles=singles, loops=loops, consts=consts)
    nfields = r.randint(1, 5)
    fields = []
    for fi in range(nfields):
        kind = r.random()
        if kind < 0.3:
            expr = eg.num(ectx, r.choice(["int", "float"]), 2)
        elif kind < 0.5:
            expr = eg.string(ectx, 1)
        elif kind < 0.65:
            expr = eg.boolean(ectx, 1)
        elif kind < 0.8 and (singles or loops):
            atoms = eg.time_atoms(ectx)
            expr = r.choice(atoms)
            if len(atoms) >= 2 and r.random() < 0.5:
                expr = f"{atoms[-1]} - {atoms[0]}"
        else:
            expr = eg.num(ectx, "int", 1)
        fields.append(f"e{fi}: {expr}")
    text = f"pattern {name} " + " ".join(header) + " {\n" + "\n".join(lines) + "\n}\n"
    text += f"emit Out{pidx} {{ " + ", ".join(fields) + " }\n"
    has_bound = within_ms is not None or any(s["within"] for s in steps)
    if has_bound and r.random() < 0.4:
        tfields = []
        for fi in range(r.randint(1, 3)):
            tfields.append(f"t{fi}: {eg.num(ectx, 'int', 1) if r.random() < 0.6 else eg.string(ectx, 0)}")
        text += f"on timeout emit Timeout{pidx} {{ " + ", ".join(tfields) + " }\n"
    return text


def step_optional(st):
    return (not st["neg"]) and (is_inherently_optional(st["quant"]) or "optional" in st["mods"])


def fmt_dur(ms):
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"


def consts_value_ms(consts):
    return 6000  # WIN


# ---------------------------------------------------------------------------------------------
# Events.

# ---------------------------------------------------------------------------------------------
# Aggregates (spec §8), drawn only with `aggregates=True` (difftest.py --aggregates): every window
# kind, random keys, step conditions (ExprGen over the candidate), accumulators over fields and
# computed expressions, `having`, `lateness` and `ttl`.

def gen_aggregate(r, aidx, types, eg):
    et = r.choice(types)
    key = r.choice(["", "partition by k ", "partition by k ", "partition by k, g ", "partition by g "])
    kind = r.choice(["tumbling", "hopping", "cumulate", "session", "rolling", "none"])
    ms = lambda v: fmt_dur(v)  # noqa: E731
    if kind == "tumbling":
        window = f"tumbling {ms(r.choice([500, 1000, 2000, 3000, 5000, 10000]))}"
    elif kind in ("hopping", "cumulate"):
        hop = r.choice([250, 500, 1000, 2000])
        size = hop * r.choice([2, 3, 4])
        window = f"{kind} {ms(size)} {'every' if kind == 'hopping' else 'step'} {ms(hop)}"
    elif kind == "session":
        window = f"session gap {ms(r.choice([300, 700, 1000, 2000, 3000]))}"
    elif kind == "rolling":
        window = f"rolling {ms(r.choice([500, 1000, 2000, 5000]))}"
    else:
        window = "none"
    if kind in ("tumbling", "hopping", "cumulate", "session") and r.random() < 0.4:
        window += f" lateness {ms(r.choice([200, 1000, 3000]))}"
    if kind in ("rolling", "none") and r.random() < 0.4:
        window += f" ttl {ms(r.choice([1000, 3000, 10000]))}"
    cond = ""
    if r.random() < 0.5:
        cond = "(" + eg.boolean(Ctx(cand=et), 1) + ")"
    fields = {n: base(t) for n, t in et.fields}
    nums = [n for n, t in fields.items() if t in ("int", "float")]
    ints = [n for n, t in fields.items() if t == "int"]
    strings = [n for n, t in fields.items() if t == "string"]
    scalars = [n for n, t in fields.items() if t != "bool"]
    calls = ["count(e)", f"count(e.{r.choice(list(fields))})", f"sum(e.{r.choice(nums)})",
             f"avg(e.{r.choice(nums)})", f"min(e.{r.choice(scalars)})",
             f"max(e.{r.choice(scalars)})", f"first(e).{r.choice(list(fields))}",
             f"last(e).{r.choice(list(fields))}", f"count_distinct(e.{r.choice(ints + strings)})",
             f"sum(e.i * {r.choice([2, -1, 3])})", f"sum(e.f * e.i)", f"max(e.i + e.g)",
             f"min(upper(e.s))", f"count_distinct(lower(e.{r.choice(strings)}))",
             f"avg(e.f + {r.choice(['0.5', '1.0'])})"]
    chosen = r.sample(calls, r.randint(1, 5))
    emit = [f"v{i}: {c}" for i, c in enumerate(chosen)]
    if r.random() < 0.3:
        emit.append(f"v{len(emit)}: count(e) * 2 + sum(e.i)")
    having = ""
    if r.random() < 0.5:
        having = "having " + r.choice([
            f"count(e) >= {r.randint(1, 4)}", f"sum(e.i) > {r.randint(0, 8)}",
            f"max(e.f) > {r.choice(['0.5', '1.5'])}",
            f"count(e) > 1 and min(e.i) < {r.randint(1, 3)}",
            f"avg(e.f) is null or avg(e.f) > {r.choice(['0.5', '1.0'])}",
            "count_distinct(e.g) >= 1", f"last(e).i != {r.randint(0, 4)}",
            f"not (count(e) == {r.randint(1, 3)})"]) + "\n"
    return (f"aggregate agg{aidx} {key}window {window}\n{{ e: {et.name}{cond} }}\n{having}"
            f"emit Agg{aidx} {{ {', '.join(emit)} }}\n")


def gen_value(r, t):
    bt = base(t)
    if t.endswith("?"):
        x = r.random()
        if x < 0.2:
            return "absent"
        if x < 0.35:
            return None
    if bt == "int":
        return r.randint(0, 4)
    if bt == "float":
        return r.choice([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3, 1])  # ints accepted for float
    if bt == "string":
        return r.choice(STRINGS)
    if bt == "bool":
        return r.random() < 0.5
    raise ValueError(t)


def gen_events(r, types, max_delay_ms):
    n = r.randint(50, 400)
    nkeys_k = r.choice([1, 2, 2, 3])
    nkeys_g = r.choice([1, 2])
    t = BASE_MS + r.randint(0, 999)
    events = []  # (time, dict)
    for _ in range(n):
        x = r.random()
        if x < 0.2:
            pass                      # equal timestamp
        elif x < 0.8:
            t += r.choice([1, 100, 250, 500, 700, 1000])
        else:
            t += r.choice([1500, 2000, 3000, 5000, 9000])
        et = r.choice(types)
        rec = {"@type": et.name}
        for fname, ftype in et.fields:
            if fname == "k":
                rec["k"] = KEYS_K[r.randrange(nkeys_k)]
            elif fname == "g":
                rec["g"] = r.randrange(nkeys_g)
            else:
                v = gen_value(r, ftype)
                if v != "absent":
                    rec[fname] = v
        rec[et.time_field] = t
        events.append((t, et, rec))
    # Disorder within the bound: arrival key = time + U(0, D); a stable sort on it never makes
    # an event late (an event arrives after another only if its time is at most D earlier).
    keyed = [(tm + (r.randint(0, max_delay_ms) if max_delay_ms and r.random() < 0.5 else 0), i, tm, et, rec)
             for i, (tm, et, rec) in enumerate(events)]
    keyed.sort(key=lambda x: (x[0], x[1]))
    lines = []   # dicts: raw, kind ("event"|"watermark"|"bad"), time, type
    max_seen = None
    remaining_min = [0] * len(keyed)
    m = None
    for i in range(len(keyed) - 1, -1, -1):
        m = keyed[i][2] if m is None else min(m, keyed[i][2])
        remaining_min[i] = m
    for i, (_, _, tm, et, rec) in enumerate(keyed):
        # Occasionally an explicit watermark that cannot make any later event late.
        if r.random() < 0.02 and max_seen is not None:
            w = min(remaining_min[i] - 1, max_seen - r.randint(0, 2000))
            lines.append({"raw": json.dumps({"@watermark": w}), "kind": "watermark", "time": w})
        # Occasionally a late record: older than the current watermark.
        if r.random() < 0.02 and max_seen is not None:
            late = dict(rec)
            lt = max_seen - max_delay_ms - 1 - r.randint(0, 3000)
            late[et.time_field] = lt
            lines.append({"raw": json.dumps(late), "kind": "event", "time": lt, "type": et.name})
        # Occasionally a record that is rejected (its time never above what was seen).
        if r.random() < 0.015 and max_seen is not None:
            lines.append({"raw": bad_record(r, et, rec, max_seen), "kind": "bad"})
        lines.append({"raw": json.dumps(rec), "kind": "event", "time": tm, "type": et.name})
        max_seen = tm if max_seen is None else max(max_seen, tm)
    return lines


def bad_record(r, et, rec, max_seen):
    bad = dict(rec)
    bad[et.time_field] = min(rec[et.time_field], max_seen)
    k = r.randrange(4)
    if k == 0:
        bad["@type"] = "Nope"
    elif k == 1:
        del bad["i"]
    elif k == 2:
        bad["i"] = "seven"
    else:
        return '{"@type": "' + et.name + '", "k": '
    return json.dumps(bad)


# ---------------------------------------------------------------------------------------------

class Case:
    """A generated case: header (types and consts), patterns (texts), lines, delay."""

    def __init__(self, seed, header, patterns, lines, max_delay_ms, with_events, types):
        self.seed, self.header, self.patterns, self.lines = seed, header, patterns, lines
        self.max_delay_ms, self.with_events, self.types = max_delay_ms, with_events, types
        self.rejections = 0
        self.reject_reasons = []
        self.aggregates = False  # some declarations are aggregates (spec §8)

    def rules_text(self, patterns=None, comment=None):
        pats = self.patterns if patterns is None else patterns
        text = (comment or f"// gen_case.py seed {self.seed}\n") + self.header + "\n" + "\n".join(pats)
        return text

    def events_text(self, lines=None):
        return "".join(l["raw"] + "\n" for l in (self.lines if lines is None else lines))

    def args(self):
        a = ["--max-delay", fmt_dur(self.max_delay_ms) if self.max_delay_ms else "0s"]
        if self.with_events:
            a.append("--with-events")
        return a


def draw(seed, attempt, aggregates=False):
    r = random.Random(f"{seed}/{attempt}")
    types = make_types(r)
    consts = {}
    header = "\n".join(t.decl() for t in types) + "\n"
    if r.random() < 0.5:
        header += "const LIMIT = 2\nconst SMALL = [0, 1]\nconst FLAG = true\nconst GAP = 1500ms\n"
        consts = {"LIMIT": "int", "SMALL": "list", "FLAG": "bool", "GAP": "duration"}
    eg = ExprGen(r, {k: v for k, v in consts.items() if v in ("int", "bool")} | (
        {"SMALL": "list", "GAP": "duration"} if consts else {}))
    npat = r.choice([1, 1, 2, 2, 3])
    patterns = [gen_pattern(r, i, types, eg.consts, eg) for i in range(npat)]
    if aggregates:
        # Their own generator: the patterns of a seed are the same with and without aggregates.
        ar = random.Random(f"{seed}/{attempt}/aggregates")
        aeg = ExprGen(ar, eg.consts)
        patterns += [gen_aggregate(ar, i, types, aeg) for i in range(ar.choice([1, 1, 2]))]
    return r, types, header, patterns


def generate(seed, cep=None, max_delay_ms=None, max_attempts=50, aggregates=False):
    """The case for `seed`: the first draw that `cep check` accepts (when `cep` is given);
    with `aggregates`, one or two random aggregate declarations after the patterns."""
    rejections, reasons = 0, []
    for attempt in range(max_attempts):
        r, types, header, patterns = draw(seed, attempt, aggregates)
        case = Case(seed, header, patterns, [], 0, False, types)
        case.aggregates = aggregates
        if cep is not None:
            ok, err = check(cep, case.rules_text())
            if not ok:
                rejections += 1
                reasons.append(err)
                continue
        er = random.Random(f"{seed}/events")
        delay = max_delay_ms if max_delay_ms is not None else er.choice([0, 0, 500, 1000, 2000, 5000])
        case.max_delay_ms = delay
        case.with_events = er.random() < 0.5
        case.lines = gen_events(er, types, delay)
        case.rejections, case.reject_reasons = rejections, reasons
        return case
    raise RuntimeError(f"seed {seed}: no accepted draw in {max_attempts} attempts; last: {reasons[-1]}")


def check(cep, text):
    with tempfile.TemporaryDirectory(prefix="cep-gen-") as d:
        path = os.path.join(d, "rules.cep")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        p = subprocess.run([cep, "check", "--color", "never", path], capture_output=True,
                           timeout=30) if False else \
            subprocess.run([cep, "check", path], capture_output=True, timeout=30,
                           env=dict(os.environ, NO_COLOR="1"))
        return p.returncode == 0, p.stderr.decode("utf-8", "replace")


def write_case(case, out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "rules.cep"), "w", encoding="utf-8") as f:
        f.write(case.rules_text())
    with open(os.path.join(out, "events.jsonl"), "w", encoding="utf-8") as f:
        f.write(case.events_text())
    with open(os.path.join(out, "args"), "w", encoding="utf-8") as f:
        f.write(" ".join(case.args()) + "\n")
    with open(os.path.join(out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": case.seed, "rejections": case.rejections,
                   "time_fields": {t.name: t.time_field for t in case.types},
                   "lines": [{k: v for k, v in l.items() if k != "raw"} for l in case.lines]},
                  f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cep", help="check each draw with `cep check` and redraw when rejected")
    ap.add_argument("--max-delay", type=int, help="disorder bound in ms (default: drawn)")
    ap.add_argument("--aggregates", action="store_true", help="add random aggregates")
    a = ap.parse_args()
    case = generate(a.seed, a.cep, a.max_delay, aggregates=a.aggregates)
    write_case(case, a.out)
    print(f"seed {a.seed}: {len(case.patterns)} pattern(s), {len(case.lines)} lines, "
          f"max-delay {case.max_delay_ms} ms, {case.rejections} rejected draw(s)")
    for reason in case.reject_reasons:
        sys.stderr.write(reason)


if __name__ == "__main__":
    main()
