// `test` declarations (proposed spec §10): their AST, the JSON reader of their records
// (lang/json_value.hpp), the typed form `cep test` runs (lang/check_tests.hpp) and the record
// comparison (cli/test_compare.hpp). Diagnostics with carets are covered by the golden cases
// tests/golden/check/test_*; `cep test` end to end by tests/e2e/cep_test.sh.
#include "check_fixture_test.hpp"
#include "cli/test_compare.hpp"
#include "lang/check_tests.hpp"
#include "lang/json_value.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace cep::lang;
using cep::lang::test::check;

namespace {

const char *kRules = R"(event Payment { card: string, amount: float, ts: time }
pattern big partition by card within 10m { a: Payment(amount > 1) -> b: Payment(amount > 100) }
emit Big { card: b.card, amount: b.amount, at: b.ts }
on timeout emit NoBig { card: a.card }
)";

std::vector<CheckedTest> testsOf(const std::string &text, std::string *errors = nullptr) {
  auto c = check(text);
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  auto tests = checkTests(c->modules, *c->program, c->sources, c->diags);
  if (errors) {
    *errors = c->rendered();
  }
  return tests;
}

} // namespace

TEST_CASE("test decl: parsed into the AST", "[tests]") {
  auto c = check(std::string(kRules) + R"(
test fires for big {
    options --max-delay 2s --with-events --at-end drop
    input {
        {"card":"c1","amount":5,"ts":0}
        {"card":"c1","amount":500,
         "ts":1000}
    }
    expect { {"card":"c1"} }
    expect late none
}
)");
  REQUIRE(c->modules[0].tests.size() == 1);
  const ast::Test &t = c->modules[0].tests[0];
  CHECK(t.name.name == "fires");
  REQUIRE(t.rules.size() == 1);
  CHECK(t.rules[0].name == "big");
  REQUIRE(t.options.size() == 3);
  CHECK(t.options[0].name == "--max-delay");
  CHECK(t.options[0].value == "2s");
  CHECK(t.options[1].name == "--with-events");
  CHECK(t.options[1].value.empty());
  CHECK(t.options[2].value == "drop");
  REQUIRE(t.inputs.size() == 1);
  REQUIRE(t.inputs[0].records.size() == 2);
  CHECK(t.inputs[0].records[1].text == "{\"card\":\"c1\",\"amount\":500,\n         \"ts\":1000}");
  REQUIRE(t.expects.size() == 1);
  CHECK(t.expects[0].records.size() == 1);
  REQUIRE(t.expects_late.size() == 1);
  CHECK(t.expects_late[0].none);
  // The test is no rule: the typed program has the pattern only.
  CHECK(c->program->patterns.size() == 1);
}

TEST_CASE("test decl: `test` is still a name elsewhere", "[tests]") {
  auto c = check("event E { test: int, ts: time }\npattern test { e: E(test > 1) }\n"
                 "emit T { test: e.test }\n");
  CHECK(c->program->patterns.size() == 1);
  CHECK(c->modules[0].tests.empty());
}

TEST_CASE("test decl: checked into what `cep test` runs", "[tests]") {
  std::string errors;
  auto tests = testsOf(std::string(kRules) + R"(
test fires {
    options --order sort --at-end drop
    input { {"card":"c1","amount":5,"ts":"2026-01-05T10:00:00Z"} }
    expect { {"card":"c1","amount":500,"at":"2026-01-05T10:00:01Z"} {"@timeout":true,"card":"c2"} }
    expect late { {"card":"c9","amount":1,"ts":0} }
}
test quiet for big { input { } expect none }
)",
                       &errors);
  INFO(errors);
  REQUIRE(tests.size() == 2);
  const CheckedTest &t = tests[0];
  CHECK(t.name == "fires");
  CHECK(t.file == "f0.cep");
  CHECK(t.rules == std::vector<std::string>{"big"});
  CHECK(t.options.order_sort);
  CHECK(t.options.at_end_drop);
  CHECK_FALSE(t.options.with_events);
  REQUIRE(t.input.size() == 1);
  REQUIRE(t.expected.size() == 2);
  CHECK(t.expected[0].stream == "Big");
  CHECK(t.expected[0].time_members == std::vector<std::string>{"@start", "@end", "at"});
  CHECK(t.expected[1].stream == "NoBig");
  CHECK(t.compare_late);
  CHECK(t.expected_late.size() == 1);
  CHECK(tests[1].expected.empty());
  CHECK_FALSE(tests[1].compare_late);
}

TEST_CASE("test decl: a test with errors is not returned", "[tests]") {
  std::string errors;
  auto tests = testsOf(std::string(kRules) + R"(
test bad for bigg { input { } expect none }
test bad2 { input { {"card":1} } expect { {"amount":"x"} } }
test good { input { } expect none }
)",
                       &errors);
  REQUIRE(tests.size() == 1);
  CHECK(tests[0].name == "good");
  CHECK(errors.find("unknown rule `bigg`") != std::string::npos);
  CHECK(errors.find("did you mean `big`?") != std::string::npos);
  CHECK(errors.find("field `card` of `Payment` is `string`, not a number") != std::string::npos);
  CHECK(errors.find("field `amount` of `Big` is `float`, not a string") != std::string::npos);
}

TEST_CASE("json: values, offsets and errors", "[tests][json]") {
  json::Value v;
  json::ParseError e;
  REQUIRE(json::parse(R"( {"a": [1, 2.5, -3e2], "b": {"c": null}, "s": "x\u00e9\n"} )", v, e));
  CHECK(v.kind == json::Kind::Object);
  REQUIRE(v.members.size() == 3);
  CHECK(v.members[0].key_begin == 2);
  const json::Value *a = v.find("a");
  REQUIRE(a);
  REQUIRE(a->items.size() == 3);
  CHECK(a->items[0].integer);
  CHECK(a->items[0].int_value == 1);
  CHECK_FALSE(a->items[1].integer);
  CHECK(a->items[2].number == -300.0);
  CHECK(v.find("s")->text == "x\xC3\xA9\n");
  std::string text = json::toText(v);
  CHECK(text.rfind(R"({"a":[1,2.5,-3e2],"b":{"c":null},"s":")", 0) == 0);

  struct Bad {
    const char *text;
    std::size_t offset;
    const char *message;
  };
  const Bad bad[] = {
      {R"({"a" 1})", 5, "expected `:` after the member name"},
      {R"({"a":1,})", 7, "expected a member name"},
      {R"({'a':1})", 1, "expected a member name in double quotes"},
      {R"({"a":01})", 5, "a JSON number has no leading zeros"},
      {R"({"a":1,"a":2})", 7, "member \"a\" is given twice"},
      {R"({"a":tru})", 5, "expected a JSON value"},
      {R"({"a":"\q"})", 6, "unknown escape"},
      {R"({"a":2s})", 6, "unexpected letter after a number"},
  };
  for (const Bad &b : bad) {
    INFO(b.text);
    CHECK_FALSE(json::parse(b.text, v, e));
    CHECK(e.offset == b.offset);
    CHECK(e.message.find(b.message) == 0);
  }
  std::string deep(100, '[');
  CHECK_FALSE(json::parse(deep, v, e));
  CHECK(e.message.find("nested too deeply") == 0);
}

TEST_CASE("cep test: expected records against written ones", "[tests][compare]") {
  auto tests = testsOf(std::string(kRules) + R"(
test t {
    input { }
    expect {
        {"card":"c1","amount":500}
        {"card":"c2","amount":7.5,"at":1767607201000}
    }
}
)");
  REQUIRE(tests.size() == 1);
  auto where = [](const SourceRange &r) { return "at" + std::to_string(r.begin); };
  const std::string c1 = R"({"@stream":"Big","@pattern":"big","card":"c1","amount":500.0,)"
                         R"("at":"2026-01-05T10:00:00.000Z"})";
  const std::string c2 = R"({"@stream":"Big","@pattern":"big","card":"c2","amount":7.5,)"
                         R"("at":"2026-01-05T10:00:01.000Z"})";
  const std::string c3 = R"({"@stream":"Big","@pattern":"big","card":"c2","amount":8.5,)"
                         R"("at":"2026-01-05T10:00:01.000Z"})";

  SECTION("equal in any order; numbers by value, times as instants") {
    auto diff = cep::cli::compareRecords(tests[0].expected, {c2, c1}, "record", where);
    CHECK(diff.equal);
    CHECK(diff.lines.empty());
  }
  SECTION("a differing field shows both values") {
    auto diff = cep::cli::compareRecords(tests[0].expected, {c1, c3}, "record", where);
    CHECK_FALSE(diff.equal);
    REQUIRE(diff.lines.size() == 3);
    CHECK(diff.lines[0].find("expected record 2 (at") == 0);
    CHECK(diff.lines[0].find("differs from the record written 2nd:") != std::string::npos);
    CHECK(diff.lines[1] == "  amount: expected 7.5, written 8.5");
    CHECK(diff.lines[2] == "  written: " + c3);
  }
  SECTION("missing and unexpected") {
    auto diff = cep::cli::compareRecords({tests[0].expected[0]}, {c1, c2}, "record", where);
    CHECK_FALSE(diff.equal);
    REQUIRE(diff.lines.size() == 2);
    CHECK(diff.lines[0] == "unexpected record written 2nd:");
    CHECK(diff.lines[1] == "  " + c2);
    diff = cep::cli::compareRecords(tests[0].expected, {}, "record", where);
    REQUIRE(diff.lines.size() == 4);
    CHECK(diff.lines[0].find("was not written:") != std::string::npos);
    CHECK(diff.lines[1] == R"(  {"card":"c1","amount":500})");
  }
}
