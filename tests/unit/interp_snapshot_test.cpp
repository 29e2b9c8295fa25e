// Snapshots of the interpreter (compiler/interp/snapshot.hpp): snapshot mid-stream, restore into
// a fresh matcher, continue: the output is the same as without the snapshot. Bad snapshots are
// rejected with a reason.
#include "compiler/interp/snapshot.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "interp_fixture_test.hpp"

#include <stdexcept>

using namespace interp_test;
using cep::compiler::interp::InterpMatcher;

namespace {

const char *kProgram = R"(
event P { card: string, amount: float, merchant: string?, ts: time }

pattern testing partition by card within 1h {
    small: P(amount < 1.0){3,} -> big: P(amount > 500.0 and amount > 100.0 * max(small.amount))
}
emit T { card: big.card, n: count(small), total: sum(small.amount) }
on timeout emit TT { card: first(small).card, n: count(small), m: last(small).merchant }

pattern unpaid partition by card within 10m {
    o: P(amount > 1000.0) -> not P(amount < 0.0)
}
emit U { card: o.card }

pattern pairs partition by card skip to next {
    a: P(amount >= 10.0) ->> b: P(amount >= a.amount) within 30m
}
emit Pairs { a: a.amount, b: b.amount }
on timeout emit PairsT { a: a.amount }

pattern held partition by card {
    x: P(amount < 1.0) -> y: P(amount >= 1.0 and merchant == x.merchant)
}
emit Held { x: x.amount, y: y.amount }
)";

// A deterministic stream: a few cards, small and large amounts, refunds, merchants or none.
std::vector<std::string> stream(int n) {
  std::vector<std::string> out;
  std::uint64_t x = 12345;
  std::int64_t t = 1700000000000;
  const double amounts[] = {0.5, 0.2, 0.9, 12.0, 40.0, 650.0, 2000.0, -5.0, 0.7, 15.0};
  for (int i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    t += static_cast<std::int64_t>((x >> 33) % 240000); // up to 4 minutes apart
    std::string card = "c" + std::to_string((x >> 20) % 4);
    double amount = amounts[(x >> 40) % 10];
    std::string merchant =
        (x >> 50) % 3 == 0 ? "null" : "\"m" + std::to_string((x >> 52) % 2) + "\"";
    std::string a = std::to_string(amount);
    out.push_back(R"({"card":")" + card + R"(","amount":)" + a + R"(,"merchant":)" + merchant +
                  R"(,"ts":)" + std::to_string(t) + "}");
  }
  return out;
}

std::vector<std::unique_ptr<InterpMatcher>> matchers(const Compiled &c) {
  std::vector<std::unique_ptr<InterpMatcher>> out;
  for (std::size_t p = 0; p < c.prog().patterns.size(); ++p) {
    out.push_back(matcher(c, cep::compiler::lowerPattern(c.prog(), static_cast<int>(p)), true, p));
  }
  return out;
}

// Runs every pattern over `events` like `cep run` (one matcher per pattern, one sorted step per
// event), optionally swapping in restored matchers after event `cut`.
std::vector<std::string> run(const Compiled &c, const std::vector<std::string> &events,
                             std::optional<std::size_t> cut) {
  auto ms = matchers(c);
  EventMaker maker(c.schema);
  std::vector<std::string> lines;
  std::int64_t time = INT64_MIN;
  auto step = [&](auto &&fn) {
    std::vector<cep::runtime::MatchOutput> out;
    for (auto &m : ms) {
      fn(*m, out);
    }
    std::stable_sort(out.begin(), out.end(), cep::runtime::MatchOutput::before);
    for (auto &o : out) {
      lines.push_back(o.json);
    }
  };
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (cut && i == *cut) {
      auto fresh = matchers(c);
      for (std::size_t p = 0; p < ms.size(); ++p) {
        std::string snap;
        ms[p]->snapshot(snap);
        fresh[p]->restore(snap);
        std::string again;
        fresh[p]->snapshot(again);
        CHECK(again == snap); // the format is canonical
        CHECK(fresh[p]->stats().live_runs == ms[p]->stats().live_runs);
        CHECK(fresh[p]->stats().live_keys == ms[p]->stats().live_keys);
        CHECK(fresh[p]->liveNodes() == ms[p]->liveNodes());
      }
      ms = std::move(fresh);
    }
    auto e = maker.make(events[i]);
    if (e->time > time) {
      time = e->time;
      step([&](InterpMatcher &m, auto &out) { m.advanceTime(time, out); });
    }
    step([&](InterpMatcher &m, auto &out) { m.onEvent(e, out); });
  }
  step([&](InterpMatcher &m, auto &out) { m.finish(out); });
  for (auto &m : ms) {
    CHECK(m->liveNodes() == 0);
  }
  return lines;
}

} // namespace

TEST_CASE("interp snapshot: restoring mid-stream changes nothing", "[interp]") {
  auto c = compile(kProgram);
  auto events = stream(400);
  auto reference = run(*c, events, std::nullopt);
  REQUIRE(reference.size() > 40); // the stream exercises every pattern
  bool timeouts = false;
  for (const auto &l : reference) {
    timeouts = timeouts || l.find("\"@timeout\":true") != std::string::npos;
  }
  CHECK(timeouts);
  for (std::size_t cut : {1, 37, 111, 200, 333, 399}) {
    INFO("cut at " << cut);
    CHECK(run(*c, events, cut) == reference);
  }
}

TEST_CASE("interp snapshot: bad snapshots are rejected with a reason", "[interp]") {
  auto c = compile(kProgram);
  auto ms = matchers(*c);
  EventMaker maker(c->schema);
  std::vector<cep::runtime::MatchOutput> out;
  for (const auto &e : stream(50)) {
    auto ev = maker.make(e);
    ms[0]->onEvent(ev, out);
    ms[1]->onEvent(ev, out);
  }
  std::string snap;
  ms[0]->snapshot(snap);
  REQUIRE(ms[0]->stats().live_runs > 0);

  auto expectError = [&](std::size_t pattern, std::string_view bytes, const std::string &what) {
    auto fresh = matchers(*c);
    try {
      fresh[pattern]->restore(bytes);
      FAIL("restored a bad snapshot: " << what);
    } catch (const std::runtime_error &e) {
      CHECK_THAT(e.what(), Catch::Contains(what));
    }
    CHECK(fresh[pattern]->stats().live_runs == 0);
    CHECK(fresh[pattern]->liveNodes() == 0);
  };
  expectError(0, "CEP", "truncated");
  expectError(0, std::string(12, 'x'), "not an interpreter snapshot");
  std::string version = snap;
  version[8] = 9;
  expectError(0, version, "format version 9");
  expectError(1, snap, "pattern `testing`, not `unpaid`");
  expectError(0, snap.substr(0, snap.size() - 3), "truncated");
  expectError(0, snap + "x", "trailing bytes");
  std::string renamed = snap;
  auto at = renamed.find("small:loop");
  REQUIRE(at != std::string::npos);
  renamed.replace(at, 10, "smell:loop");
  expectError(0, renamed, "has no state `smell:loop");

  // Restoring needs a fresh matcher.
  CHECK_THROWS_AS(ms[0]->restore(snap), std::runtime_error);
}
