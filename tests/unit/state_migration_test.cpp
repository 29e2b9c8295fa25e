// Moving partial matches into another version of a pattern (runtime/state/migration.hpp,
// Matcher::migrateFrom; tag [migration]): run a stream to event k under version 1, move the
// state into a fresh matcher of version 2, feed the rest. Every engine pair (interp or native
// before, interp or native after) writes the same records; refusals list their exact reasons,
// are the same on both engines, and leave the target untouched.
#include "compiler/jit/jit.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "interp_fixture_test.hpp"
#include "runtime/native/native_matcher.hpp"
#include "runtime/state/migration.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace interp_test;
namespace jit = cep::compiler::jit;
namespace rn = cep::runtime::native;
using runtime::MatcherState;
using runtime::MigrationReport;

namespace {

enum class Engine { Interp, Native };

jit::Jit &theJit() {
  static std::unique_ptr<jit::Jit> j = [] {
    std::string error;
    auto made = jit::Jit::create(1, error);
    INFO(error);
    REQUIRE(made != nullptr);
    return made;
  }();
  return *j;
}

// One version of the rules: its checked program, optimised NFAs and native code.
struct Version {
  std::unique_ptr<Compiled> c;
  std::vector<nfa::Nfa> nfas;
  std::shared_ptr<const runtime::Schema> schema;
  jit::LoadedProgram code;

  explicit Version(const std::string &text) : c(compile(text)) {
    auto passes = cep::compiler::passes::PassManager::standard();
    for (std::size_t i = 0; i < c->prog().patterns.size(); ++i) {
      nfas.push_back(cep::compiler::lowerPattern(c->prog(), static_cast<int>(i)));
      passes.run(nfas.back());
    }
    schema = std::make_shared<const runtime::Schema>(c->schema);
    jit::ModuleStats stats;
    std::string error;
    auto loaded = theJit().compileProgram(c->prog(), nfas, stats, error);
    INFO(error);
    REQUIRE(loaded.has_value());
    code = std::move(*loaded);
  }

  std::unique_ptr<runtime::Matcher> matcher(Engine e) const {
    if (e == Engine::Interp) {
      return interp_test::matcher(*c, nfas.at(0).clone(), false, 0);
    }
    return rn::makeNativeMatcher(schema, code.images.at(0), code.code.at(0), {});
  }
};

// Feeds `events` [from, to) like `cep run` does (one matcher), appending its records.
struct Feed {
  std::int64_t time = INT64_MIN;
  std::vector<std::string> lines;

  void step(runtime::Matcher &m, const runtime::EventRef &e) {
    std::vector<runtime::MatchOutput> out;
    if (e->time > time) {
      time = e->time;
      m.advanceTime(time, out);
    }
    m.onEvent(e, out);
    take(out);
  }
  void finish(runtime::Matcher &m) {
    std::vector<runtime::MatchOutput> out;
    m.finish(out);
    take(out);
  }
  void take(std::vector<runtime::MatchOutput> &out) {
    std::stable_sort(out.begin(), out.end(), runtime::MatchOutput::before);
    for (const auto &o : out) {
      lines.push_back(o.json);
    }
  }
};

std::vector<runtime::EventRef> decode(const Version &v, const std::vector<std::string> &json) {
  EventMaker maker(v.c->schema);
  std::vector<runtime::EventRef> out;
  for (const auto &j : json) {
    out.push_back(maker.make(j));
  }
  return out;
}

struct Swap {
  std::vector<std::string> lines;
  MigrationReport report;
  std::uint64_t live_runs_before = 0;
  bool adopted = false;
};

// `json` [0, k) under v1 on engine `a`, the state moved into v2 on engine `b`, then the rest.
// With `adopt` (native to native), the move is Matcher::adoptFrom when canAdopt holds, and the
// state it leaves must snapshot to the bytes migrateFrom leaves.
Swap swap(const Version &v1, const Version &v2, const std::vector<std::string> &json, std::size_t k,
          Engine a, Engine b, bool adopt = false) {
  auto e1 = decode(v1, json);
  Feed feed;
  auto m1 = v1.matcher(a);
  for (std::size_t i = 0; i < k; ++i) {
    feed.step(*m1, e1[i]);
  }
  MatcherState st;
  m1->exportState(st);
  Swap s;
  s.live_runs_before = m1->stats().live_runs;
  auto m2 = v2.matcher(b);
  MigrationReport checked = m2->checkMigration(st);
  if (adopt && m2->canAdopt(*m1)) {
    s.adopted = true;
    auto by_model = v2.matcher(b);
    MigrationReport moved = by_model->migrateFrom(st);
    REQUIRE(moved.ok());
    s.report = m2->adoptFrom(*m1);
    CHECK(s.report.runs_moved == moved.runs_moved);
    CHECK(s.report.keys_moved == moved.keys_moved);
    CHECK(s.report.held_moved == moved.held_moved);
    CHECK(m1->stats().live_runs == 0);
    CHECK(m1->stats().bound_events == 0);
    std::string in_place, through_model;
    m2->snapshot(in_place);
    by_model->snapshot(through_model);
    CHECK(in_place == through_model);
  } else {
    s.report = m2->migrateFrom(st);
  }
  CHECK(checked.reasons == s.report.reasons);
  if (!s.report.ok()) {
    // Nothing changed.
    CHECK(m2->stats().live_runs == 0);
    CHECK(m2->stats().live_keys == 0);
    CHECK(m2->stats().bound_events == 0);
    return s;
  }
  CHECK(s.report.runs_moved == m2->stats().live_runs);
  CHECK(s.report.keys_moved == m2->stats().live_keys);
  CHECK(s.report.runs_moved == s.live_runs_before);
  m1.reset();
  auto e2 = decode(v2, json); // the same records and arrival numbers under v2's schema
  for (std::size_t i = k; i < json.size(); ++i) {
    feed.step(*m2, e2[i]);
  }
  feed.finish(*m2);
  CHECK(m2->stats().bound_events == 0);
  s.lines = std::move(feed.lines);
  return s;
}

// Every engine pair writes the same records for every cut k in `cuts`; returns them by k.
// How many swaps agree() made by adoptFrom.
int adoptions = 0;

std::vector<std::vector<std::string>> agree(const Version &v1, const Version &v2,
                                            const std::vector<std::string> &json,
                                            const std::vector<std::size_t> &cuts) {
  std::vector<std::vector<std::string>> by_cut;
  for (std::size_t k : cuts) {
    INFO("cut after event " << k);
    Swap ii = swap(v1, v2, json, k, Engine::Interp, Engine::Interp);
    REQUIRE(ii.report.ok());
    for (auto [a, b] :
         {std::pair{Engine::Native, Engine::Native}, std::pair{Engine::Interp, Engine::Native},
          std::pair{Engine::Native, Engine::Interp}}) {
      Swap other = swap(v1, v2, json, k, a, b);
      REQUIRE(other.report.ok());
      CHECK(other.report.runs_moved == ii.report.runs_moved);
      CHECK(other.report.held_moved == ii.report.held_moved);
      CHECK(other.lines == ii.lines);
    }
    Swap adopted = swap(v1, v2, json, k, Engine::Native, Engine::Native, true);
    REQUIRE(adopted.report.ok());
    CHECK(adopted.report.runs_moved == ii.report.runs_moved);
    CHECK(adopted.lines == ii.lines);
    adoptions += adopted.adopted ? 1 : 0;
    by_cut.push_back(ii.lines);
  }
  return by_cut;
}

std::vector<std::string> refusal(const Version &v1, const Version &v2,
                                 const std::vector<std::string> &json, std::size_t k) {
  Swap i = swap(v1, v2, json, k, Engine::Interp, Engine::Interp);
  Swap n = swap(v1, v2, json, k, Engine::Native, Engine::Native);
  Swap x = swap(v1, v2, json, k, Engine::Interp, Engine::Native);
  Swap in_place = swap(v1, v2, json, k, Engine::Native, Engine::Native, true);
  CHECK_FALSE(in_place.adopted); // a refused move is never taken over in place
  CHECK(in_place.report.reasons == n.report.reasons);
  CHECK(i.report.reasons == n.report.reasons);
  CHECK(i.report.reasons == x.report.reasons);
  CHECK(i.live_runs_before > 0);
  return i.report.reasons;
}

std::string tx(const char *card, double amount, std::int64_t minute) {
  return R"({"card":")" + std::string(card) + R"(","amount":)" + std::to_string(amount) +
         R"(,"ts":)" + std::to_string(1700000000000 + minute * 60000) + "}";
}

// A loop {2,4} of small amounts, then a big one, per card, within 1h.
const char *kLoopV1 = R"(
event Tx { card: string, amount: float, ts: time }
pattern loopy partition by card within 1h {
    s: Tx(amount < 1.0){2,4} -> b: Tx(amount > 100.0)
}
emit L { card: b.card, n: count(s), big: b.amount }
on timeout emit LT { card: first(s).card, n: count(s) }
)";

std::vector<std::string> loopStream() {
  return {tx("c1", 0.5, 0),  tx("c2", 0.2, 1),    tx("c1", 0.7, 2),  tx("c1", 60.0, 3),
          tx("c2", 0.3, 4),  tx("c1", 0.1, 5),    tx("c2", 80.0, 6), tx("c1", 150.0, 7),
          tx("c2", 0.4, 40), tx("c2", 120.0, 50), tx("c1", 0.9, 58), tx("c1", 0.9, 59),
          tx("c1", 0.9, 130)};
}

} // namespace

TEST_CASE("migration: the same version moves every run and changes nothing", "[migration]") {
  Version v1(kLoopV1);
  auto json = loopStream();
  adoptions = 0;
  auto by_cut = agree(v1, v1, json, {0, 2, 3, 5, 7, 9, 12});
  CHECK(adoptions == 7); // the same steps and key: taken over in place
  // Equal to the run without a swap (the cut at 0 moves an empty state).
  for (const auto &lines : by_cut) {
    CHECK(lines == by_cut.front());
  }
  CHECK(by_cut.front().size() >= 3);
}

TEST_CASE("migration: mid-loop, with a changed condition and a longer loop", "[migration]") {
  Version v1(kLoopV1);
  // b accepts 50 and more now, and the loop may take 5 events.
  Version v2(R"(
event Tx { card: string, amount: float, ts: time }
pattern loopy partition by card within 1h {
    s: Tx(amount < 1.0){2,5} -> b: Tx(amount > 50.0)
}
emit L { card: b.card, n: count(s), big: b.amount }
on timeout emit LT { card: first(s).card, n: count(s) }
)");
  auto json = loopStream();
  auto by_cut = agree(v1, v2, json, {2, 3, 5});
  // Cut after c1's two small amounts (runs in s:loop): the new condition takes the 60.0 that
  // version 1 ignored.
  const auto &lines = by_cut[1];
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string &l) {
          return l.find("\"big\":60") != std::string::npos;
        }) >= 1);
  Version only_v1(kLoopV1);
  auto unchanged = agree(only_v1, only_v1, json, {3});
  CHECK(unchanged[0] != lines);
}

TEST_CASE("migration: an added step after the current one, a gained nullable field",
          "[migration]") {
  Version v1(kLoopV1);
  Version v2(R"(
event Tx { card: string, amount: float, ts: time, note: string? }
pattern loopy partition by card within 1h {
    s: Tx(amount < 1.0){2,4} -> b: Tx(amount > 100.0) -> c: Tx(amount > 0.0)
}
emit L { card: b.card, n: count(s), big: b.amount, after: c.amount, note: first(s).note }
on timeout emit LT { card: first(s).card, n: count(s) }
)");
  auto json = loopStream();
  auto by_cut = agree(v1, v2, json, {3, 5, 7});
  // Runs waiting for b under version 1 now wait for c after it: c1's match completes at 0.9.
  CHECK(std::any_of(by_cut[1].begin(), by_cut[1].end(), [](const std::string &l) {
    return l.find("\"big\":150") != std::string::npos &&
           l.find("\"note\":null") != std::string::npos;
  }));
}

TEST_CASE("migration: under a within, deadlines recomputed with the new duration", "[migration]") {
  const char *v1_text = R"(
event Tx { card: string, amount: float, ts: time }
pattern paired partition by card {
    a: Tx(amount >= 10.0) ->> b: Tx(amount >= a.amount) within 30m
}
emit P { a: a.amount, b: b.amount }
on timeout emit PT { a: a.amount }
)";
  Version v1(v1_text);
  Version v2(R"(
event Tx { card: string, amount: float, ts: time }
pattern paired partition by card {
    a: Tx(amount >= 10.0) ->> b: Tx(amount >= a.amount) within 5m
}
emit P { a: a.amount, b: b.amount }
on timeout emit PT { a: a.amount }
)");
  std::vector<std::string> json = {tx("c1", 20.0, 0),  tx("c2", 30.0, 1),  tx("c1", 5.0, 2),
                                   tx("c1", 25.0, 10), tx("c2", 40.0, 20), tx("c1", 1.0, 60)};
  auto by_cut = agree(v1, v2, json, {2, 3});
  // Cut after c1's 5.0 (minute 2): c1's run from minute 0 has 5m under version 2, so it times
  // out at minute 5 and the 25.0 at minute 10 does not complete it.
  const auto &lines = by_cut[1];
  CHECK(std::none_of(lines.begin(), lines.end(), [](const std::string &l) {
    return l.find("\"a\":20") != std::string::npos && l.find("\"b\":25") != std::string::npos;
  }));
  Version same(v1_text);
  auto before = agree(v1, same, json, {3});
  CHECK(std::any_of(before[0].begin(), before[0].end(), [](const std::string &l) {
    return l.find("\"a\":20") != std::string::npos && l.find("\"b\":25") != std::string::npos;
  }));
}

TEST_CASE("migration: holding a negation and an absence", "[migration]") {
  Version v1(R"(
event Tx { card: string, amount: float, ts: time }
pattern unpaid partition by card within 10m {
    o: Tx(amount > 1000.0) -> not Tx(amount < 0.0)
}
emit U { card: o.card }
)");
  Version v2(R"(
event Tx { card: string, amount: float, ts: time }
pattern unpaid partition by card within 20m {
    o: Tx(amount > 1000.0) -> not Tx(amount < -10.0)
}
emit U { card: o.card, amount: o.amount }
)");
  std::vector<std::string> json = {tx("c1", 2000.0, 0), tx("c2", 1500.0, 1), tx("c1", -5.0, 3),
                                   tx("c2", -20.0, 4),  tx("c3", 3000.0, 5), tx("c3", 1.0, 40)};
  auto by_cut = agree(v1, v2, json, {1, 2, 3, 5});
  // Cut after minute 1: c1's -5.0 no longer cancels it (new condition), c2's -20.0 does.
  const auto &lines = by_cut[1];
  CHECK(std::any_of(lines.begin(), lines.end(),
                    [](const std::string &l) { return l.find("\"c1\"") != std::string::npos; }));
  CHECK(std::none_of(lines.begin(), lines.end(),
                     [](const std::string &l) { return l.find("\"c2\"") != std::string::npos; }));
}

TEST_CASE("migration: refusals list every exact reason and change nothing", "[migration]") {
  Version v1(kLoopV1);
  auto json = loopStream();
  SECTION("a state the new version lacks, a step it lacks") {
    Version v2(R"(
event Tx { card: string, amount: float, ts: time }
pattern loopy partition by card within 1h {
    t: Tx(amount < 1.0) -> b: Tx(amount > 100.0)
}
emit L { card: b.card, big: b.amount }
)");
    CHECK(refusal(v1, v2, json, 3) ==
          std::vector<std::string>{
              "pattern `loopy`: 3 partial matches wait in state `s:loop`, which the new version "
              "does not have",
              "pattern `loopy`: step `s` binds 4 events of partial matches, and the new "
              "version has no step `s`"});
  }
  SECTION("the key changed") {
    Version v2(R"(
event Tx { card: string, amount: float, ts: time }
pattern loopy within 1h {
    s: Tx(amount < 1.0){2,4} -> b: Tx(amount > 100.0)
}
emit L { card: b.card, n: count(s), big: b.amount }
)");
    CHECK(refusal(v1, v2, json, 3) ==
          std::vector<std::string>{
              "pattern `loopy`: the key changed: it was partitioned, and the new version is not"});
  }
  SECTION("a field changed its kind, a step its type, a type gained a non-nullable field") {
    Version v2(R"(
event Tx { card: string, amount: int, ts: time, code: int }
event Other { card: string, amount: float, ts: time }
pattern loopy partition by card within 1h {
    s: Other(amount < 1.0){2,4} -> b: Tx(amount > 100)
}
emit L { card: b.card, big: b.amount }
)");
    CHECK(refusal(v1, v2, json, 3) ==
          std::vector<std::string>{
              "pattern `loopy`: step `s` binds `Tx` events, and the new version's step `s` takes "
              "`Other` events",
              "pattern `loopy`: field `Tx.amount` of the bound events is float, and the new "
              "version's is int",
              "pattern `loopy`: the new version's event type `Tx` adds the field `code`, which is "
              "not nullable, and the bound events have no value for it"});
  }
  SECTION("an event type the new version lacks, another key field") {
    Version v2(R"(
event Pay { card: string, acct: string, amount: float, ts: time }
pattern loopy partition by acct within 1h {
    s: Pay(amount < 1.0){2,4} -> b: Pay(amount > 100.0)
}
emit L { card: b.card, big: b.amount }
)");
    CHECK(refusal(v1, v2, json, 3) ==
          std::vector<std::string>{
              "pattern `loopy`: step `s` binds `Tx` events, and the new version's step `s` takes "
              "`Pay` events",
              "pattern `loopy`: 4 bound events are of type `Tx`, which the new version does not "
              "have"});
  }
}

TEST_CASE("migration: a state decoded from CEPISNAP moves too, keys checked by text",
          "[migration]") {
  Version v1(kLoopV1);
  Version v2(R"(
event Tx { card: string, amount: float, ts: time, note: string? }
pattern loopy partition by card within 1h {
    s: Tx(amount < 1.0){2,4} -> b: Tx(amount > 100.0)
}
emit L { card: b.card, n: count(s), big: b.amount }
on timeout emit LT { card: first(s).card, n: count(s) }
)");
  auto json = loopStream();
  auto e1 = decode(v1, json);
  for (Engine a : {Engine::Interp, Engine::Native}) {
    auto m1 = v1.matcher(a);
    Feed feed;
    for (std::size_t i = 0; i < 5; ++i) {
      feed.step(*m1, e1[i]);
    }
    std::string bytes;
    m1->snapshot(bytes);
    MatcherState st = runtime::decodeMatcherState(bytes, v1.schema, "loopy");
    CHECK_FALSE(st.key.known);
    std::string again;
    runtime::encodeMatcherState(st, again);
    CHECK(again == bytes);
    for (Engine b : {Engine::Interp, Engine::Native}) {
      auto m2 = v2.matcher(b);
      MigrationReport r = m2->migrateFrom(st);
      CHECK(r.ok());
      CHECK(r.runs_moved == m1->stats().live_runs);
      CHECK(r.keys_moved == 2);
    }
  }
}
