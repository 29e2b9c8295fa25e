// The checker's bounds on what a few lines of rules can cost (docs/limits.md): the expansion of
// one def call, which nested defs multiply at every level.
#include "check_fixture_test.hpp"
#include "lang/check.hpp"
#include "lang/checker.hpp"
#include "lang/parse.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>
#include <string>

using namespace cep::lang;
using cep::lang::test::check;
using cep::lang::test::Checked;

namespace {

const char *kEvent = "event E {\n    x: int\n    ts: time\n}\n";

// `levels` defs, each calling the one before four times: f<k> is ~4^k nodes once inlined.
std::string nestedDefs(int levels, bool reversed = false) {
  std::vector<std::string> lines = {"def f0(x: int) = x + 1\n"};
  for (int k = 1; k <= levels; ++k) {
    std::string prev = "f";
    prev += std::to_string(k - 1) + "(x)";
    std::string line = "def f";
    line += std::to_string(k) + "(x: int) = " + prev;
    for (int i = 0; i < 3; ++i) {
      line += " + " + prev;
    }
    lines.push_back(line + "\n");
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += lines[reversed ? lines.size() - 1 - i : i];
  }
  return out;
}

std::string usingDef(int levels, bool reversed = false) {
  return std::string(kEvent) + nestedDefs(levels, reversed) + "pattern p { a: E(f" +
         std::to_string(levels) + "(x) > 0) }\nemit Out { x: a.x }\n";
}

} // namespace

TEST_CASE("a def call expanding past the limit is an error naming the limit and the chain",
          "[check][limits]") {
  // Before the limit, 10 levels checked clean into a 4.5M-node condition (3.5 s, 770 MB) and
  // 19 levels did not finish.
  for (int levels : {10, 19}) {
    auto c = check(usingDef(levels));
    std::string text = c->rendered();
    INFO(text);
    CHECK_FALSE(c->program.has_value());
    CHECK(c->diags.errorCount() == 1); // the first def too large; the ones above stay quiet
    CHECK(text.find("error: this call of `f7` expands to more than " +
                    std::to_string(kMaxDefExpansion) +
                    " expression nodes, the limit for one def call") != std::string::npos);
    CHECK(text.find("grows through `f7` -> `f6` -> `f5`") != std::string::npos);
    CHECK(text.find("f0.cep:13:18:") != std::string::npos); // f8's first call of f7
  }
}

TEST_CASE("the expansion limit holds when defs are checked from inside a call", "[check][limits]") {
  // Declared top-down, f10 is checked first and checks f9, f8, ... on its own from inside its
  // calls: each def's own check starts a fresh expansion.
  auto c = check(usingDef(10, true));
  std::string text = c->rendered();
  INFO(text);
  CHECK_FALSE(c->program.has_value());
  CHECK(c->diags.errorCount() == 1);
  CHECK(text.find("this call of `f7` expands to more than") != std::string::npos);
}

TEST_CASE("a def call under the expansion limit is inlined whole", "[check][limits]") {
  auto c = check(usingDef(5));
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  const typed::Expr &cond = *c->program->patterns[0].steps[0].condition;
  std::size_t size = expansionSize(cond);
  CHECK(size == 4097); // a tree: every call inlined, nothing shared (4^6 - 1, and `> 0`)
  CHECK(size <= kMaxExpressionNodes);
}

TEST_CASE("a list const counts its elements once per use", "[check][limits]") {
  std::string list = "[0";
  for (int i = 1; i < 30000; ++i) {
    list += ", " + std::to_string(i);
  }
  list += "]";
  std::string head = std::string(kEvent) + "const L = " + list + "\n";
  // Three uses (90,000 nodes) fit in one call; four (120,000) do not.
  auto ok = check(head + "def f(x: int) = x in L or x + 1 in L or x + 2 in L\n" +
                  "pattern p { a: E(f(x)) }\nemit Out { x: a.x }\n");
  INFO(ok->rendered());
  CHECK(ok->program.has_value());
  auto over = check(head + "def f(x: int) = x in L or x + 1 in L or x + 2 in L or x + 3 in L\n" +
                    "def g(x: int) = f(x)\npattern p { a: E(g(x)) }\nemit Out { x: a.x }\n");
  std::string text = over->rendered();
  INFO(text);
  CHECK_FALSE(over->program.has_value());
  CHECK(text.find("this call of `f` expands to more than") != std::string::npos);
}

namespace {

// One pattern of `n` steps `a<i>: E(x == <i>)`, as a hostile or generated rule file would have.
std::string longPattern(std::size_t n) {
  std::string out = std::string(kEvent) + "pattern p {\n    a0: E(x == 0)\n";
  for (std::size_t i = 1; i < n; ++i) {
    std::string index = std::to_string(i);
    out += "    -> a" + index + ": E(x == " + index + ")\n";
  }
  return out + "}\nemit Out { x: a0.x }\n";
}

} // namespace

TEST_CASE("a pattern may have kMaxPatternSteps steps, and no more", "[check][limits]") {
  auto ok = check(longPattern(kMaxPatternSteps));
  INFO(ok->rendered());
  REQUIRE(ok->program.has_value());
  CHECK(ok->program->patterns[0].steps.size() == kMaxPatternSteps);

  auto over = check(longPattern(kMaxPatternSteps + 1));
  std::string text = over->rendered();
  INFO(text);
  CHECK_FALSE(over->program.has_value());
  CHECK(over->diags.errorCount() == 1);
  CHECK(text.find("f0.cep:5:9: error: pattern `p` has " + std::to_string(kMaxPatternSteps + 1) +
                  " steps; the limit is " + std::to_string(kMaxPatternSteps)) != std::string::npos);
  CHECK(text.find("note: this is step " + std::to_string(kMaxPatternSteps + 1)) !=
        std::string::npos);
}

namespace {

// def f0 = x + 1 + ... (a chain of `terms` additions, 2 * terms + 1 nodes), f1 = f0(f0(x)), ...
std::string chainDefs(int terms, int levels) {
  std::string out = "def f0(x: int) = x";
  for (int i = 0; i < terms; ++i) {
    out += " + 1";
  }
  out += "\n";
  for (int k = 1; k <= levels; ++k) {
    std::string prev = "f";
    prev += std::to_string(k - 1);
    std::string line = "def f";
    line += std::to_string(k) + "(x: int) = " + prev + "(" + prev + "(x))\n";
    out += line;
  }
  return out;
}

} // namespace

TEST_CASE("an expression may have kMaxExpressionNodes nodes once defs are inlined",
          "[check][limits]") {
  // f1: 4 * 600 + 1 = 2,401 nodes; f2: 4,801; f3: 9,601 (with the comparison and literal: + 2).
  std::string head = std::string(kEvent) + chainDefs(600, 3);
  auto ok = check(head + "pattern p { a: E(f2(x) > 0) }\nemit Out { x: a.x }\n");
  INFO(ok->rendered());
  REQUIRE(ok->program.has_value());

  auto condition = check(head + "pattern p { a: E(f3(x) > 0) }\nemit Out { x: a.x }\n");
  std::string text = condition->rendered();
  INFO(text);
  CHECK_FALSE(condition->program.has_value());
  CHECK(condition->diags.errorCount() == 1);
  CHECK(text.find("f0.cep:9:18: error: this condition has 9603 nodes once its defs are "
                  "inlined; the limit is " +
                  std::to_string(kMaxExpressionNodes)) != std::string::npos);

  auto until =
      check(head + "pattern p { a: E()+ until(f3(x) > 0) -> b: E() }\n" + "emit Out { x: b.x }\n");
  CHECK(until->rendered().find("error: this condition has 9603 nodes") != std::string::npos);

  auto emit = check(head + "pattern p { a: E() }\nemit Out { x: f3(a.x) }\n");
  text = emit->rendered();
  INFO(text);
  CHECK_FALSE(emit->program.has_value());
  CHECK(text.find("error: the value of field `x` has 9601 nodes") != std::string::npos);
}
