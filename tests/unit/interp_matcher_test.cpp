// The reference interpreter's matcher (compiler/interp/nfa_matcher.hpp) on NFAs built by hand:
// contiguity, loop counters, negation, absence, time bounds and timeouts, skip strategies and
// held matches, end of input, keyed state and statistics. Expected outputs are exact records.
#include "interp_fixture_test.hpp"

using namespace interp_test;
using nfa::EdgeKind;
using nfa::StateKind;

namespace {

// Events of one type with a key, a name and a value; `t` is the event time in ms.
const char *kEvents = "event E { k: string, id: int, name: string, v: int, t: time }\n";

std::string ev(const std::string &k, int id, const std::string &name, int v, std::int64_t t) {
  return R"({"k":")" + k + R"(","id":)" + std::to_string(id) + R"(,"name":")" + name + R"(","v":)" +
         std::to_string(v) + R"(,"t":)" + std::to_string(t) + "}";
}

// TypeIs(E) and the step's condition.
nfa::GuardPtr sat(const Compiled &c, const std::string &step, std::size_t pattern = 0) {
  return gAnd(gType(c.typeIndex("E")),
              gCond(c.condition(step, pattern), c.stepIndex(step, pattern)));
}

// The NFA of a pattern made of single steps only: each step TAKEs into the next, ignoring by its
// contiguity (`,` nothing, `->` what does not satisfy it, `->>` everything).
nfa::Nfa singletonChain(const Compiled &c, std::size_t pattern = 0) {
  NfaBuilder b(c, pattern);
  const auto &steps = c.pattern(pattern).steps;
  nfa::StateId next = b.state("$final", -1, StateKind::Final);
  for (std::size_t i = steps.size(); i-- > 0;) {
    nfa::StateId s = b.state(steps[i].name, static_cast<std::int32_t>(i));
    b.edge(s, EdgeKind::Take, next, sat(c, steps[i].name, pattern));
    if (i > 0) {
      switch (steps[i].contiguity) {
      case lang::ast::Contiguity::Relaxed:
        b.edge(s, EdgeKind::Ignore, s, gNot(sat(c, steps[i].name, pattern)));
        break;
      case lang::ast::Contiguity::NonDeterministic:
        b.edge(s, EdgeKind::Ignore, s, nullptr);
        break;
      case lang::ast::Contiguity::Strict:
        break;
      }
    }
    next = s;
  }
  return b.done(next);
}

std::string rec(const std::string &pattern, const std::string &key, const std::string &start,
                const std::string &end, const std::string &fields, bool timeout = false) {
  std::string r = R"({"@stream":"Out","@pattern":")" + pattern + R"(","@key":)" + key +
                  R"(,"@start":"1970-01-01T00:00:)" + start + R"(Z","@end":"1970-01-01T00:00:)" +
                  end + "Z\"";
  if (timeout) {
    r += R"(,"@timeout":true)";
  }
  return r + "," + fields + "}";
}

} // namespace

TEST_CASE("interp matcher: relaxed contiguity takes the first satisfying event", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p partition by k skip none {
    a: E(name == "a") -> b: E(name == "b" and v == a.v)
}
emit Out { a: a.id, b: b.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 1, 1000), ev("x", 2, "a", 2, 2000), ev("x", 3, "b", 3, 3000),
            ev("y", 4, "b", 1, 3500), ev("x", 5, "b", 2, 4000), ev("x", 6, "b", 1, 5000),
            ev("x", 7, "b", 1, 6000)});
  d.finish();
  CHECK(d.lines == std::vector<std::string>{
                       rec("p", "\"x\"", "02.000", "04.000", R"("a":2,"b":5)"),
                       rec("p", "\"x\"", "01.000", "05.000", R"("a":1,"b":6)"),
                   });
  CHECK(m->stats().live_keys == 0);
  CHECK(m->stats().live_runs == 0);
  CHECK(m->liveNodes() == 0);
}

TEST_CASE("interp matcher: non-deterministic relaxed contiguity forks", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p skip none {
    a: E(name == "a") ->> b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 0, 1000), ev("x", 2, "b", 0, 2000), ev("x", 3, "a", 0, 3000),
            ev("x", 4, "b", 0, 4000)});
  CHECK(d.lines == std::vector<std::string>{
                       rec("p", "null", "01.000", "02.000", R"("a":1,"b":2)"),
                       rec("p", "null", "01.000", "04.000", R"("a":1,"b":4)"),
                       rec("p", "null", "03.000", "04.000", R"("a":3,"b":4)"),
                   });
  CHECK(m->stats().live_runs == 2); // both `a` runs keep waiting
  d.finish();
  CHECK(m->stats().live_runs == 0);
  CHECK(m->liveNodes() == 0);
}

TEST_CASE("interp matcher: strict contiguity needs the very next event", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p partition by k skip none {
    a: E(name == "a") , b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 0, 1000), ev("y", 2, "c", 0, 1500), ev("x", 3, "c", 0, 2000),
            ev("x", 4, "b", 0, 3000), ev("x", 5, "a", 0, 4000), ev("y", 6, "c", 0, 4500),
            ev("x", 7, "b", 0, 5000)});
  d.finish();
  // Another key's event does not break x's contiguity; x's own `c` does.
  CHECK(d.lines == std::vector<std::string>{
                       rec("p", "\"x\"", "04.000", "05.000", R"("a":5,"b":7)"),
                   });
}

TEST_CASE("interp matcher: loop counters ({2,3} consecutive) and skip to first/last", "[interp]") {
  for (const char *skip : {"skip none", "skip to first s", "skip to last s", "skip past last"}) {
    auto c = compile(std::string(kEvents) + "pattern p " + skip + R"( {
    s: E(name == "s"){2,3} consecutive , c: E(name == "c")
}
emit Out { n: count(s), first: first(s).id, c: c.id }
)");
    // s: first event -> s:loop (counter 1); s:loop takes while counter < 2, leaves with the
    // 3rd, proceeds to c once counter >= 2; c: strict, to $final.
    NfaBuilder b(*c);
    nfa::StateId fin = b.state("$final", -1, StateKind::Final);
    nfa::StateId cs = b.state("c", 1);
    b.edge(cs, EdgeKind::Take, fin, sat(*c, "c"));
    nfa::StateId lp = b.state("s:loop", 0);
    b.edge(lp, EdgeKind::Take, lp, gAnd(sat(*c, "s"), gBelow(2)), true);
    b.edge(lp, EdgeKind::Take, cs, gAnd(sat(*c, "s"), gAtLeast(2)), true);
    b.edge(lp, EdgeKind::Proceed, cs, gAtLeast(2));
    nfa::StateId s = b.state("s", 0);
    b.edge(s, EdgeKind::Take, lp, sat(*c, "s"), true);
    auto m = matcher(*c, b.done(s));
    EventMaker events(c->schema);
    Driver d(*m, events);
    d.events({ev("x", 1, "s", 0, 1000), ev("x", 2, "s", 0, 2000), ev("x", 3, "s", 0, 3000),
              ev("x", 4, "c", 0, 4000), ev("x", 5, "s", 0, 5000), ev("x", 6, "c", 0, 6000)});
    d.finish();
    auto all = rec("p", "null", "01.000", "04.000", R"("n":3,"first":1,"c":4)");
    auto second = rec("p", "null", "02.000", "04.000", R"("n":2,"first":2,"c":4)");
    INFO(skip);
    if (std::string(skip) == "skip none" || std::string(skip) == "skip to first s") {
      // to first s: after {1 2 3 | 4}, only what started before 1 is dropped.
      CHECK(d.lines == std::vector<std::string>{all, second});
    } else {
      // to last s: what started before 3 goes ({2 3 | 4}); past last: before or at 4.
      CHECK(d.lines == std::vector<std::string>{all});
    }
    CHECK(m->liveNodes() == 0);
  }
}

TEST_CASE("interp matcher: skip strategies on ->> (docs/language.md §8 example 2)", "[interp]") {
  struct Case {
    const char *skip;
    std::vector<std::string> ids;
  };
  for (const Case &k : {Case{"skip none", {"1,3", "2,3", "1,4", "2,4"}},
                        Case{"skip to next", {"1,3", "2,3"}}, Case{"skip past last", {"1,3"}},
                        Case{"skip to first b", {"1,3"}}, Case{"skip to last b", {"1,3"}}}) {
    auto c2 = compile(std::string(kEvents) + "pattern p " + k.skip + R"( {
    a: E(name == "a") ->> b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
)");
    auto m = matcher(*c2, singletonChain(*c2));
    EventMaker events(c2->schema);
    Driver d(*m, events);
    d.events({ev("x", 1, "a", 0, 1000), ev("x", 2, "a", 0, 2000), ev("x", 3, "b", 0, 3000),
              ev("x", 4, "b", 0, 4000)});
    d.finish();
    std::vector<std::string> got;
    for (const auto &line : d.lines) {
      auto a = line.find("\"a\":");
      auto b = line.find(",\"b\":");
      got.push_back(line.substr(a + 4, b - a - 4) + "," + line.substr(b + 5, line.size() - b - 6));
    }
    INFO(k.skip);
    CHECK(got == k.ids);
  }
}

TEST_CASE("interp matcher: held matches wait for earlier partial matches", "[interp]") {
  // docs/semantics.md §5: {a2 b2} completes first but waits for the run of a1.
  auto c = compile(std::string(kEvents) + R"(
pattern p skip to next {
    a: E(name == "a") -> b: E(name == "b" and v == a.v)
}
emit Out { a: a.id, b: b.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 1, 1000), ev("x", 2, "a", 2, 2000), ev("x", 3, "b", 2, 3000)});
  CHECK(d.lines.empty()); // held behind the run started at 1000
  CHECK(m->stats().live_runs == 1);
  d.event(ev("x", 4, "b", 1, 4000));
  // Released at 4000, in start order; skip to next drops nothing else here.
  CHECK(d.lines == std::vector<std::string>{
                       rec("p", "null", "01.000", "04.000", R"("a":1,"b":4)"),
                       rec("p", "null", "02.000", "03.000", R"("a":2,"b":3)"),
                   });
}

TEST_CASE("interp matcher: a run that started at the same event does not hold a match",
          "[interp]") {
  // `->>` keeps the run of a1 waiting after {a1 b2}: it started at the match's own start, so
  // the match is released at once (Flink releases when start <= the earliest partial's start).
  auto c = compile(std::string(kEvents) + R"(
pattern p skip to next {
    a: E(name == "a") ->> b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 0, 1000), ev("x", 2, "b", 0, 2000)});
  CHECK(d.lines ==
        std::vector<std::string>{rec("p", "null", "01.000", "02.000", R"("a":1,"b":2)")});
  CHECK(m->stats().live_runs == 0); // skip to next pruned the run of a1
}

TEST_CASE("interp matcher: a held match is released when the earlier run times out", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p within 10s {
    a: E(name == "a") -> b: E(name == "b" and v == a.v)
}
emit Out { a: a.id, b: b.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  std::vector<cep::runtime::MatchOutput> out;
  d.events({ev("x", 1, "a", 1, 1000), ev("x", 2, "a", 2, 2000), ev("x", 3, "b", 2, 3000)});
  CHECK(d.lines.empty());
  m->advanceTime(10999, out);
  CHECK(out.empty());
  m->advanceTime(20000, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].json == rec("p", "null", "02.000", "03.000", R"("a":2,"b":3)"));
  CHECK(out[0].completion_time == 11000); // the deadline of the run that held it
  CHECK(out[0].time_driven);
  CHECK(out[0].start_time == 2000);
  REQUIRE(out[0].events.size() == 2);
  CHECK(out[0].events[0].seq == 1);
  CHECK(out[0].events[1].seq == 2);
  CHECK(m->stats().live_keys == 0);
  CHECK(m->liveNodes() == 0);
}

TEST_CASE("interp matcher: `-> not` kills a run through the stop state", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p partition by k skip none {
    a: E(name == "a") -> not n: E(name == "n" and v == a.v) -> b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
)");
  // a TAKE -> b; b: TAKE -> $final, IGNORE what is not a b, PROCEED -> $stop:n on an n.
  NfaBuilder bld(*c);
  nfa::StateId fin = bld.state("$final", -1, StateKind::Final);
  nfa::StateId stop = bld.state("$stop:n", -1, StateKind::Stop);
  nfa::StateId bs = bld.state("b", 2);
  bld.edge(bs, EdgeKind::Take, fin, sat(*c, "b"));
  bld.edge(bs, EdgeKind::Ignore, bs, gNot(sat(*c, "b")));
  bld.edge(bs, EdgeKind::Proceed, stop, sat(*c, "n"));
  nfa::StateId as = bld.state("a", 0);
  bld.edge(as, EdgeKind::Take, bs, sat(*c, "a"));
  auto m = matcher(*c, bld.done(as));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 1, 1000), ev("x", 2, "a", 2, 1500), ev("x", 3, "n", 1, 2000),
            ev("x", 4, "b", 0, 3000)});
  d.finish();
  CHECK(d.lines == std::vector<std::string>{
                       rec("p", "\"x\"", "01.500", "03.000", R"("a":2,"b":4)"),
                   });
}

TEST_CASE("interp matcher: absence completes at the deadline ($pending)", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p partition by k within 10s {
    o: E(name == "o") -> not p: E(name == "p")
}
emit Out { o: o.id }
)");
  NfaBuilder bld(*c);
  nfa::StateId stop = bld.state("$stop:p", -1, StateKind::Stop);
  nfa::StateId pend = bld.state("$pending", -1, StateKind::Pending);
  bld.edge(pend, EdgeKind::Ignore, pend, gNot(sat(*c, "p")));
  bld.edge(pend, EdgeKind::Proceed, stop, sat(*c, "p"));
  nfa::StateId os = bld.state("o", 0);
  bld.edge(os, EdgeKind::Take, pend, sat(*c, "o"));
  bld.state("$final", -1, StateKind::Final);
  auto m = matcher(*c, bld.done(os));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "o", 0, 0), ev("y", 2, "o", 0, 5000), ev("x", 3, "p", 0, 8000),
            ev("z", 4, "o", 0, 9000), ev("y", 5, "p", 0, 15000)});
  // y's payment at 15000 is at its deadline: outside the window, the absence fired first.
  CHECK(d.lines == std::vector<std::string>{
                       rec("p", "\"y\"", "05.000", "05.000", R"("o":2)"),
                   });
  d.finish();
  CHECK(d.lines.back() == rec("p", "\"z\"", "09.000", "09.000", R"("o":4)"));
  CHECK(d.lines.size() == 2);
}

TEST_CASE("interp matcher: within and on timeout emit", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p partition by k within 10s {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
on timeout emit Late { a: a.id, b: b.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 0, 0), ev("y", 2, "a", 0, 1000), ev("y", 3, "b", 0, 10999),
            ev("x", 4, "b", 0, 11000)});
  d.finish();
  CHECK(
      d.lines ==
      std::vector<std::string>{
          R"({"@stream":"Late","@pattern":"p","@key":"x","@start":"1970-01-01T00:00:00.000Z","@end":"1970-01-01T00:00:10.000Z","@timeout":true,"a":1,"b":null})",
          rec("p", "\"y\"", "01.000", "10.999", R"("a":2,"b":3)"),
      });
  CHECK(m->stats().timeouts == 1);
  CHECK(m->stats().matches == 1);
  CHECK(m->stats().events == 4);
}

TEST_CASE("interp matcher: `, not` at the end completes at the next event or at the end",
          "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p partition by k {
    a: E(name == "a") , not n: E(name == "n")
}
emit Out { a: a.id }
)");
  NfaBuilder bld(*c);
  nfa::StateId fin = bld.state("$final", -1, StateKind::Final);
  nfa::StateId stop = bld.state("$stop:n", -1, StateKind::Stop);
  nfa::StateId ns = bld.state("n", 1);
  bld.edge(ns, EdgeKind::Ignore, fin, gNot(sat(*c, "n")));
  bld.edge(ns, EdgeKind::Proceed, stop, sat(*c, "n"));
  bld.at(ns).completes_at_end = true;
  nfa::StateId as = bld.state("a", 0);
  bld.edge(as, EdgeKind::Take, ns, sat(*c, "a"));
  auto m = matcher(*c, bld.done(as));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 0, 1000), ev("x", 2, "n", 0, 2000), ev("y", 3, "a", 0, 3000),
            ev("y", 4, "q", 0, 4000), ev("x", 5, "a", 0, 5000)});
  CHECK(d.lines == std::vector<std::string>{rec("p", "\"y\"", "03.000", "03.000", R"("a":3)")});
  std::vector<cep::runtime::MatchOutput> out;
  m->finish(out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].json == rec("p", "\"x\"", "05.000", "05.000", R"("a":5)"));
  CHECK(out[0].completion_time == cep::runtime::kEndOfTime);
}

TEST_CASE("interp matcher: a stop state discards the run's other branches", "[interp]") {
  // `a ->> b` where the b state also stops on an `n`: the event that is both completes the
  // match (it still counts, as in Flink) but kills the waiting branch.
  auto c = compile(std::string(kEvents) + R"(
pattern p skip none {
    a: E(name == "a") ->> b: E(v == 1)
}
emit Out { a: a.id, b: b.id }
)");
  NfaBuilder bld(*c);
  nfa::StateId fin = bld.state("$final", -1, StateKind::Final);
  nfa::StateId stop = bld.state("$stop", -1, StateKind::Stop);
  nfa::StateId bs = bld.state("b", 1);
  bld.edge(bs, EdgeKind::Take, fin, sat(*c, "b"));
  bld.edge(bs, EdgeKind::Ignore, bs, nullptr);
  bld.edge(bs, EdgeKind::Proceed, stop,
           gAnd(gType(c->typeIndex("E")), gCond(c->condition("a"), 0))); // another `a`
  nfa::StateId as = bld.state("a", 0);
  bld.edge(as, EdgeKind::Take, bs, sat(*c, "a"));
  auto m = matcher(*c, bld.done(as));
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({ev("x", 1, "a", 0, 1000), ev("x", 2, "b", 1, 2000), ev("x", 3, "a", 1, 3000),
            ev("x", 4, "b", 1, 4000)});
  d.finish();
  CHECK(d.lines == std::vector<std::string>{
                       rec("p", "null", "01.000", "02.000", R"("a":1,"b":2)"),
                       rec("p", "null", "01.000", "03.000", R"("a":1,"b":3)"),
                       rec("p", "null", "03.000", "04.000", R"("a":3,"b":4)"),
                   });
}

TEST_CASE("interp matcher: --with-events and composite keys", "[interp]") {
  auto c = compile(R"(
event E { k: string, j: int, id: int, name: string, v: int, t: time }
pattern p partition by k, j {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { a: a.id }
)");
  auto m = matcher(*c, singletonChain(*c), true);
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({R"({"k":"x","j":1,"id":1,"name":"a","v":0,"t":1000})",
            R"({"k":"x","j":2,"id":2,"name":"b","v":0,"t":2000})",
            R"({"k":"x", "j":1,"id":3,"name":"b","v":0,"t":3000,"extra":[1]})"});
  CHECK(
      d.lines ==
      std::vector<std::string>{
          R"({"@stream":"Out","@pattern":"p","@key":["x",1],"@start":"1970-01-01T00:00:01.000Z","@end":"1970-01-01T00:00:03.000Z","a":1,"@events":{"a":[{"k":"x","j":1,"id":1,"name":"a","v":0,"t":1000}],"b":[{"k":"x", "j":1,"id":3,"name":"b","v":0,"t":3000,"extra":[1]}]}})",
      });
}

TEST_CASE("interp matcher: keys and runs are freed as runs die, statistics", "[interp]") {
  auto c = compile(std::string(kEvents) + R"(
pattern p partition by k within 5s {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { a: a.id }
)");
  auto m = matcher(*c, singletonChain(*c));
  EventMaker events(c->schema);
  Driver d(*m, events);
  for (int i = 0; i < 100; ++i) {
    d.event(ev("k" + std::to_string(i), i, "a", 0, 1000 + i));
  }
  auto s = m->stats();
  CHECK(s.live_keys == 100);
  CHECK(s.live_runs == 100);
  CHECK(s.bound_events == 100);
  CHECK(s.state_bytes > 0);
  d.event(ev("k7", 200, "b", 0, 2000));
  CHECK(m->stats().live_keys == 99);
  d.event(ev("k8", 201, "c", 0, 7000)); // time passes every deadline
  s = m->stats();
  CHECK(s.live_keys == 0);
  CHECK(s.live_runs == 0);
  CHECK(s.bound_events == 0);
  CHECK(s.state_bytes == 0);
  CHECK(s.peak_keys == 100);
  CHECK(s.peak_runs == 100);
  CHECK(s.peak_bound_events == 100);
  CHECK(s.peak_state_bytes > 0);
  CHECK(s.events == 102);
  CHECK(s.matches == 1);
  CHECK(d.lines.size() == 1);
}

TEST_CASE("interp matcher: events of types the pattern does not use are not seen", "[interp]") {
  auto c = compile(R"(
event A { id: int, t: time }
event B { id: int, t: time }
event C { id: int, t: time }
pattern p { a: A , b: B }
emit Out { a: a.id, b: b.id }
)");
  NfaBuilder bld(*c);
  nfa::StateId fin = bld.state("$final", -1, StateKind::Final);
  nfa::StateId bs = bld.state("b", 1);
  bld.edge(bs, EdgeKind::Take, fin, gType(c->typeIndex("B")));
  nfa::StateId as = bld.state("a", 0);
  bld.edge(as, EdgeKind::Take, bs, gType(c->typeIndex("A")));
  auto m = matcher(*c, bld.done(as));
  CHECK(m->eventTypes() == std::vector<std::uint32_t>{0, 1});
  CHECK(m->patternName() == "p");
  EventMaker events(c->schema);
  Driver d(*m, events);
  d.events({R"({"@type":"A","id":1,"t":1})", R"({"@type":"C","id":2,"t":2})",
            R"({"@type":"B","id":3,"t":3})"});
  CHECK(
      d.lines ==
      std::vector<std::string>{
          R"({"@stream":"Out","@pattern":"p","@key":null,"@start":"1970-01-01T00:00:00.001Z","@end":"1970-01-01T00:00:00.003Z","a":1,"b":3})",
      });
}
