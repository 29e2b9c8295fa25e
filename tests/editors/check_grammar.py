#!/usr/bin/env python3
"""Checks the TextMate grammar of editors/vscode against the language (ctest: editors.grammar).

Loads editors/vscode/syntaxes/cep.tmLanguage.json, compiles every regex with Python `re` (the
grammar keeps to what Python and Oniguruma read alike: no atomic groups, no \\G,
\\h or \\z, fixed-width look-behind), tokenizes every `.cep` file of examples/, of
tests/golden/check/valid_* and of tests/editors/ line by line, and asserts:

  1. no character of those files is in an `invalid.*` scope;
  2. comments and strings are scoped whole, and nothing else is: every character of a comment
     (found by a small lexer that follows lang/grammar.hpp's `ws` and `string_lit` rules) is in
     a `comment.*` scope, every character of a string in a string scope (`string.*`, or for the
     keys of JSON records in test blocks `support.type.property-name.*` /
     `variable.language.member.*`), and no other character is;
  3. every reserved word (lang/grammar.hpp's `reserved_word`) is scoped as a keyword wherever it
     occurs outside comments and strings, and every word of a `kw_*` rule of lang/grammar.hpp
     (reserved or contextual) is scoped as a keyword at one occurrence at least, so that a new
     keyword fails here until the grammar scopes it and a valid case uses it; and a word
     followed by `:` (a field, step or parameter name: contextual words may be names) is not
     scoped as a keyword. "Scoped as a keyword": a scope starting with `keyword.`,
     `storage.type.` or `constant.language.`;
  4. every function of stdlib/functions.def is scoped `support.function.builtin.cep` in a call.

With --cep, the `$cep` problem matcher of editors/vscode/package.json must read `cep check`'s
text output into the diagnostics `--format json` gives, and the files of tests/editors/ must also pass `cep check --format json` (they are real
rules), except that one whose first line is `// EXPECT-ERROR: TEXT` must fail with exactly one
error, whose message contains TEXT; those with a `test` declaration pass `cep test`.

The tokenizer is the part of TextMate's algorithm the grammar uses: a stack of open `begin`/`end`
rules; at each position of a line the rule that matches earliest wins (ties: the open rule's
`end` first, then the rules in their order, `include`s expanded in place); a `match` rule scopes
its text (`name`, `captures`), a `begin` rule pushes its `name`, `contentName` and `end` (scoped
with `beginCaptures`/`endCaptures`, else `captures`), and `end` pops. Each line is matched with
its "\\n", as vscode-textmate does; a look-behind sees the line only.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRAMMAR = ROOT / "editors/vscode/syntaxes/cep.tmLanguage.json"
KEYWORD_PREFIXES = ("keyword.", "storage.type.", "constant.language.")
STRING_PREFIXES = ("string.", "support.type.property-name.", "variable.language.member.")


class Grammar:
    def __init__(self, path):
        self.doc = json.loads(path.read_text())
        self.repo = self.doc.get("repository", {})
        self.regex = {}
        self._compile_all(self.doc)

    def _compile_all(self, rule):
        if isinstance(rule, dict):
            for key in ("match", "begin", "end"):
                if key in rule:
                    self.compile(rule[key])
            for value in rule.values():
                self._compile_all(value)
        elif isinstance(rule, list):
            for value in rule:
                self._compile_all(value)

    def compile(self, source):
        if source not in self.regex:
            for feature in (r"\G", r"\h", r"\z", "(?>"):
                if feature in source:
                    raise AssertionError(f"regex uses {feature!r}, read differently by Python "
                                         f"and Oniguruma: {source}")
            self.regex[source] = re.compile(source)
        return self.regex[source]

    def expand(self, patterns):
        """The rules of a `patterns` list with `include`s expanded, in order."""
        out = []
        for rule in patterns:
            if "include" in rule:
                ref = rule["include"]
                target = self.doc if ref == "$self" else self.repo[ref[1:]]
                out += self.expand([target]) if ("match" in target or "begin" in target) \
                    else self.expand(target["patterns"])
            elif "match" in rule or "begin" in rule:
                out.append(rule)
            else:
                out += self.expand(rule.get("patterns", []))
        return out

    def tokenize(self, text):
        """Yields, per line, a list with the tuple of scopes of each character."""
        root = (self.doc["scopeName"],)
        stack = [(None, root, self.expand(self.doc["patterns"]))]  # (end regex, scopes, rules)
        for line_no, line in enumerate(text.split("\n"), 1):
            line += "\n"
            scopes = [root] * len(line)
            pos, steps = 0, 0
            while pos < len(line):
                steps += 1
                if steps > 10 * len(line) + 100:
                    raise AssertionError(f"line {line_no}: the grammar does not advance")
                end, current, rules = stack[-1]
                best = None  # (start, order, match, rule or None for the end)
                if end is not None:
                    m = end.search(line, pos)
                    if m:
                        best = (m.start(), -1, m, None)
                for order, rule in enumerate(rules):
                    m = self.compile(rule.get("match") or rule["begin"]).search(line, pos)
                    if m and (best is None or m.start() < best[0]):
                        best = (m.start(), order, m, rule)
                if best is None:
                    scopes[pos:] = [current] * (len(line) - pos)
                    break
                start, _, m, rule = best
                scopes[pos:start] = [current] * (start - pos)
                if rule is None:  # the open rule's end
                    frame_rule = self.frame_rules[len(stack) - 1]
                    outer = current[:-1] if frame_rule.get("contentName") else current
                    self.scope_match(scopes, m, outer,
                                     frame_rule.get("endCaptures", frame_rule.get("captures")))
                    stack.pop()
                    self.frame_rules.pop()
                elif "match" in rule:
                    if m.end() == m.start():
                        raise AssertionError(f"line {line_no}: empty match of {rule['match']}")
                    inner = current + ((rule["name"],) if "name" in rule else ())
                    self.scope_match(scopes, m, inner, rule.get("captures"))
                else:
                    inner = current + ((rule["name"],) if "name" in rule else ())
                    self.scope_match(scopes, m, inner,
                                     rule.get("beginCaptures", rule.get("captures")))
                    content = inner + ((rule["contentName"],) if "contentName" in rule else ())
                    stack.append((self.compile(rule["end"]), content,
                                  self.expand(rule.get("patterns", []))))
                    self.frame_rules.append(rule)
                if m.end() == pos and rule is not None and "begin" in rule and \
                        self.compile(rule["end"]).match(line, pos) is not None:
                    raise AssertionError(f"line {line_no}: {rule['begin']} opens and closes "
                                         "empty")
                pos = m.end()
            yield scopes[:-1]

    def scope_match(self, scopes, m, base, captures):
        scopes[m.start():m.end()] = [base] * (m.end() - m.start())
        for group, capture in sorted((captures or {}).items(), key=lambda kv: int(kv[0])):
            g = int(group)
            if g <= (m.re.groups) and m.start(g) >= 0 and "name" in capture:
                for i in range(m.start(g), m.end(g)):
                    scopes[i] = (base if g > 0 else scopes[i]) + (capture["name"],)

    def run(self, text):
        self.frame_rules = [self.doc]
        return list(self.tokenize(text))


def lex(text):
    """Comment and string spans, and words outside them, per lang/grammar.hpp.

    Returns (comments, strings, words) with (line, first column, end column) spans, 0-based;
    a word is (line, column, word, preceded by '.' or a digit)."""
    comments, strings, words = [], [], []
    lines = text.split("\n")
    in_block = False
    for ln, line in enumerate(lines):
        i = 0
        while i < len(line):
            if in_block:
                j = line.find("*/", i)
                end = len(line) if j < 0 else j + 2
                comments.append((ln, i, end))
                in_block = j < 0
                i = end
            elif line.startswith("//", i):
                comments.append((ln, i, len(line)))
                i = len(line)
            elif line.startswith("/*", i):
                j = line.find("*/", i + 2)
                end = len(line) if j < 0 else j + 2
                comments.append((ln, i, end))
                in_block = j < 0
                i = end
            elif line[i] == '"':
                m = re.compile(r'"(?:\\.|[^"\\])*"').match(line, i)
                end = m.end() if m else len(line)
                strings.append((ln, i, end))
                i = end
            else:
                m = re.compile(r"[0-9][A-Za-z0-9_.]*|[A-Za-z_][A-Za-z0-9_]*").match(line, i)
                if m:
                    if not m.group().isdigit() and not line[i].isdigit():
                        before = line[:i].rstrip()
                        words.append((ln, i, m.group(), before.endswith(".")))
                    i = m.end()
                else:
                    i += 1
    return comments, strings, words


def grammar_keywords():
    src = (ROOT / "lang/grammar.hpp").read_text()
    words = {}
    for name, chars in re.findall(r"struct (kw_\w+) : keyword<([^>]*)>", src):
        words[name] = "".join(re.findall(r"'(.)'", chars))
    reserved_list = re.search(r"struct reserved_word : sor<([^>]*)>", src, re.S).group(1)
    reserved = {words[n.strip()] for n in reserved_list.split(",")}
    if len(words) < 40 or len(reserved) < 10:
        raise AssertionError("could not read the keywords of lang/grammar.hpp")
    return set(words.values()), reserved


def check_problem_matcher(cep):
    """The `$cep` problem matcher of package.json reads `cep check`'s text output into exactly
    the diagnostics that `--format json` gives (notes are not problems)."""
    matcher = json.loads((ROOT / "editors/vscode/package.json").read_text())
    pattern = matcher["contributes"]["problemMatchers"][0]["pattern"]
    regex = re.compile(pattern["regexp"])
    path = ROOT / "tests/editors/list_type.cep"
    text = subprocess.run([cep, "check", "--color", "never", path.name], capture_output=True,
                          text=True, timeout=60, cwd=path.parent)
    js = subprocess.run([cep, "check", "--format", "json", path.name], capture_output=True,
                        text=True, timeout=60, cwd=path.parent)
    got = []
    for line in (text.stdout + text.stderr).splitlines():
        m = regex.match(line)
        if m:
            got.append({"file": m.group(pattern["file"]), "line": int(m.group(pattern["line"])),
                        "column": int(m.group(pattern["column"])),
                        "severity": m.group(pattern["severity"]),
                        "message": m.group(pattern["message"])})
    want = [{k: d[k] for k in ("file", "line", "column", "severity", "message")}
            for d in json.loads(js.stdout)]
    if got != want or len(want) != 2:
        return [f"the $cep problem matcher read {got} from `cep check`, --format json says {want}"]
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cep", help="the cep binary: also `cep check` the files of tests/editors")
    args = ap.parse_args()
    if args.cep:
        args.cep = str(pathlib.Path(args.cep).resolve())

    grammar = Grammar(GRAMMAR)
    files = sorted(ROOT.glob("examples/**/*.cep"))
    files += sorted(p for p in ROOT.glob("tests/golden/check/valid_*.cep"))
    files += sorted(ROOT.glob("tests/golden/check/valid_*/**/*.cep"))
    files += sorted(ROOT.glob("tests/editors/*.cep"))
    keywords, reserved = grammar_keywords()
    seen_as_keyword = set()
    failures = []

    def fail(path, ln, col, what):
        if len(failures) < 40:
            failures.append(f"{path.relative_to(ROOT)}:{ln + 1}:{col + 1}: {what}")
        else:
            failures.append(None)

    for path in files:
        text = path.read_text()
        lines = text.split("\n")
        scoped = grammar.run(text)
        comments, strings, words = lex(text)
        expected = [[None] * len(line) for line in lines]
        for kind, spans in (("comment", comments), ("string", strings)):
            for ln, a, b in spans:
                for c in range(a, b):
                    expected[ln][c] = kind
        for ln, line in enumerate(lines):
            for c, ch in enumerate(line):
                s = scoped[ln][c]
                if any(x.startswith("invalid.") for x in s):
                    fail(path, ln, c, f"{ch!r} scoped {' '.join(s)}")
                    continue
                got = "comment" if any(x.startswith("comment.") for x in s) else \
                    "string" if any(x.startswith(STRING_PREFIXES) for x in s) else None
                if got != expected[ln][c] and not ch.isspace() or \
                        (expected[ln][c] and got != expected[ln][c]):
                    fail(path, ln, c, f"{ch!r} is {expected[ln][c] or 'code'} but scoped "
                                      f"{' '.join(s)}")
        for ln, c, word, after_dot in words:
            s = scoped[ln][c]
            is_keyword = any(x.startswith(KEYWORD_PREFIXES) for x in s) and \
                all(scoped[ln][c + k] == s for k in range(len(word)))
            if is_keyword:
                seen_as_keyword.add(word)
                if re.match(r"\s*:(?!:)", lines[ln][c + len(word):]):
                    fail(path, ln, c, f"`{word}` names a field, step or parameter here but is "
                                      f"scoped {' '.join(s)}")
            elif word in reserved and not after_dot:
                fail(path, ln, c, f"reserved word `{word}` scoped {' '.join(s)}")

    for word in sorted(keywords - seen_as_keyword):
        failures.append(f"keyword `{word}` of lang/grammar.hpp is never scoped as a keyword in "
                        f"{len(files)} files (scope it in the grammar; use it in a valid case)")

    functions = re.findall(r'^CEP_FUNCTION\(\w+, "(\w+)"', (ROOT / "stdlib/functions.def").read_text(),
                           re.M)
    for name in functions:
        s = grammar.run(f"const X = {name}(1)")[0][10]
        if "support.function.builtin.cep" not in s:
            failures.append(f"function `{name}` of stdlib/functions.def scoped {' '.join(s)}")

    if args.cep:
        cep_path = args.cep
        for path in sorted(ROOT.glob("tests/editors/*.cep")):
            r = subprocess.run([cep_path, "check", "--format", "json", path.name],
                               capture_output=True, text=True, timeout=60, cwd=path.parent)
            errors = [d for d in json.loads(r.stdout) if d["severity"] == "error"]
            want = re.match(r"// EXPECT-ERROR: (.*)", path.read_text())
            if want:
                ok = r.returncode == 1 and len(errors) == 1 and \
                    want.group(1) in errors[0]["message"] and errors[0]["file"] == path.name
            else:
                ok = r.returncode == 0 and not errors
                if ok and re.search(r"^test ", path.read_text(), re.M):
                    t = subprocess.run([cep_path, "test", "--engine", "interp", path.name],
                                       capture_output=True, text=True, timeout=60,
                                       cwd=path.parent)
                    if t.returncode != 0:
                        failures.append(f"cep test {path.relative_to(ROOT)}: {t.stdout}")
            if not ok:
                failures.append(f"cep check {path.relative_to(ROOT)}: exit {r.returncode}, "
                                f"{r.stdout}")

    if args.cep:
        failures += check_problem_matcher(args.cep)

    if failures:
        shown = [f for f in failures if f is not None]
        print("\n".join(shown))
        print(f"FAIL: {len(failures)} problem(s) in {len(files)} files")
        return 1
    print(f"ok: {len(files)} files, {len(grammar.regex)} regexes, {len(keywords)} keywords, "
          f"{len(functions)} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
