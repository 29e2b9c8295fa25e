// State bounds (runtime/state_bounds.hpp, docs/semantics.md §9) on the reference interpreter
// (tag [bounds]): which partial matches --max-runs-per-key and --max-state-bytes evict, in which
// order, what the accounted bytes are, and what an eviction record says. The native matcher
// evicts the same runs: the golden match cases bounds_* run on every engine.
#include "compiler/lower/lower_pattern.hpp"
#include "interp_fixture_test.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state_bounds.hpp"

using namespace interp_test;

namespace {

const char *kRules = R"(event E { k: string, n: int, id: int, ts: time }
pattern p partition by k skip none {
    a: E(n == 1) ->> b: E(n == 2)
}
emit M { a: a.id, b: b.id }
)";

std::string ev(const std::string &k, int n, int id, std::int64_t ts) {
  return R"({"k":")" + k + R"(","n":)" + std::to_string(n) + R"(,"id":)" + std::to_string(id) +
         R"(,"ts":)" + std::to_string(ts) + "}";
}

struct Bounded {
  std::unique_ptr<Compiled> c;
  std::ostringstream report, records;
  std::unique_ptr<runtime::EvictionLog> log;
  std::unique_ptr<cep::compiler::interp::InterpMatcher> m;
  std::unique_ptr<EventMaker> maker;
  std::unique_ptr<Driver> driver;

  Bounded(const std::string &rules, runtime::StateBounds bounds) : c(compile(rules)) {
    log = std::make_unique<runtime::EvictionLog>(bounds, &report);
    log->setRecords(&records);
    runtime::MatcherOptions options;
    options.bounds = bounds;
    options.evictions = log.get();
    m = std::make_unique<cep::compiler::interp::InterpMatcher>(
        c->prog(), 0, cep::compiler::lowerPattern(c->prog(), 0), options);
    maker = std::make_unique<EventMaker>(c->schema);
    driver = std::make_unique<Driver>(*m, *maker);
  }
  // The evicted runs as "key state a-ids/b-ids" (from their records), in eviction order.
  std::vector<std::string> evicted() const {
    std::vector<std::string> lines;
    std::istringstream in(records.str());
    std::string line;
    while (std::getline(in, line)) {
      lines.push_back(line);
    }
    return lines;
  }
};

std::string record(const std::string &key, const std::string &reason, const std::string &state,
                   const std::string &start, const std::string &at, const std::string &a,
                   const std::string &b, const std::string &more_steps = "") {
  return R"({"@pattern":"p","@key":)" + key + R"(,"@reason":")" + reason + R"(","@state":")" +
         state + R"(","@start":"1970-01-01T00:00:)" + start + R"(Z","@at":"1970-01-01T00:00:)" +
         at + R"(Z","@events":{"a":[)" + a + R"(],"b":[)" + b + "]" + more_steps + "}}";
}

} // namespace

TEST_CASE("state bounds: distinct events are counted once however many nodes hold them",
          "[bounds]") {
  auto c = compile(kRules);
  EventMaker maker(c->schema);
  runtime::EventRef e1 = maker.make(ev("x", 1, 1, 1000));
  runtime::EventRef e2 = maker.make(ev("x", 2, 2, 2000));
  runtime::DistinctEventBytes d;
  d.add(*e1);
  d.add(*e1);
  d.add(*e2);
  CHECK(d.events() == 2);
  CHECK(d.bytes() == e1->raw_size + e2->raw_size);
  d.remove(*e1);
  CHECK(d.bytes() == e1->raw_size + e2->raw_size);
  d.remove(*e1);
  CHECK(d.bytes() == e2->raw_size);
  d.remove(*e2);
  CHECK(d.bytes() == 0);
  CHECK(d.events() == 0);
}

TEST_CASE("state bounds: --max-runs-per-key evicts the key's oldest runs by start, then creation",
          "[bounds]") {
  Bounded t(kRules, runtime::StateBounds{2, 0});
  std::string a1 = ev("x", 1, 1, 1000), a2 = ev("x", 1, 2, 2000), y3 = ev("y", 1, 3, 2500),
              a4 = ev("x", 1, 4, 3000), y5 = ev("y", 1, 5, 3500), b6 = ev("x", 2, 6, 4000);
  t.driver->events({a1, a2, y3, a4, y5});
  // x had three runs at a4: the one started by a1 went; y has two, within the bound.
  CHECK(t.m->stats().live_runs == 4);
  CHECK(t.m->stats().evicted == 1);
  t.driver->events({b6});
  t.driver->finish();
  CHECK(t.driver->lines.size() == 2); // a2-b6 and a4-b6; a1's run is gone
  CHECK(t.driver->lines[0].find(R"("a":2,"b":6)") != std::string::npos);
  CHECK(t.driver->lines[1].find(R"("a":4,"b":6)") != std::string::npos);
  CHECK(t.evicted() == std::vector<std::string>{
                           record("\"x\"", "max-runs-per-key", "b", "01.000", "03.000", a1, "")});
  CHECK(t.m->stats().peak_runs == 4);
  CHECK(t.report.str().find("--max-runs-per-key 2 reached") != std::string::npos);
}

TEST_CASE("state bounds: runs with the same start go in creation order", "[bounds]") {
  // a ->> b+ : after a1 b2, the run of a1 is {a1}[b] and, taking b2, {a1 b2}[b:loop]. The take
  // branch is created first (the state's edges are take, then ignore).
  Bounded t(R"(event E { k: string, n: int, id: int, ts: time }
pattern p partition by k skip none {
    a: E(n == 1) ->> b: E(n == 2)+ -> c: E(n == 3)
}
emit M { a: a.id, c: c.id }
)",
            runtime::StateBounds{1, 0});
  std::string a1 = ev("x", 1, 1, 1000), b2 = ev("x", 2, 2, 2000);
  t.driver->events({a1, b2});
  CHECK(t.m->stats().live_runs == 1);
  CHECK(t.evicted() == std::vector<std::string>{record("\"x\"", "max-runs-per-key", "b:loop",
                                                       "01.000", "02.000", a1, b2, R"(,"c":[])")});
}

TEST_CASE("state bounds: --max-state-bytes evicts the pattern's oldest runs across keys",
          "[bounds]") {
  std::string a1 = ev("x", 1, 1, 1000), y2 = ev("y", 1, 2, 2000), a3 = ev("x", 1, 3, 3000);
  REQUIRE(a1.size() == y2.size());
  REQUIRE(a1.size() == a3.size());
  const std::uint64_t per_run = runtime::kRunAccountedBytes + a1.size();
  // Room for two runs of one event each: the third (a3) evicts the oldest, y2's key is older
  // than x's newest but younger than a1.
  Bounded t(kRules, runtime::StateBounds{0, 2 * per_run + 1});
  t.driver->events({a1, y2});
  CHECK(t.m->stats().evicted == 0);
  t.driver->events({a3});
  CHECK(t.m->stats().evicted == 1);
  CHECK(t.m->stats().live_runs == 2);
  CHECK(t.evicted() == std::vector<std::string>{
                           record("\"x\"", "max-state-bytes", "b", "01.000", "03.000", a1, "")});
  // An event a run ignores is not held: y4 (not an `a`) changes nothing.
  t.driver->events({ev("y", 3, 4, 4000)});
  CHECK(t.m->stats().evicted == 1);
}

TEST_CASE("state bounds: snapshots carry the eviction counter, version 1 snapshots still restore",
          "[bounds][snapshot]") {
  Bounded t(kRules, runtime::StateBounds{1, 0});
  t.driver->events({ev("x", 1, 1, 1000), ev("x", 1, 2, 2000), ev("x", 1, 3, 3000)});
  REQUIRE(t.m->stats().evicted == 2);
  std::string snap;
  t.m->snapshot(snap);
  // "CEPISNAP", u32 version, str name (u32 length + "p"), i64 time, 7 u64 statistics, u64 evicted,
  // then (version 3) u64 dropped, u8 draining
  const std::size_t version_at = 8, evicted_at = 8 + 4 + 4 + 1 + 8 + 7 * 8;
  CHECK(snap[version_at] == static_cast<char>(runtime::kMatcherStateVersion));
  runtime::MatcherOptions options;
  options.bounds = runtime::StateBounds{1, 0};
  auto restored = std::make_unique<cep::compiler::interp::InterpMatcher>(
      t.c->prog(), 0, cep::compiler::lowerPattern(t.c->prog(), 0), options);
  restored->restore(snap);
  CHECK(restored->stats().evicted == 2);
  CHECK(restored->stats().live_runs == 1);
  // The same state written by version 1: no counter (nor version 3's two fields, nor version
  // 4's last event per key: INT64_MIN and 0 when --key-ttl does not track it, the key's only
  // 16 bytes of that shape).
  std::string v1 = snap;
  const std::string untracked = std::string(7, '\0') + '\x80' + std::string(8, '\0');
  std::size_t last_event_at = v1.find(untracked, evicted_at + 17);
  REQUIRE(last_event_at != std::string::npos);
  REQUIRE(v1.find(untracked, last_event_at + 1) == std::string::npos);
  v1.erase(last_event_at, untracked.size());
  v1[version_at] = 1;
  v1.erase(evicted_at, 8 + 8 + 1);
  auto old = std::make_unique<cep::compiler::interp::InterpMatcher>(
      t.c->prog(), 0, cep::compiler::lowerPattern(t.c->prog(), 0), options);
  old->restore(v1);
  CHECK(old->stats().evicted == 0);
  CHECK(old->stats().live_runs == 1);
}
