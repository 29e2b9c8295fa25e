// The interpreter's trace (compiler/interp/trace.hpp, docs/debugging.md) and the shadow matcher
// that checks the native engine against it (runtime/engine/shadow_matcher.hpp).
#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/interp/trace_writer.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "interp_fixture_test.hpp"
#include "runtime/engine/shadow_matcher.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace interp_test;
using cep::compiler::interp::TraceAction;
using cep::compiler::interp::TraceKind;
using cep::compiler::interp::TraceLog;
using cep::compiler::interp::TraceTarget;
using cep::runtime::ShadowMatcher;

std::string rules(const std::string &big) {
  return "event Payment { card: string, amount: float, time: time }\n"
         "pattern p partition by card within 10m {\n"
         "    s: Payment(amount < 1.0) , b: Payment(amount > " +
         big + ")\n}\nemit Alert { card: s.card, big: b.amount }\n";
}

const std::vector<std::string> kEvents = {
    R"({"@type":"Payment","card":"c1","amount":0.5,"time":0})",
    R"({"@type":"Payment","card":"c2","amount":0.5,"time":100})",
    R"({"@type":"Payment","card":"c1","amount":20.0,"time":1000})",
    R"({"@type":"Payment","card":"c1","amount":0.2,"time":2000})",
    R"({"@type":"Payment","card":"c2","amount":300.0,"time":2500})",
    R"({"@type":"Payment","card":"c1","amount":300.0,"time":3000})",
};

std::unique_ptr<cep::compiler::interp::InterpMatcher> traced(const Compiled &c, TraceLog &log,
                                                             bool only) {
  auto m = matcher(c, cep::compiler::lowerPattern(c.prog(), 0));
  TraceTarget target;
  target.sink = &log;
  target.keys = {"\"c1\""};
  target.sources = &c.sources;
  target.only_traced = only;
  m->setTrace(target);
  return m;
}

// Feeds `events` to `m` as the driver does (time first, then the event), then finishes.
std::vector<std::string> feed(cep::runtime::Matcher &m, const Compiled &c) {
  EventMaker maker(c.schema);
  std::vector<cep::runtime::MatchOutput> out;
  for (const std::string &json : kEvents) {
    auto e = maker.make(json);
    m.advanceTime(e->time, out);
    m.onEvent(e, out);
  }
  m.finish(out);
  std::vector<std::string> records;
  for (const auto &o : out) {
    records.push_back(o.json);
  }
  return records;
}

const TraceAction *find(const TraceLog &log, TraceKind kind, std::uint64_t seq) {
  for (const TraceAction &a : log.actions) {
    if (a.kind == kind && a.seq == seq) {
      return &a;
    }
  }
  return nullptr;
}

} // namespace

TEST_CASE("trace of one key: start, strict death with the values read, match", "[interp]") {
  auto c = compile(rules("500.0"));
  TraceLog log;
  auto m = traced(*c, log, false);
  feed(*m, *c);
  for (const TraceAction &a : log.actions) {
    CHECK(a.key == "\"c1\""); // c2 never shows
  }
  // #1 starts a run; #3 (20.0) is the strict next event: the run dies, b's condition false.
  REQUIRE(find(log, TraceKind::Start, 1) != nullptr);
  const TraceAction *die = find(log, TraceKind::Die, 3);
  REQUIRE(die != nullptr);
  CHECK(die->reason == "strict");
  CHECK(die->run.events == std::vector<std::uint64_t>{1});
  REQUIRE(die->checks.size() == 1);
  CHECK(die->checks[0].step == "b");
  CHECK_FALSE(die->checks[0].held);
  CHECK(die->checks[0].condition == "amount > 500.0");
  REQUIRE(die->checks[0].values.size() == 1);
  CHECK(die->checks[0].values[0].label == "amount");
  CHECK(die->checks[0].values[0].json == "20.0");
  // 20.0 starts nothing either: s's condition is false.
  const TraceAction *no_start = find(log, TraceKind::NoStart, 3);
  REQUIRE(no_start != nullptr);
  CHECK(no_start->checks.at(0).values.at(0).json == "20.0");
  // #6 (300.0) after #4 (0.2) with 500: strict death again, no match.
  CHECK(find(log, TraceKind::Match, 6) == nullptr);
  CHECK(find(log, TraceKind::Die, 6) != nullptr);
}

TEST_CASE("trace of one key: a completed run and its match record", "[interp]") {
  auto c = compile(rules("100.0"));
  TraceLog log;
  auto m = traced(*c, log, false);
  std::vector<std::string> records = feed(*m, *c);
  const TraceAction *take = find(log, TraceKind::Take, 6);
  REQUIRE(take != nullptr);
  CHECK(take->step == "b");
  CHECK(take->run.events == std::vector<std::uint64_t>{4});
  REQUIRE(find(log, TraceKind::Complete, 6) != nullptr);
  const TraceAction *match = find(log, TraceKind::Match, 6);
  REQUIRE(match != nullptr);
  // The record traced is the one written for c1 (c2 matches too, untraced).
  REQUIRE(records.size() == 2);
  CHECK(std::count(records.begin(), records.end(), match->record) == 1);
  CHECK(match->record.find("\"@key\":\"c1\"") != std::string::npos);
}

TEST_CASE("a shadow interpreter follows the traced key only", "[interp]") {
  auto c = compile(rules("100.0"));
  TraceLog log;
  auto m = traced(*c, log, true);
  std::vector<std::string> records = feed(*m, *c);
  CHECK(m->stats().events == 4); // c1's four events, none of c2's
  REQUIRE(records.size() == 1);
  CHECK(records[0].find("\"@key\":\"c1\"") != std::string::npos);
}

TEST_CASE("shadow matcher: agreeing engines, and a native matcher that disagrees", "[interp]") {
  auto same = compile(rules("100.0"));
  TraceLog log;
  {
    ShadowMatcher agree(matcher(*same, cep::compiler::lowerPattern(same->prog(), 0)),
                        traced(*same, log, true), {"\"c1\""});
    std::vector<std::string> records = feed(agree, *same);
    CHECK(records.size() == 2); // every key's records come from the "native" side
    CHECK(agree.compared() == 1);
    CHECK(agree.disagreements() == 0);
  }
  // A "native" matcher of another rule (b > 500): c1's match is missing on its side.
  auto other = compile(rules("500.0"));
  ShadowMatcher differ(matcher(*other, cep::compiler::lowerPattern(other->prog(), 0)),
                       traced(*same, log, true), {"\"c1\""});
  feed(differ, *same);
  CHECK(differ.disagreements() == 1);
  CHECK(differ.firstDifference().find("the interpreter wrote") != std::string::npos);
  CHECK(differ.firstDifference().find("\"@key\":\"c1\"") != std::string::npos);
}
