// The interpreter on lowered NFAs (compiler/lower): the worked examples of docs/language.md
// (quantifier and modifier table, greedy, skip strategies), iterative conditions, negation,
// absence and time bounds. A match is written as the arrival numbers (1-based) of its events.
#include "compiler/lower/lower_pattern.hpp"
#include "interp_fixture_test.hpp"

using namespace interp_test;

namespace {

const char *kPayment = "event Payment { card: string, amount: float, declined: bool?, ts: time }\n";

std::string pay(double amount, std::int64_t ts, const std::string &card = "c1") {
  return R"({"@type":"Payment","card":")" + card + R"(","amount":)" + std::to_string(amount) +
         R"(,"ts":)" + std::to_string(ts) + "}";
}

// Runs the program's first pattern over `events`; one string per output record, in output
// order: "T " for a timeout, then the arrival numbers of its events.
std::vector<std::string> matches(const std::string &program,
                                 const std::vector<std::string> &events) {
  auto c = compile(program);
  auto m = matcher(*c, cep::compiler::lowerPattern(c->prog(), 0));
  EventMaker maker(c->schema);
  std::vector<cep::runtime::MatchOutput> out;
  std::vector<std::string> result;
  std::int64_t time = INT64_MIN;
  auto flush = [&] {
    std::stable_sort(out.begin(), out.end(), cep::runtime::MatchOutput::before);
    for (const auto &o : out) {
      std::string s = o.json.find("\"@timeout\":true") != std::string::npos ? "T" : "";
      for (const auto &p : o.events) {
        s += (s.empty() ? "" : " ") + std::to_string(p.seq + 1);
      }
      result.push_back(s);
    }
    out.clear();
  };
  for (const auto &json : events) {
    auto e = maker.make(json);
    if (e->time > time) {
      time = e->time;
      m->advanceTime(time, out);
      flush();
    }
    m->onEvent(e, out);
    flush();
  }
  m->finish(out);
  flush();
  CHECK(m->liveNodes() == 0);
  CHECK(m->stats().live_keys == 0);
  return result;
}

std::vector<std::string> startingAt(const std::vector<std::string> &all, const std::string &first) {
  std::vector<std::string> out;
  for (const auto &m : all) {
    if (m.substr(0, m.find(' ')) == first) {
      out.push_back(m);
    }
  }
  return out;
}

using Lines = std::vector<std::string>;

} // namespace

TEST_CASE("interp lowered: the quantifier and modifier table of docs/language.md 7.4", "[interp]") {
  struct Row {
    const char *q;
    Lines from_first; // matches beginning at #1, in output order
    bool alone;       // plus big #5 alone
  };
  const Row rows[] = {
      {"", {"1 5"}, false},
      {"?", {"1 5"}, true},
      {"+", {"1 2 4 5", "1 2 5", "1 5"}, false},
      {"*", {"1 2 4 5", "1 2 5", "1 5"}, true},
      {"{2}", {"1 2 5"}, false},
      {"{2,}", {"1 2 4 5", "1 2 5"}, false},
      {"{1,2}", {"1 2 5", "1 5"}, false},
      {"{0,2}", {"1 2 5", "1 5"}, true},
      {"+ consecutive", {"1 2 5", "1 5"}, false},
      {"+ combinations", {"1 2 4 5", "1 2 5", "1 4 5", "1 5"}, false},
      {"+ until(amount > 10.00)", {"1 2 5", "1 5"}, false},
      {"{2,} optional", {"1 2 4 5", "1 2 5"}, true},
  };
  for (const Row &row : rows) {
    INFO("quantifier: " << row.q);
    auto all = matches(std::string(kPayment) + "pattern p partition by card skip none {\n" +
                           "    s: Payment(amount < 1.00)" + row.q +
                           " -> big: Payment(amount > 500.00)\n}\nemit Out { c: big.card }\n",
                       {pay(0.50, 1), pay(0.80, 2), pay(42.0, 3), pay(0.30, 4), pay(900.0, 5)});
    CHECK(startingAt(all, "1") == row.from_first);
    CHECK((startingAt(all, "5") == Lines{"5"}) == row.alone);
  }
}

TEST_CASE("interp lowered: greedy keeps events in the loop (docs/language.md 7.4)", "[interp]") {
  std::vector<std::string> events{pay(10, 1), pay(60, 2), pay(70, 3), pay(500, 4)};
  auto program = [](const char *greedy) {
    return std::string(kPayment) + "pattern p partition by card skip none {\n" +
           "    s: Payment(amount < 100.0)+ " + greedy + " -> big: Payment(amount > 50.0)\n}\n" +
           "emit Out { c: big.card }\n";
  };
  CHECK(startingAt(matches(program(""), events), "1") == Lines{"1 2", "1 2 3", "1 2 3 4"});
  CHECK(startingAt(matches(program("greedy"), events), "1") == Lines{"1 2 3 4"});
  // With the default skip, greedy gives exactly one match.
  auto skip_default = program("greedy");
  skip_default.replace(skip_default.find(" skip none"), 10, "");
  CHECK(matches(skip_default, events) == Lines{"1 2 3 4"});
}

TEST_CASE("interp lowered: skip strategies, worked example 1 (docs/language.md 8)", "[interp]") {
  auto run = [](const char *skip) {
    std::vector<std::string> events;
    bool declined[] = {true, true, true, false, true, false};
    for (int i = 0; i < 6; ++i) {
      events.push_back(R"({"@type":"Payment","card":"c1","amount":1.0,"declined":)" +
                       std::string(declined[i] ? "true" : "false") + R"(,"ts":)" +
                       std::to_string(36000000 + 60000 * i) + "}");
    }
    return matches(std::string(kPayment) + "pattern retry_until_ok partition by card within 10m " +
                       skip + R"( {
    d: Payment(declined) -> r: Payment(declined)+ consecutive , ok: Payment(not declined)
}
emit Out { c: d.card }
)",
                   events);
  };
  CHECK(run("skip none") == Lines{"1 2 3 4", "2 3 4", "3 5 6"});
  CHECK(run("skip to next") == Lines{"1 2 3 4", "2 3 4", "3 5 6"});
  CHECK(run("skip past last") == Lines{"1 2 3 4"});
  CHECK(run("skip to first r") == Lines{"1 2 3 4", "2 3 4", "3 5 6"});
  CHECK(run("skip to last r") == Lines{"1 2 3 4", "3 5 6"});
}

TEST_CASE("interp lowered: skip strategies, worked example 2 (docs/language.md 8)", "[interp]") {
  auto run = [](const char *skip) {
    return matches(R"(
event Login { user: string, ts: time }
event Payment { user: string, amount: float, ts: time }
pattern login_then_large partition by user within 1h )" +
                       std::string(skip) + R"( {
    a: Login() ->> big: Payment(amount > 500.0)
}
emit Out { u: a.user }
)",
                   {R"({"@type":"Login","user":"u","ts":32400000})",
                    R"({"@type":"Payment","user":"u","amount":600.0,"ts":32460000})",
                    R"({"@type":"Payment","user":"u","amount":700.0,"ts":32520000})"});
  };
  CHECK(run("skip none") == Lines{"1 2", "1 3"});
  for (const char *skip :
       {"skip to next", "skip past last", "skip to first big", "skip to last big"}) {
    INFO(skip);
    CHECK(run(skip) == Lines{"1 2"});
  }
}

TEST_CASE("interp lowered: iterative conditions see the events accepted so far", "[interp]") {
  // Each payment bigger than the one before, three or more, then a refund-sized one.
  auto all = matches(std::string(kPayment) + R"(
pattern rising partition by card skip none {
    s: Payment(count(s) == 0 or amount > last(s).amount){3,} -> e: Payment(amount < 0.0)
}
emit Out { n: count(s) }
)",
                     {pay(1, 1), pay(2, 2), pay(1.5, 3), pay(3, 4), pay(-1, 5)});
  // From #1: 1 < 2 < 3 (1.5 is passed over by the relaxed loop); from #2: 2 < 3 is too short;
  // from #3: 1.5 < 3 is too short.
  CHECK(all == Lines{"1 2 4 5"});
  // A running sum that must stay under 10.
  auto sums = matches(std::string(kPayment) + R"(
pattern budget partition by card skip none {
    s: Payment(sum(s.amount) + amount < 10.0){2,} consecutive , e: Payment(amount < 0.0)
}
emit Out { n: count(s) }
)",
                      {pay(4, 1), pay(5, 2), pay(3, 3), pay(-1, 4)});
  CHECK(sums == Lines{"2 3 4"}); // 4 + 5 + 3 is too much; 5 + 3 fits
}

TEST_CASE("interp lowered: negation and absence", "[interp]") {
  const std::string types = R"(
event Order { id: string, total: float, ts: time }
event Pay { id: string, amount: float, ts: time }
event Ship { id: string, ts: time }
)";
  auto order = [](const char *id, std::int64_t ts) {
    return R"({"@type":"Order","id":")" + std::string(id) + R"(","total":20.0,"ts":)" +
           std::to_string(ts) + "}";
  };
  auto payment = [](const char *id, double amount, std::int64_t ts) {
    return R"({"@type":"Pay","id":")" + std::string(id) + R"(","amount":)" +
           std::to_string(amount) + R"(,"ts":)" + std::to_string(ts) + "}";
  };
  auto ship = [](const char *id, std::int64_t ts) {
    return R"({"@type":"Ship","id":")" + std::string(id) + R"(","ts":)" + std::to_string(ts) + "}";
  };
  // -> not in the middle: a full payment between order and shipping kills the run.
  CHECK(matches(types + R"(
pattern shipped_unpaid partition by id {
    o: Order() -> not Pay(amount >= o.total) -> s: Ship()
}
emit Out { id: o.id }
)",
                {order("a", 1000), order("b", 1000), payment("a", 5, 2000), payment("b", 20, 2000),
                 ship("a", 3000), ship("b", 3000)}) == Lines{"1 5"});
  // , not: the event right after the order must not be a payment.
  CHECK(matches(types + R"(
pattern not_paid_first partition by id {
    o: Order() , not Pay() -> s: Ship()
}
emit Out { id: o.id }
)",
                {order("a", 1000), order("b", 1000), payment("a", 5, 2000), ship("b", 2500),
                 ship("a", 3000)}) == Lines{"2 4"});
  // Absence with a window: completes at the deadline unless paid before it.
  CHECK(matches(types + R"(
pattern unpaid partition by id within 15m {
    o: Order() -> not Pay()
}
emit Out { id: o.id }
)",
                {order("a", 0), order("b", 60000), payment("a", 1, 899999), payment("b", 1, 960000),
                 order("c", 2000000)}) == Lines{"2", "5"});
}

TEST_CASE("interp lowered: time bounds and timeouts", "[interp]") {
  const std::string types = R"(
event A { k: string, ts: time }
event B { k: string, ts: time }
event C { k: string, ts: time }
)";
  auto e = [](const char *type, const char *k, std::int64_t ts) {
    return R"({"@type":")" + std::string(type) + R"(","k":")" + k + R"(","ts":)" +
           std::to_string(ts) + "}";
  };
  auto out =
      matches(types + R"(
pattern abc partition by k within 8s {
    a: A() -> b: B() within 5s -> c: C() within 5s
}
emit Out { k: a.k }
on timeout emit Late { k: a.k }
)",
              {e("A", "k1", 0), e("A", "k2", 0), e("A", "k3", 0), e("A", "k4", 0),
               e("B", "k3", 1000), e("B", "k2", 2000), e("B", "k1", 4000), e("B", "k4", 5000),
               e("C", "k3", 5999), e("C", "k2", 7500), e("C", "k1", 8500)});
  // k4 times out at 5000 (b's bound), k3 matches, k2 at 7000 (c's bound), k1 at 8000 (within).
  CHECK(out == Lines{"T 4", "3 5 9", "T 2 6", "T 1 7"});
}

TEST_CASE("interp lowered: a step bound reached by skipping an optional step", "[interp]") {
  const std::string program = R"(
event A { ts: time }
event B { ok: bool, ts: time }
event C { ts: time }
pattern p {
    a: A() -> b: B(ok)? -> c: C() within 5s
}
emit Out { t: a.ts }
on timeout emit Late { t: a.ts }
)";
  auto e = [](const char *type, std::int64_t ts) {
    return R"({"@type":")" + std::string(type) + R"(","ts":)" + std::to_string(ts) + "}";
  };
  // In time: `b` skipped, `c` taken.
  CHECK(matches(program, {e("A", 0), e("C", 3000)}) == Lines{"1 2"});
  // Too late for `c` (spec §3.2: c.ts - a.ts < 5s), although the run waited in `b`'s state,
  // which has no bound of its own; Flink, which checks bounds only when time advances, would
  // take it.
  CHECK(matches(program, {e("A", 0), e("C", 6000)}).empty());
  // An event that moves the run on to `c`'s state after c's bound has passed: that branch
  // times out at once (@end 5000); the branch still waiting for `b` ends at end of input.
  CHECK(matches(program, {e("A", 0), R"({"@type":"B","ok":false,"ts":7000})", e("C", 8000)}) ==
        Lines{"T 1"});
}

TEST_CASE("interp lowered: deadlines fire in order, each at its own time", "[interp]") {
  // Run R1 (a@1000, b@4000) waits in $pending until min(1000 + 5s, 4000 + 2s) = 6000; run R3
  // (a@3000) waits for its b until 3000 + 5s = 8000. When time jumps past both, the absence
  // completes at 6000 first and, released (skip past last), discards R3, which started before
  // its last event: R3 never reaches its deadline, so there is no timeout record. (Flink's
  // advanceTime(t) would expire both at once and report R3's timeout too.)
  const std::string program = R"(
event A { v: int, ts: time }
event B { v: int, ts: time }
event N { ts: time }
pattern p within 5s {
    a: A() -> b: B(v == a.v) -> not N() within 2s
}
emit Out { v: a.v }
on timeout emit Late { v: a.v }
)";
  std::vector<std::string> events{R"({"@type":"A","v":1,"ts":1000})",
                                  R"({"@type":"A","v":2,"ts":3000})",
                                  R"({"@type":"B","v":1,"ts":4000})"};
  CHECK(matches(program, events) == Lines{"1 3"});
  // With a clock event at 7000 in between, the same happens in two steps.
  events.push_back(R"({"@type":"N","ts":7000})");
  CHECK(matches(program, events) == Lines{"1 3"});
}
