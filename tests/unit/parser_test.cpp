// The parser (lang/grammar.hpp, lang/parse.cpp): every construct of spec §1 and §3, operator
// precedence, separators, ranges, syntax errors (message and position) and recovery.
#include "lang/ast_printer.hpp"
#include "lang/diagnostics.hpp"
#include "lang/parse.hpp"
#include "lang/source.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

using namespace cep::lang;

namespace {

// One parsed file.
struct Parsed {
  explicit Parsed(std::string text) : diags(sources) {
    id = sources.add("test.cep", std::move(text));
    module = parseModule(sources.file(id), diags);
  }
  Parsed(const Parsed &) = delete;
  Parsed &operator=(const Parsed &) = delete;

  // printAstTree without positions.
  std::string tree() const {
    std::ostringstream out;
    printAstTree(out, module, sources, false);
    return out.str();
  }
  std::string treeWithPositions() const {
    std::ostringstream out;
    printAstTree(out, module, sources, true);
    return out.str();
  }
  // Every diagnostic as "line:col: message" (notes as "note line:col: message").
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    auto where = [&](const std::optional<SourceRange> &r) {
      if (!r) {
        return std::string("-");
      }
      LineCol lc = sources.file(r->file).lineCol(r->begin);
      return std::to_string(lc.line) + ":" + std::to_string(lc.column);
    };
    for (const Diagnostic *d : diags.sorted()) {
      out.push_back(where(d->range) + ": " + d->message);
      for (const Note &n : d->notes) {
        out.push_back("note " + where(n.range) + ": " + n.message);
      }
    }
    return out;
  }
  std::string text(SourceRange r) const { return std::string(sources.slice(r)); }

  SourceManager sources;
  DiagnosticEngine diags;
  FileId id = 0;
  ast::Module module;
};

using Lines = std::vector<std::string>;

// The tree of one expression, parsed as the value of a const.
std::string exprTree(const std::string &expr) {
  Parsed p("const X = " + expr + "\n");
  INFO(expr);
  CHECK(p.errors() == Lines{});
  std::string tree = p.tree();
  // Drop the "const X" line and one level of indentation.
  std::string out;
  std::istringstream in(tree.substr(tree.find('\n') + 1));
  for (std::string line; std::getline(in, line);) {
    out += line.substr(2) + "\n";
  }
  return out;
}

// The diagnostics of a file that is expected to have errors.
Lines errorsOf(const std::string &text) {
  return Parsed(text).errors();
}

const ast::Expr &constValue(const Parsed &p, std::size_t i = 0) {
  REQUIRE(p.module.consts.size() > i);
  return *p.module.consts[i].value;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Lexical structure and literals
// ---------------------------------------------------------------------------------------------

TEST_CASE("parser: integer literals, with `_` separators and up to int64 max", "[parser]") {
  Parsed p("const A = 42\nconst B = 1_000_000\nconst C = 9_223_372_036_854_775_807\n"
           "const D = 0\n");
  REQUIRE(p.errors() == Lines{});
  CHECK(constValue(p, 0).kind == ast::ExprKind::IntLit);
  CHECK(constValue(p, 0).int_value == 42);
  CHECK(constValue(p, 1).int_value == 1000000);
  CHECK(constValue(p, 2).int_value == 9223372036854775807);
  CHECK(constValue(p, 3).int_value == 0);
}

TEST_CASE("parser: float literals", "[parser]") {
  Parsed p("const A = 1.5\nconst B = 2e-3\nconst C = 1.5e+3\nconst D = 1000.25\n"
           "const E = 3E2\nconst F = 1e-400\n");
  REQUIRE(p.errors() == Lines{});
  CHECK(constValue(p, 0).kind == ast::ExprKind::FloatLit);
  CHECK(constValue(p, 0).float_value == 1.5);
  CHECK(constValue(p, 1).float_value == 2e-3);
  CHECK(constValue(p, 2).float_value == 1500.0);
  CHECK(constValue(p, 3).float_value == 1000.25);
  CHECK(constValue(p, 4).kind == ast::ExprKind::FloatLit);
  CHECK(constValue(p, 4).float_value == 300.0);
  CHECK(constValue(p, 5).float_value == 0.0); // underflow is zero, not an error
}

TEST_CASE("parser: durations are kept in milliseconds", "[parser]") {
  Parsed p("const A = 250ms\nconst B = 10s\nconst C = 5m\nconst D = 2h\nconst E = 1d\n"
           "const F = 1_500ms\n");
  REQUIRE(p.errors() == Lines{});
  CHECK(constValue(p, 0).kind == ast::ExprKind::DurationLit);
  CHECK(constValue(p, 0).int_value == 250);
  CHECK(constValue(p, 1).int_value == 10000);
  CHECK(constValue(p, 2).int_value == 300000);
  CHECK(constValue(p, 3).int_value == 7200000);
  CHECK(constValue(p, 4).int_value == 86400000);
  CHECK(constValue(p, 5).int_value == 1500);
}

TEST_CASE("parser: strings and their escapes", "[parser]") {
  Parsed p(R"(const A = "a\"b\\c\nd\te\rf\/g"
const B = "\u00e9\u00C9 caf)"
           "\xC3\xA9"
           R"("
const C = "\ud83d\ude00"
const D = ""
const E = "// not a comment /* either */"
)");
  REQUIRE(p.errors() == Lines{});
  CHECK(constValue(p, 0).kind == ast::ExprKind::StringLit);
  CHECK(constValue(p, 0).text == "a\"b\\c\nd\te\rf/g");
  CHECK(constValue(p, 1).text == "\xC3\xA9\xC3\x89 caf\xC3\xA9");
  CHECK(constValue(p, 2).text == "\xF0\x9F\x98\x80"); // U+1F600 from a surrogate pair
  CHECK(constValue(p, 3).text.empty());
  CHECK(constValue(p, 4).text == "// not a comment /* either */");
}

TEST_CASE("parser: true, false, null and lists", "[parser]") {
  CHECK(exprTree("true") == "bool true\n");
  CHECK(exprTree("false") == "bool false\n");
  CHECK(exprTree("null") == "null\n");
  CHECK(exprTree("[]") == "list\n");
  CHECK(exprTree("[1, 2.5, \"x\"]") == "list\n  int 1\n  float 2.5\n  string \"x\"\n");
}

TEST_CASE("parser: list entries are separated by commas or line breaks", "[parser]") {
  const char *expected = "list\n  string \"NG\"\n  string \"KP\"\n  string \"RU\"\n";
  CHECK(exprTree("[\"NG\", \"KP\", \"RU\"]") == expected);
  CHECK(exprTree("[\"NG\", \"KP\", \"RU\",]") == expected);
  CHECK(exprTree("[\n  \"NG\"\n  \"KP\"\n  \"RU\"\n]") == expected);
  CHECK(exprTree("[\n  \"NG\",\n  \"KP\" // comment\n  \"RU\",\n]") == expected);
  CHECK(exprTree("[\"NG\"\n, \"KP\", \"RU\"]") == expected);
}

TEST_CASE("parser: comments are whitespace", "[parser]") {
  Parsed p("// line comment\n/* block\n   comment */ const /* inline */ A = 1 // trailing\n"
           "/**/const B = /***/ 2\n// last line without newline");
  REQUIRE(p.errors() == Lines{});
  CHECK(p.tree() == "const A\n  int 1\nconst B\n  int 2\n");
}

TEST_CASE("parser: CRLF line endings and a byte order mark", "[parser]") {
  Parsed p("\xEF\xBB\xBF"
           "event E {\r\n  a: int\r\n  b: string\r\n}\r\nconst L = [1\r\n 2]\r\n");
  REQUIRE(p.errors() == Lines{});
  CHECK(p.tree() == "event E\n  field a: int\n  field b: string\nconst L\n  list\n    int 1\n"
                    "    int 2\n");
}

TEST_CASE("parser: contextual words are names", "[parser]") {
  Parsed p(R"(event Hop {
    partition: string
    by: string
    skip: int
    to: int
    next: int
    past: int
    none: int
    first: int
    last: int
    on: bool
    timeout: duration
    until: int
    optional: int
    greedy: int
    consecutive: int
    combinations: int
    list: int
    string: string
    time: time
}
pattern partition partition by partition, by skip to last next {
    skip: Hop(past and on)+ consecutive -> next: Hop(first != last(skip).to)
    -> until: Hop(optional is null)
}
emit on { timeout: next.timeout, list: until.list }
)");
  REQUIRE(p.errors() == Lines{});
  REQUIRE(p.module.events.size() == 1);
  CHECK(p.module.events[0].fields.size() == 19);
  REQUIRE(p.module.patterns.size() == 1);
  const auto &pat = p.module.patterns[0];
  CHECK(pat.name.name == "partition");
  REQUIRE(pat.partition_by);
  CHECK(pat.partition_by->size() == 2);
  CHECK(pat.skip->kind == ast::SkipKind::ToLast);
  CHECK(pat.skip->step->name == "next");
  REQUIRE(pat.steps.size() == 3);
  CHECK(pat.steps[0].name->name == "skip");
  CHECK(pat.steps[2].name->name == "until");
  CHECK(pat.emit.stream.name == "on");
}

TEST_CASE("parser: names may start with a reserved word", "[parser]") {
  Parsed p("const not_seen = in_store and is_fraud or nullable\nconst import_id = true_count\n");
  REQUIRE(p.errors() == Lines{});
  CHECK(p.module.consts[0].name.name == "not_seen");
  CHECK(p.module.consts[1].name.name == "import_id");
}

TEST_CASE("parser: reserved words cannot be names", "[parser]") {
  CHECK(errorsOf("const and = 1\n") ==
        Lines{"1:7: `and` is a reserved word and cannot be used as a name"});
  CHECK(errorsOf("event E { in: int, null: string }\n") ==
        Lines{"1:11: `in` is a reserved word and cannot be used as a name",
              "1:20: `null` is a reserved word and cannot be used as a name"});
  CHECK(errorsOf("def within(x: int) = x\n") ==
        Lines{"1:5: `within` is a reserved word and cannot be used as a name"});
  CHECK(errorsOf("pattern p { emit: E } emit S { is: x.emit }\n") ==
        Lines{"1:13: `emit` is a reserved word and cannot be used as a name",
              "1:32: `is` is a reserved word and cannot be used as a name",
              "1:38: `emit` is a reserved word and cannot be used as a name"});
  // The declaration is still kept: the error does not hide later ones.
  Parsed p("const true = 1\n");
  CHECK(p.module.consts.size() == 1);
}

TEST_CASE("parser: bad literals are reported at the literal", "[parser]") {
  CHECK(errorsOf("const A = 5min\n") ==
        Lines{"1:12: unknown duration unit `min` (the units are `ms`, `s`, `m`, `h` and `d`)"});
  CHECK(errorsOf("const A = 1.5s\n") ==
        Lines{"1:11: a duration must be a whole number of units, as in `1500ms`"});
  CHECK(errorsOf("const A = 9223372036854775808\n") ==
        Lines{"1:11: integer literal is too large (the largest `int` is 9223372036854775807)"});
  CHECK(errorsOf("const A = 9999999999999999d\n") == Lines{"1:11: duration is too large"});
  CHECK(errorsOf("const A = 1e999\n") == Lines{"1:11: float literal is out of range"});
  CHECK(errorsOf("const A = 1__000\nconst B = 1_\n") ==
        Lines{"1:11: misplaced `_` in a number: `_` may only separate two digits",
              "2:11: misplaced `_` in a number: `_` may only separate two digits"});
  CHECK(errorsOf("const A = 3.0x\n") == Lines{"1:14: unexpected `x` after a number"});
  CHECK(errorsOf("const A = 1_000.5\nconst B = 1.000_5\nconst C = 1_0e3\n") ==
        Lines{"1:11: `_` digit grouping is for integers only, not in a float",
              "2:11: `_` digit grouping is for integers only, not in a float",
              "3:11: `_` digit grouping is for integers only, not in a float"});
}

TEST_CASE("parser: bad escapes are reported at the escape", "[parser]") {
  Parsed p(R"(const A = "ok\q \u12x \ud800 end")"
           "\n");
  CHECK(
      p.errors() ==
      Lines{
          R"(1:14: unknown escape sequence `\q` (use `\"`, `\\`, `\n`, `\t`, `\r`, `\/` or `\uXXXX`))",
          R"(1:17: `\u` must be followed by four hex digits)",
          R"(1:23: unpaired UTF-16 surrogate `\ud800`)"});
  REQUIRE(p.diags.all().size() == 3);
  CHECK(p.text(*p.diags.all()[0].range) == R"(\q)");
  CHECK(p.text(*p.diags.all()[1].range) == R"(\u12)");
  CHECK(p.text(*p.diags.all()[2].range) == R"(\ud800)");
}

TEST_CASE("parser: unterminated strings and comments are errors at their start", "[parser]") {
  CHECK(
      errorsOf("const A = \"abc\nconst B = 1\n") ==
      Lines{"1:11: unterminated string: a string must end with `\"` on the line where it starts"});
  Parsed p("const A = 1\n/* never closed\nconst B = 2\n");
  CHECK(p.errors() == Lines{"2:1: unterminated block comment: `/*` without `*/`"});
  CHECK(p.module.consts.size() == 1);
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

TEST_CASE("parser: precedence or < and < not < comparison < + - < * / % < unary - < postfix",
          "[parser]") {
  CHECK(exprTree("a or b and c") == "binary or\n  name a\n  binary and\n    name b\n    name c\n");
  CHECK(exprTree("a and b or c") == "binary or\n  binary and\n    name a\n    name b\n  name c\n");
  CHECK(exprTree("not a and b") == "binary and\n  unary not\n    name a\n  name b\n");
  CHECK(exprTree("not a == b") == "unary not\n  binary ==\n    name a\n    name b\n");
  CHECK(exprTree("not not a") == "unary not\n  unary not\n    name a\n");
  CHECK(exprTree("a == b + c") == "binary ==\n  name a\n  binary +\n    name b\n    name c\n");
  CHECK(exprTree("a + b * c") == "binary +\n  name a\n  binary *\n    name b\n    name c\n");
  CHECK(exprTree("a * b % c / d") ==
        "binary /\n  binary %\n    binary *\n      name a\n      name b\n    name c\n  name d\n");
  CHECK(exprTree("a - b - c") == "binary -\n  binary -\n    name a\n    name b\n  name c\n");
  CHECK(exprTree("-a * b") == "binary *\n  unary -\n    name a\n  name b\n");
  CHECK(exprTree("-a.b") == "unary -\n  member b\n    name a\n");
  CHECK(exprTree("a - -1") == "binary -\n  name a\n  unary -\n    int 1\n");
  CHECK(exprTree("- - a") == "unary -\n  unary -\n    name a\n");
  CHECK(exprTree("(a + b) * c") == "binary *\n  binary +\n    name a\n    name b\n  name c\n");
  CHECK(exprTree("a <= b and c > d") ==
        "binary and\n  binary <=\n    name a\n    name b\n  binary >\n    name c\n    name d\n");
}

TEST_CASE("parser: every comparison operator", "[parser]") {
  CHECK(exprTree("a == b") == "binary ==\n  name a\n  name b\n");
  CHECK(exprTree("a != b") == "binary !=\n  name a\n  name b\n");
  CHECK(exprTree("a < b") == "binary <\n  name a\n  name b\n");
  CHECK(exprTree("a <= b") == "binary <=\n  name a\n  name b\n");
  CHECK(exprTree("a > b") == "binary >\n  name a\n  name b\n");
  CHECK(exprTree("a >= b") == "binary >=\n  name a\n  name b\n");
  CHECK(exprTree("a in B") == "in\n  name a\n  name B\n");
  CHECK(exprTree("a not in [1, 2]") == "not_in\n  name a\n  list\n    int 1\n    int 2\n");
  CHECK(exprTree("a is null") == "is_null\n  name a\n");
  CHECK(exprTree("a.b is not null") == "is_not_null\n  member b\n    name a\n");
  CHECK(exprTree("not a in B") == "unary not\n  in\n    name a\n    name B\n");
  CHECK(exprTree("a + 1 in B") == "in\n  binary +\n    name a\n    int 1\n  name B\n");
}

TEST_CASE("parser: comparisons do not chain", "[parser]") {
  CHECK(errorsOf("const A = a < b < c\n") ==
        Lines{"1:17: comparisons cannot be chained: combine them with `and` (or use parentheses)"});
  CHECK(errorsOf("const A = a == b in C\n") ==
        Lines{"1:18: comparisons cannot be chained: combine them with `and` (or use parentheses)"});
  CHECK(errorsOf("const A = a is null == b\n") ==
        Lines{"1:21: comparisons cannot be chained: combine them with `and` (or use parentheses)"});
  CHECK(exprTree("(a < b) == c") == "binary ==\n  binary <\n    name a\n    name b\n  name c\n");
}

TEST_CASE("parser: postfix field access and calls", "[parser]") {
  CHECK(exprTree("a.b.c") == "member c\n  member b\n    name a\n");
  CHECK(exprTree("last(small).country") == "member country\n  call last\n    name small\n");
  CHECK(exprTree("f()") == "call f\n");
  CHECK(exprTree("haversine_km(a.lat, a.lon,\n  b.lat, b.lon)") ==
        "call haversine_km\n  member lat\n    name a\n  member lon\n    name a\n  member lat\n"
        "    name b\n  member lon\n    name b\n");
  CHECK(exprTree("if(x > 1, \"a\", \"b\")") ==
        "call if\n  binary >\n    name x\n    int 1\n  string \"a\"\n  string \"b\"\n");
  CHECK(exprTree("count (s)") == "call count\n  name s\n"); // spaces before `(` are fine
  CHECK(exprTree("a . b") == "member b\n  name a\n");
}

TEST_CASE("parser: an expression continues on a line that starts with an operator", "[parser]") {
  Parsed p("pattern p { a: X(x > 1\n    and y < 2) }\n"
           "emit S {\n  total: a.x\n    + a.y\n  count: count(a)\n"
           "  ratio: a.x\n    / 2, other: 1\n}\n");
  REQUIRE(p.errors() == Lines{});
  const auto &emit = p.module.patterns.at(0).emit;
  REQUIRE(emit.fields.size() == 4);
  CHECK(emit.fields[0].value->kind == ast::ExprKind::Binary);
  CHECK(emit.fields[1].name.name == "count");
  CHECK(emit.fields[2].value->binary_op == ast::BinaryOp::Div);
  // A list element on the next line that starts with `(` is a new element, not a call.
  CHECK(exprTree("[f\n(1)]") == "list\n  name f\n  int 1\n");
  // ... but one that starts with `-` continues the previous one.
  CHECK(exprTree("[1\n-2]") == "list\n  binary -\n    int 1\n    int 2\n");
}

TEST_CASE("parser: expression ranges cover the whole expression", "[parser]") {
  Parsed p("const A = (a + b) * f(x, y).z\n");
  REQUIRE(p.errors() == Lines{});
  const ast::Expr &mul = constValue(p);
  CHECK(p.text(mul.range) == "(a + b) * f(x, y).z");
  CHECK(p.text(mul.children[0]->range) == "(a + b)");
  CHECK(p.text(mul.children[0]->children[1]->range) == "b");
  CHECK(p.text(mul.children[1]->range) == "f(x, y).z");
  CHECK(p.text(mul.children[1]->name.range) == "z");
  CHECK(p.text(mul.children[1]->children[0]->range) == "f(x, y)");
  CHECK(p.text(mul.children[1]->children[0]->name.range) == "f");

  Parsed q("const B = not x is not null\nconst C = -[1, 2]\nconst D = a not in L\n");
  REQUIRE(q.errors() == Lines{});
  CHECK(q.text(constValue(q, 0).range) == "not x is not null");
  CHECK(q.text(constValue(q, 0).children[0]->range) == "x is not null");
  CHECK(q.text(constValue(q, 1).range) == "-[1, 2]");
  CHECK(q.text(constValue(q, 2).range) == "a not in L");
}

TEST_CASE("parser: expression syntax errors", "[parser]") {
  CHECK(errorsOf("const A = 1 +\n") == Lines{"2:1: expected an expression"});
  CHECK(errorsOf("const A = (1 + 2\n") == Lines{"2:1: expected `)` to close the parenthesis"});
  CHECK(errorsOf("const A = a and or b\n") == Lines{"1:17: expected an expression"});
  CHECK(errorsOf("const A = f(1 2)\n") ==
        Lines{"1:15: expected `,` or `)` after a function argument"});
  CHECK(errorsOf("const A = [1 2]\n") ==
        Lines{"1:14: expected `]` to close the list (separate elements with `,` or a line break)"});
  CHECK(errorsOf("const A = a.5\n") == Lines{"1:13: expected a field name after `.`"});
  CHECK(errorsOf("const A = a is 5\n") == Lines{"1:16: expected `null` or `not null` after `is`"});
  CHECK(errorsOf("const A = a is not 5\n") == Lines{"1:20: expected `null` after `is not`"});
  CHECK(errorsOf("const A = not\n") == Lines{"2:1: expected an expression"});
  CHECK(errorsOf("const A = a == not b\n") == Lines{"1:16: expected an expression"});
  CHECK(errorsOf("const A =\n") == Lines{"2:1: expected an expression"});
}

TEST_CASE("parser: nesting deeper than the limit is an error, not a crash", "[parser]") {
  std::string deep = "const A = " + std::string(5000, '(') + "1\nconst B = 2\n";
  Parsed p(deep);
  CHECK(p.errors() == Lines{"1:139: expression is nested too deeply"});
  CHECK(p.module.consts.size() == 1); // B

  std::string long_sum = "const A = 1";
  for (int i = 0; i < 5000; ++i) {
    long_sum += " + 1";
  }
  CHECK(errorsOf(long_sum + "\n") == Lines{"1:11: expression is nested too deeply"});

  std::string fine = "const A = " + std::string(60, '(') + "1" + std::string(60, ')') + "\n";
  CHECK(errorsOf(fine) == Lines{});
}

TEST_CASE("parser: a flat chain of thousands of `or` or `and` terms is not too deep", "[parser]") {
  for (const char *op : {" or ", " and "}) {
    std::string chain = "const A = x == 0";
    for (int i = 1; i < 10000; ++i) {
      chain += op + std::string("x == ") + std::to_string(i);
    }
    Parsed p(chain + "\n");
    CHECK(p.errors() == Lines{});
    REQUIRE(p.module.consts.size() == 1);
    // Balanced: the depth grows with the logarithm of the length.
    std::function<std::size_t(const ast::Expr &)> depth = [&](const ast::Expr &e) {
      std::size_t d = 0;
      for (const auto &c : e.children) {
        d = std::max(d, depth(*c));
      }
      return d + 1;
    };
    CHECK(depth(*p.module.consts[0].value) <= 20);
  }
  // Short chains keep their left-associative shape.
  Parsed p("const A = a or b or c\n");
  REQUIRE(p.module.consts.size() == 1);
  const ast::Expr &top = *p.module.consts[0].value;
  REQUIRE(top.children.size() == 2);
  CHECK(top.children[0]->kind == ast::ExprKind::Binary);
  CHECK(top.children[1]->kind == ast::ExprKind::Name);
}

// ---------------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------------

TEST_CASE("parser: import, const, def, event", "[parser]") {
  Parsed p(R"(import "common.cep"
const LARGE = 500.0
def speed_kmh(a: Login, b: Login) =
    haversine_km(a.lat, a.lon, b.lat, b.lon) / hours(b.ts - a.ts)
def nothing() = 1
event Payment {
    card:     string
    amount:   float
    merchant: string?          // '?' : may be absent or null
    tags:     list<string>
    nested:   list<list<int>?>?
    ts:       time
}
)");
  REQUIRE(p.errors() == Lines{});
  CHECK(p.tree() == R"(import "common.cep"
const LARGE
  float 500.0
def speed_kmh
  param a: Login
  param b: Login
  body: binary /
    call haversine_km
      member lat
        name a
      member lon
        name a
      member lat
        name b
      member lon
        name b
    call hours
      binary -
        member ts
          name b
        member ts
          name a
def nothing
  body: int 1
event Payment
  field card: string
  field amount: float
  field merchant: string?
  field tags: list<string>
  field nested: list<list<int>?>?
  field ts: time
)");
  const auto &imp = p.module.imports.at(0);
  CHECK(imp.path == "common.cep");
  CHECK(p.text(imp.path_range) == "\"common.cep\"");
  CHECK(p.text(imp.range) == "import \"common.cep\"");
  const auto &field = p.module.events.at(0).fields.at(4);
  CHECK(p.text(field.range) == "nested:   list<list<int>?>?");
  CHECK(p.text(field.type.range) == "list<list<int>?>?");
  CHECK(field.type.nullable);
  CHECK(field.type.args.at(0).nullable);
  CHECK(field.type.args.at(0).args.at(0).name.name == "int");
  CHECK(p.text(p.module.defs.at(0).range).find("def speed_kmh") == 0);
  REQUIRE(p.module.order.size() == 5);
  CHECK(p.module.order[0].kind == ast::Module::DeclKind::Import);
  CHECK(p.module.order[2].kind == ast::Module::DeclKind::Def);
  CHECK(p.module.order[3].index == 1);
}

TEST_CASE("parser: event fields are separated by commas or line breaks", "[parser]") {
  const char *expected = "event E\n  field a: int\n  field b: string?\n";
  CHECK(Parsed("event E { a: int, b: string? }").tree() == expected);
  CHECK(Parsed("event E { a: int, b: string?, }").tree() == expected);
  CHECK(Parsed("event E {\n a: int\n b: string?\n}").tree() == expected);
  CHECK(Parsed("event E { a: int\n           b: string? }").tree() == expected);
  CHECK(Parsed("event E { a: int /* c */ // c\n b: string?\n\n,}").tree() == expected);
  CHECK(Parsed("event E {}").tree() == "event E\n");
  CHECK(errorsOf("event E { a: int b: string }") ==
        Lines{"1:18: expected `}` to close the event block (separate fields with `,` or a "
              "line break)"});
  CHECK(errorsOf("event E { a: int,, b: string }") ==
        Lines{"1:18: expected `}` to close the event block (separate fields with `,` or a "
              "line break)"});
}

TEST_CASE("parser: declaration syntax errors", "[parser]") {
  CHECK(errorsOf("import common\n") ==
        Lines{"1:8: expected a file name in quotes after `import`, as in `import "
              "\"common.cep\"`"});
  CHECK(errorsOf("const = 1\n") == Lines{"1:7: expected a name after `const`"});
  CHECK(errorsOf("const A 1\n") == Lines{"1:9: expected `=` after the constant's name"});
  CHECK(errorsOf("def (x: int) = x\n") == Lines{"1:5: expected a function name after `def`"});
  CHECK(errorsOf("def f x\n") == Lines{"1:7: expected `(` after the function's name"});
  CHECK(errorsOf("def f(x) = x\n") ==
        Lines{"1:8: expected `:` and a type after the parameter's name"});
  CHECK(errorsOf("def f(x: int,) = x\n") == Lines{"1:14: expected a parameter like `name: Type`"});
  CHECK(errorsOf("def f(x: int y: int) = x\n") ==
        Lines{"1:14: expected `,` or `)` after a parameter"});
  CHECK(errorsOf("def f(x: int) x\n") ==
        Lines{"1:15: expected `=` and the function's body after the parameters"});
  CHECK(errorsOf("event { a: int }\n") == Lines{"1:7: expected an event type name after `event`"});
  CHECK(errorsOf("event E a: int\n") == Lines{"1:9: expected `{` after the event type name"});
  CHECK(errorsOf("event E { a int }\n") == Lines{"1:13: expected `:` after the field name"});
  CHECK(errorsOf("event E { a: 5 }\n") ==
        Lines{"1:14: expected a type such as `int`, `string?` or an event type name"});
  CHECK(errorsOf("event E { a: list<int }\n") == Lines{"1:23: expected `>` to close `list<...>`"});
  CHECK(errorsOf("Payment(x)\n") == Lines{"1:1: expected a declaration: `import`, `const`, `def`, "
                                          "`event`, `pattern`, `aggregate` or `test`"});
  CHECK(errorsOf("const A = 1 2\n") == Lines{"1:13: expected a declaration: `import`, `const`, "
                                             "`def`, `event`, `pattern`, `aggregate` or `test`"});
}

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

TEST_CASE("parser: the spec's card_testing pattern", "[parser]") {
  Parsed p(R"(pattern card_testing
    partition by card          // key
    within 10m                 // whole-match time bound
    skip past last             // after-match skip strategy
{
    small: Payment(amount < 1.00){3,}
    -> big: Payment(amount > LARGE and country != last(small).country)
}
emit CardTesting {
    card:   big.card,
    probes: count(small),
    amount: big.amount,
}
on timeout emit CardTestingAborted { card: first(small).card }   // optional
)");
  REQUIRE(p.errors() == Lines{});
  CHECK(p.treeWithPositions() == R"(pattern card_testing @1:1
  partition_by card @2:18
  within: duration 600000ms @3:12
  skip past last @4:5
  step small: Payment @6:5
    condition: binary < @6:20
      name amount @6:20
      float 1.0 @6:29
    quantifier {3,} @6:34
  step -> big: Payment @7:8
    condition: binary and @7:21
      binary > @7:21
        name amount @7:21
        name LARGE @7:30
      binary != @7:40
        name country @7:40
        member country @7:51
          call last @7:51
            name small @7:56
  emit CardTesting @9:1
    field card @10:5
      member card @10:13
        name big @10:13
    field probes @11:5
      call count @11:13
        name small @11:19
    field amount @12:5
      member amount @12:13
        name big @12:13
  on_timeout_emit CardTestingAborted @14:1
    field card @14:38
      member card @14:44
        call first @14:44
          name small @14:50
)");
  const ast::Pattern &pat = p.module.patterns.at(0);
  CHECK(p.text(pat.partition_range) == "partition by card");
  CHECK(p.text(pat.within_range) == "within 10m");
  CHECK(p.text(pat.skip->range) == "skip past last");
  CHECK(p.text(pat.steps[0].range) == "small: Payment(amount < 1.00){3,}");
  CHECK(pat.steps[0].contiguity_range.begin == pat.steps[0].contiguity_range.end);
  CHECK(p.text(pat.steps[1].contiguity_range) == "->");
  CHECK(p.text(pat.steps[1].range) ==
        "big: Payment(amount > LARGE and country != last(small).country)");
  CHECK(p.text(pat.steps[0].quantifier->range) == "{3,}");
  CHECK(p.text(pat.emit.range).find("emit CardTesting {") == 0);
  CHECK(p.text(pat.emit.fields[1].range) == "probes: count(small)");
  CHECK(p.text(pat.timeout_emit->range) ==
        "on timeout emit CardTestingAborted { card: first(small).card }");
  CHECK(p.text(pat.range).find("pattern card_testing") == 0);
  CHECK(p.text(pat.range).back() == '}');
}

TEST_CASE("parser: header clauses in any order, or none", "[parser]") {
  Parsed p("pattern a { x: X } emit A {}\n"
           "pattern b within 1m { x: X } emit B {}\n"
           "pattern c skip to next within 20m partition by card, merchant { x: X } emit C {}\n"
           "pattern d\n  partition by k\n  skip none\n{ x: X } emit D {}\n");
  REQUIRE(p.errors() == Lines{});
  REQUIRE(p.module.patterns.size() == 4);
  const auto &a = p.module.patterns[0];
  CHECK_FALSE(a.partition_by);
  CHECK(a.within == nullptr);
  CHECK_FALSE(a.skip);
  CHECK(p.module.patterns[1].within->int_value == 60000);
  const auto &c = p.module.patterns[2];
  REQUIRE(c.partition_by);
  REQUIRE(c.partition_by->size() == 2);
  CHECK((*c.partition_by)[1].name == "merchant");
  CHECK(p.text((*c.partition_by)[1].range) == "merchant");
  CHECK(c.skip->kind == ast::SkipKind::ToNext);
  CHECK(c.within->int_value == 20 * 60000);
  CHECK(p.module.patterns[3].skip->kind == ast::SkipKind::None);
}

TEST_CASE("parser: every skip strategy", "[parser]") {
  auto skipOf = [](const std::string &clause) {
    Parsed p("pattern p " + clause + " { s: X } emit S {}");
    REQUIRE(p.errors() == Lines{});
    return p.tree().substr(p.tree().find('\n') + 1,
                           p.tree().find("\n  step") - p.tree().find('\n') - 1);
  };
  CHECK(skipOf("skip none") == "  skip none");
  CHECK(skipOf("skip to next") == "  skip to next");
  CHECK(skipOf("skip past last") == "  skip past last");
  CHECK(skipOf("skip to first s") == "  skip to first s");
  CHECK(skipOf("skip to last s") == "  skip to last s");
  Parsed p("pattern p skip to first s { s: X } emit S {}");
  CHECK(p.module.patterns.at(0).skip->kind == ast::SkipKind::ToFirst);
  CHECK(p.text(p.module.patterns.at(0).skip->step->range) == "s");
}

TEST_CASE("parser: a header clause given twice", "[parser]") {
  Parsed p("pattern p within 1m partition by a within 2m skip none skip to next "
           "partition by b { s: X } emit S {}\n");
  CHECK(p.errors() == Lines{"1:36: duplicate `within` clause", "note 1:11: first given here",
                            "1:56: duplicate `skip` clause", "note 1:46: first given here",
                            "1:69: duplicate `partition by` clause",
                            "note 1:21: first given here"});
  REQUIRE(p.module.patterns.size() == 1); // kept, with the first of each clause
  CHECK(p.module.patterns[0].within->int_value == 60000);
  CHECK(p.module.patterns[0].skip->kind == ast::SkipKind::None);
  CHECK((*p.module.patterns[0].partition_by)[0].name == "a");
}

TEST_CASE("parser: steps, contiguity and negation", "[parser]") {
  Parsed p("pattern p {\n  a: A(x), b: B() -> c: C ->> d: D(y > 1)\n"
           "  -> not E() , not f: F(z) -> not G\n} emit S {}\n");
  REQUIRE(p.errors() == Lines{});
  CHECK(p.tree() == R"(pattern p
  step a: A
    condition: name x
  step , b: B()
  step -> c: C
  step ->> d: D
    condition: binary >
      name y
      int 1
  step -> not E()
  step , not f: F
    condition: name z
  step -> not G
  emit S
)");
  const auto &steps = p.module.patterns.at(0).steps;
  REQUIRE(steps.size() == 7);
  CHECK(steps[1].contiguity == ast::Contiguity::Strict);
  CHECK(steps[2].contiguity == ast::Contiguity::Relaxed);
  CHECK(steps[3].contiguity == ast::Contiguity::NonDeterministic);
  CHECK(p.text(steps[3].contiguity_range) == "->>");
  CHECK(steps[1].has_parens);
  CHECK(steps[1].condition == nullptr);
  CHECK_FALSE(steps[2].has_parens);
  CHECK(steps[4].negated);
  CHECK_FALSE(steps[4].name);
  CHECK(p.text(steps[4].not_range) == "not");
  CHECK(p.text(steps[4].range) == "not E()");
  CHECK(p.text(steps[4].type.range) == "E");
  CHECK(p.text(steps[5].range) == "not f: F(z)");
  CHECK(p.text(steps[5].name->range) == "f");
}

TEST_CASE("parser: quantifiers as written", "[parser]") {
  using Kind = ast::Quantifier::Kind;
  Parsed p("pattern p { a: A? -> b: B()+ -> c: C(x)* -> d: D{3} -> e: E{ 2 , } -> f: F{0,5} "
           "-> g: G(x){1} } emit S {}");
  REQUIRE(p.errors() == Lines{});
  const auto &steps = p.module.patterns.at(0).steps;
  REQUIRE(steps.size() == 7);
  CHECK(steps[0].quantifier->kind == Kind::Optional);
  CHECK(steps[1].quantifier->kind == Kind::Plus);
  CHECK(steps[2].quantifier->kind == Kind::Star);
  CHECK(steps[3].quantifier->kind == Kind::Exact);
  CHECK(steps[3].quantifier->min == 3);
  CHECK(steps[3].quantifier->max == 3);
  CHECK(steps[4].quantifier->kind == Kind::AtLeast);
  CHECK(steps[4].quantifier->min == 2);
  CHECK(p.text(steps[4].quantifier->range) == "{ 2 , }");
  CHECK(steps[5].quantifier->kind == Kind::Range);
  CHECK(steps[5].quantifier->min == 0);
  CHECK(steps[5].quantifier->max == 5);
  CHECK(steps[6].quantifier->kind == Kind::Exact);
  CHECK(steps[6].quantifier->min == 1);
}

TEST_CASE("parser: modifiers in source order, until, per-step within", "[parser]") {
  Parsed p("pattern p {\n  a: A(x){2,} until(y == 1) greedy optional consecutive combinations "
           "within 5m\n  -> b: B greedy\n  -> c: C within LIMIT * 2 -> d: D\n} emit S {}");
  REQUIRE(p.errors() == Lines{});
  CHECK(p.tree() == R"(pattern p
  step a: A
    condition: name x
    quantifier {2,}
    modifier until
      binary ==
        name y
        int 1
    modifier greedy
    modifier optional
    modifier consecutive
    modifier combinations
    within: duration 300000ms
  step -> b: B
    modifier greedy
  step -> c: C
    within: binary *
      name LIMIT
      int 2
  step -> d: D
  emit S
)");
  const auto &a = p.module.patterns.at(0).steps.at(0);
  CHECK(p.text(a.modifiers[0].range) == "until(y == 1)");
  CHECK(p.text(a.modifiers[1].range) == "greedy");
  CHECK(p.text(a.within->range) == "5m");
  CHECK(p.text(a.range) == "a: A(x){2,} until(y == 1) greedy optional consecutive combinations "
                           "within 5m");
}

TEST_CASE("parser: `-` stops before `->`, `within` stops before the next step", "[parser]") {
  Parsed p("pattern p within 10m - 1s {\n  a: A within 5m -> b: B within x - 1m ->> c: C within "
           "2m, d: D\n} emit S {}");
  REQUIRE(p.errors() == Lines{});
  const auto &pat = p.module.patterns.at(0);
  CHECK(p.text(pat.within->range) == "10m - 1s");
  REQUIRE(pat.steps.size() == 4);
  CHECK(p.text(pat.steps[0].within->range) == "5m");
  CHECK(p.text(pat.steps[1].within->range) == "x - 1m");
  CHECK(p.text(pat.steps[2].within->range) == "2m");
  CHECK(pat.steps[3].contiguity == ast::Contiguity::Strict);
}

TEST_CASE("parser: emit blocks: commas, line breaks, trailing comma, empty", "[parser]") {
  const char *expected = "pattern p\n  step a: A\n  emit S\n    field x\n      int 1\n"
                         "    field y\n      member y\n        name a\n";
  CHECK(Parsed("pattern p { a: A } emit S { x: 1, y: a.y }").tree() == expected);
  CHECK(Parsed("pattern p { a: A } emit S { x: 1, y: a.y, }").tree() == expected);
  CHECK(Parsed("pattern p { a: A } emit S {\n x: 1\n y: a.y\n}").tree() == expected);
  CHECK(Parsed("pattern p { a: A } emit S {\n x: 1 // one\n\n y: a.y,\n}").tree() == expected);
  CHECK(Parsed("pattern p { a: A }\nemit S {}").tree() == "pattern p\n  step a: A\n  emit S\n");
  CHECK(errorsOf("pattern p { a: A } emit S { x: 1 y: 2 }") ==
        Lines{"1:34: expected `}` to close the emit block (separate fields with `,` or a line "
              "break)"});
}

TEST_CASE("parser: pattern syntax errors", "[parser]") {
  CHECK(errorsOf("pattern { a: A } emit S {}") ==
        Lines{"1:9: expected a pattern name after `pattern`"});
  CHECK(errorsOf("pattern p partition card { a: A } emit S {}") ==
        Lines{"1:21: expected `by` after `partition`"});
  CHECK(errorsOf("pattern p partition by { a: A } emit S {}") ==
        Lines{"1:24: expected a field name to partition by"});
  CHECK(errorsOf("pattern p skip ahead { a: A } emit S {}") ==
        Lines{"1:16: expected `none`, `to next`, `past last`, `to first STEP` or `to last STEP` "
              "after `skip`"});
  CHECK(errorsOf("pattern p skip to a { a: A } emit S {}") ==
        Lines{"1:19: expected `next`, `first STEP` or `last STEP` after `skip to`"});
  CHECK(errorsOf("pattern p skip past first { a: A } emit S {}") ==
        Lines{"1:21: expected `last` after `skip past`"});
  CHECK(errorsOf("pattern p skip to first { a: A } emit S {}") ==
        Lines{"1:25: expected a step name"});
  CHECK(errorsOf("pattern p within { a: A } emit S {}") == Lines{"1:18: expected an expression"});
  CHECK(errorsOf("pattern p partition by k a: A } emit S {}") ==
        Lines{"1:26: expected `{` to start the body of the pattern (or a header clause: "
              "`partition by`, `within`, `skip`)"});
  CHECK(errorsOf("pattern p { } emit S {}") ==
        Lines{"1:13: expected a step like `name: Type(condition)`"});
  CHECK(errorsOf("pattern p { a: A -> } emit S {}") ==
        Lines{"1:21: expected a step like `name: Type(condition)`"});
  CHECK(errorsOf("pattern p { a: A -> not 5 } emit S {}") ==
        Lines{"1:25: expected a step like `name: Type(condition)`"});
  CHECK(errorsOf("pattern p { a: A -> b: } emit S {}") ==
        Lines{"1:24: expected an event type name after `:`, as in `name: Type(condition)`"});
  CHECK(errorsOf("pattern p {\n  a: A(x > 1\n  -> b: B\n} emit S {}") ==
        Lines{"3:3: expected `)` to close the condition"});
  CHECK(errorsOf("pattern p {\n  a: A(x > 1)\n  b: B(y)\n} emit S {}") ==
        Lines{"3:3: expected `,`, `->` or `->>` between steps"});
  CHECK(errorsOf("pattern p { a: A not b: B } emit S {}") ==
        Lines{"1:18: expected `,`, `->` or `->>` between steps"});
  CHECK(errorsOf("pattern p { a: A) } emit S {}") ==
        Lines{"1:17: expected `,`, `->` or `->>` and another step, or `}` to close the body of "
              "the pattern"});
  CHECK(errorsOf("pattern p { a: A{} } emit S {}") ==
        Lines{"1:18: expected a number in the quantifier, as in `{3}`, `{2,}` or `{2,5}`"});
  CHECK(errorsOf("pattern p { a: A{2,3 -> b: B } emit S {}") ==
        Lines{"1:22: expected `}` to close the quantifier"});
  CHECK(errorsOf("pattern p { a: A+ until x } emit S {}") ==
        Lines{"1:25: expected `(` and a condition after `until`"});
  CHECK(errorsOf("pattern p { a: A+ until(x } emit S {}") ==
        Lines{"1:27: expected `)` to close the `until` condition"});
  CHECK(errorsOf("pattern card_testing { a: A }\n") ==
        Lines{"2:1: expected `emit` after the body of pattern `card_testing`"});
  CHECK(errorsOf("pattern p { a: A } emit { x: 1 }") ==
        Lines{"1:25: expected an output stream name after `emit`"});
  CHECK(errorsOf("pattern p { a: A } emit S x: 1") ==
        Lines{"1:27: expected `{` after the output stream name"});
  CHECK(errorsOf("pattern p { a: A } emit S { x 1 }") ==
        Lines{"1:31: expected `:` after the field name"});
  CHECK(errorsOf("pattern p { a: A } emit S {} on emit T {}") ==
        Lines{"1:33: expected `timeout` after `on` (as in `on timeout emit ...`)"});
  CHECK(errorsOf("pattern p { a: A } emit S {} on timeout T {}") ==
        Lines{"1:41: expected `emit` after `on timeout`"});
}

TEST_CASE("parser: error ranges cover the offending token", "[parser]") {
  Parsed p("pattern p { a: A -> b: B } emitt S {}\n");
  REQUIRE(p.diags.all().size() == 1);
  CHECK(p.text(*p.diags.all()[0].range) == "emitt");
  Parsed q("const A = 1 +\n");
  REQUIRE(q.diags.all().size() == 1);
  CHECK(q.diags.all()[0].range->begin == q.diags.all()[0].range->end); // at the end of the file
  Parsed r("const A = \"abc\n");
  REQUIRE(r.diags.all().size() == 1);
  CHECK(r.text(*r.diags.all()[0].range) == "\"abc");
  Parsed s("pattern p { a: A ->> ->> b: B } emit S {}");
  REQUIRE(s.diags.all().size() == 1);
  CHECK(s.text(*s.diags.all()[0].range) == "->>");
}

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

TEST_CASE("parser: recovery reports every broken declaration and keeps the good ones", "[parser]") {
  Parsed p(R"(const GOOD_1 = 1
event Broken {
    a: int
    b string
}
event Good { a: int }
pattern broken { a: A(x > ) }
emit S { a: a.x }
const GOOD_2 = [1, 2]
pattern good { a: A } emit T { x: a.x }
)");
  CHECK(p.errors() ==
        Lines{"4:7: expected `:` after the field name", "7:27: expected an expression"});
  CHECK(p.tree() == R"(const GOOD_1
  int 1
event Good
  field a: int
const GOOD_2
  list
    int 1
    int 2
pattern good
  step a: A
  emit T
    field x
      member x
        name a
)");
}

TEST_CASE("parser: recovery resumes only at a declaration keyword in column 1", "[parser]") {
  // `pattern` indented, or inside the broken declaration's line, is not a resumption point.
  Parsed p("const A = (\n  pattern x { a: A } emit S {}\nconst B = 1 pattern\nconst C = 2\n");
  CHECK(p.errors() ==
        Lines{"2:3: expected an expression", "4:1: expected a pattern name after `pattern`"});
  REQUIRE(p.module.consts.size() == 2);
  CHECK(p.module.consts[0].name.name == "B");
  CHECK(p.module.consts[1].name.name == "C");
}

TEST_CASE("parser: a missing `}` before the next declaration", "[parser]") {
  Parsed p("event A {\n  a: int\n\nevent B { b: int }\n"
           "pattern p { a: A } emit S { x: 1\n\npattern q { b: B } emit T {}\n");
  CHECK(p.errors() ==
        Lines{"4:1: expected `}` to close the event block (separate fields with `,` or a line "
              "break)",
              "7:1: expected `}` to close the emit block (separate fields with `,` or a line "
              "break)"});
  CHECK(p.module.events.size() == 1);
  CHECK(p.module.events[0].name.name == "B");
  CHECK(p.module.patterns.size() == 1);
  CHECK(p.module.patterns[0].name.name == "q");
}

TEST_CASE("parser: an empty file and a file of comments are empty modules", "[parser]") {
  CHECK(Parsed("").tree().empty());
  CHECK(Parsed("  \n// nothing\n/* at all */\n").tree().empty());
  CHECK(Parsed("").errors() == Lines{});
}
