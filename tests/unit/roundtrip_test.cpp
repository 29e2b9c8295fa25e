// printSource round trip: for every `.cep` file under tests/golden/ that parses without errors,
// and for the spec's examples, print the AST as source, parse that again and compare the two
// trees (printAstTree without positions). Also checks that printing is a fixed point.
#include "lang/ast_printer.hpp"
#include "lang/diagnostics.hpp"
#include "lang/parse.hpp"
#include "lang/source.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace cep::lang;

#ifndef CEP_SOURCE_DIR
#error "CEP_SOURCE_DIR must name the source tree (set in tests/unit/CMakeLists.txt)"
#endif

namespace {

struct RoundTrip {
  bool parsed = false; // the original had no errors
  std::string tree;    // of the original
  std::string source;  // printed from the original
  std::string reparsed_tree;
  std::string reparse_errors;
  std::string reprinted_source; // printed from the re-parse
};

RoundTrip roundTrip(const std::string &path, const std::string &text) {
  RoundTrip rt;
  SourceManager sources;
  DiagnosticEngine diags(sources);
  ast::Module module = parseModule(sources.file(sources.add(path, text)), diags);
  if (diags.hasErrors()) {
    return rt;
  }
  rt.parsed = true;
  std::ostringstream tree, source;
  printAstTree(tree, module, sources, false);
  printSource(source, module);
  rt.tree = tree.str();
  rt.source = source.str();

  DiagnosticEngine diags2(sources);
  ast::Module again = parseModule(sources.file(sources.add("<printed>", rt.source)), diags2);
  std::ostringstream errors, tree2, source2;
  diags2.render(errors, false);
  printAstTree(tree2, again, sources, false);
  printSource(source2, again);
  rt.reparse_errors = errors.str();
  rt.reparsed_tree = tree2.str();
  rt.reprinted_source = source2.str();
  return rt;
}

void checkRoundTrip(const std::string &name, const std::string &text) {
  RoundTrip rt = roundTrip(name, text);
  INFO(name);
  REQUIRE(rt.parsed);
  INFO("printed source:\n" << rt.source);
  CHECK(rt.reparse_errors.empty());
  CHECK(rt.reparsed_tree == rt.tree);
  CHECK(rt.reprinted_source == rt.source);
}

std::string readFile(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("roundtrip: every error-free .cep file under tests/golden", "[roundtrip]") {
  namespace fs = std::filesystem;
  fs::path root = fs::path(CEP_SOURCE_DIR) / "tests" / "golden";
  REQUIRE(fs::is_directory(root));
  std::vector<fs::path> files;
  for (const auto &entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".cep") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::size_t checked = 0;
  for (const auto &file : files) {
    std::string text = readFile(file);
    RoundTrip rt = roundTrip(file.string(), text);
    if (!rt.parsed) {
      continue; // a case about syntax errors
    }
    ++checked;
    INFO(file.string());
    INFO("printed source:\n" << rt.source);
    CHECK(rt.reparse_errors.empty());
    CHECK(rt.reparsed_tree == rt.tree);
    CHECK(rt.reprinted_source == rt.source);
  }
  CHECK(checked > 0);
}

TEST_CASE("roundtrip: the spec's examples", "[roundtrip]") {
  // spec §1
  checkRoundTrip(
      "spec-1",
      R"(import "common.cep"            // path relative to the importing file; each file loaded once
const HIGH_RISK = ["NG", "KP", "RU"]
const LARGE     = 500.0
def speed_kmh(a: Login, b: Login) =
    haversine_km(a.lat, a.lon, b.lat, b.lon) / hours(b.ts - a.ts)

event Payment {
    card:     string
    amount:   float
    country:  string
    merchant: string?          // '?' : may be absent or null
    ts:       time             // the event-time field
}
)");
  // spec §3
  checkRoundTrip("spec-3", R"(pattern card_testing
    partition by card          // key; optional (no key = one global partition)
    within 10m                 // optional; whole-match time bound
    skip past last             // optional; after-match skip strategy (default: past last)
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
  // spec §7
  checkRoundTrip("spec-7", R"(// stateless: flag high-value payments for review
pattern high_value { p: Payment(amount > 100) }
emit HighRisk { card: p.card, amount: p.amount }

// velocity: more than 10 uses of a card within an hour
pattern velocity partition by card within 1h { p: Payment{11} }
emit Velocity { card: first(p).card, uses: count(p), total: sum(p.amount) }

// account takeover: new-device login, password reset, large withdrawal, each within 10m
pattern takeover partition by user within 30m {
    login: Login(new_device)
    -> reset: PasswordReset() within 10m
    -> cash: Withdrawal(amount > 1000) within 10m
}
emit Takeover { user: login.user, amount: cash.amount }

// impossible travel
pattern travel partition by user within 2h {
    a: Login() -> b: Login(speed_kmh(a, b) > 900)
}
emit ImpossibleTravel { user: a.user, from: a.country, to: b.country }

// absence: an order that is not paid within 15 minutes
pattern unpaid partition by order_id within 15m {
    o: Order() -> not Payment()
}
emit Unpaid { order: o.order_id, amount: o.total }
)");
}

TEST_CASE("roundtrip: literals print back exactly", "[roundtrip]") {
  checkRoundTrip("literals",
                 R"(const F = [1.0, 0.1, 2e-3, 1.5e+3, 1e300, 1e-300, 123456789.123456789, 5e-324]
const D = [1ms, 999ms, 1000ms, 60000ms, 90s, 3600s, 48h, 7d, 0s, 1_000ms]
const S = ["", "\"", "\\", "\n\t\r", "\/", "\u0001\u001f\u007f", "caf\u00e9 東京 \ud83d\ude00"]
const I = [0, 9223372036854775807, -1, - -1]
)");
}

TEST_CASE("roundtrip: parentheses are kept where precedence needs them", "[roundtrip]") {
  checkRoundTrip("parens", R"(const A = (a + b) * c - (d - e) - f / (g * h) % i
const B = not (a == b) and (c or d) or not not e
const C = (a < b) == (c in D) and (x is null) != (y is not null)
const E = -(a + b) + -c.d + (-e).f + (1).g + (2.5).h + (3s).i
const G = (a or b).c + f(a or b, [c and d])
const H = not (-a) and not (a in B) and not (a not in [1])
const J = a - (b - c) - (d + e) + (f + g)
)");
}

TEST_CASE("roundtrip: canonical printing of a pattern", "[roundtrip]") {
  SourceManager sources;
  DiagnosticEngine diags(sources);
  ast::Module m = parseModule(sources.file(sources.add("p.cep", R"(
pattern p partition by a, b skip to first x within 90000ms {
  x: X(v > 1.50){2,5} greedy until(v < 0) within 60s, not Y
  ->> z: Z()? optional -> w: W*
}
emit S { a: x.a
         b: 1d }
on timeout emit T {}
event E { a: int, b: list<string>? }
def f() = "a\tb"
import "x.cep"
)")),
                              diags);
  REQUIRE_FALSE(diags.hasErrors());
  std::ostringstream out;
  printSource(out, m);
  CHECK(out.str() == R"(pattern p
    partition by a, b
    within 90s
    skip to first x
{
    x: X(v > 1.5){2,5} greedy until(v < 0) within 1m,
    not Y
    ->> z: Z()? optional
    -> w: W*
}
emit S {
    a: x.a,
    b: 1d,
}
on timeout emit T {}

event E {
    a: int
    b: list<string>?
}

def f() = "a\tb"

import "x.cep"
)");
}
