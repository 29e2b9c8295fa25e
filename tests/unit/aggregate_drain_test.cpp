// The ownership rule of a drain (runtime/aggregate/aggregator.hpp drainStart, seedFrom,
// drainedBefore; docs/serve.md "Aggregates"): two versions of one aggregate split at a switch
// time S, the old one writing the windows whose drainStart is before S and the new one (seeded
// from the old at the switch) the others, write together exactly what one uninterrupted version
// writes, each window once; and once drainedBefore(S) the old one writes no window of its own.
#include "aggregate_fixture_test.hpp"
#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <sstream>

using namespace cep::runtime;
using namespace cep::runtime::aggregate;
using namespace cep::runtime::aggregate::testing;

namespace {

AggregateSpec drainSpec(WindowKind k, std::int64_t size, std::int64_t step, std::int64_t lateness,
                        std::int64_t ttl) {
  AggregateSpec s;
  s.name = "a";
  s.window = k;
  s.size_ms = size;
  s.slide_ms = step;
  s.lateness_ms = lateness;
  s.ttl_ms = ttl;
  s.accumulators = {countAll(), acc(AggFn::Sum, kN), acc(AggFn::Max, kN), acc(AggFn::First, kS),
                    acc(AggFn::CountDistinct, kS)};
  return s;
}

std::string render(const WindowResult &r) {
  std::ostringstream o;
  o << r.key << " [" << r.start << "," << r.end << ") rev " << r.revision << ":";
  for (const AggValue &v : r.values) {
    o << ' ';
    if (v.null) {
      o << "null";
    } else if (v.kind == FieldKind::String) {
      o << v.s;
    } else if (v.kind == FieldKind::Float) {
      o << v.f;
    } else {
      o << v.i;
    }
  }
  return o.str();
}

// One random stream through an uninterrupted aggregator and a drain at a random step; returns
// the first disagreement ("" when none).
std::string drainOnce(const AggregateSpec &spec, std::uint64_t seed, bool seed_new = true) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  WindowAggregator whole(spec), old_v(spec);
  std::unique_ptr<WindowAggregator> new_v;
  std::vector<WindowResult> out_whole, out_old, out_new;
  std::vector<std::string> want, got;
  std::int64_t now = 0, w = INT64_MIN, switch_at = 0, latest = INT64_MIN;
  std::uint64_t seq = 0;
  bool drained = false;
  std::string error;
  const int steps = 80;
  const int switch_step = static_cast<int>(pick(5, 50));
  auto collect = [&]() {
    for (WindowResult &r : out_whole) {
      if (new_v) {
        want.push_back(render(r));
      }
    }
    for (WindowResult &r : out_old) {
      bool owned = !new_v || drainStart(spec, r) < switch_at;
      if (new_v && owned) {
        got.push_back(render(r));
        if (drained && error.empty()) {
          error = "the old version wrote " + render(r) + " after drainedBefore(S)";
        }
      }
    }
    for (WindowResult &r : out_new) {
      if (drainStart(spec, r) >= switch_at) {
        got.push_back(render(r));
      }
    }
    out_whole.clear();
    out_old.clear();
    out_new.clear();
    if (new_v && !drained) {
      drained = old_v.drainedBefore(switch_at);
    }
  };
  auto advance = [&](std::int64_t to) {
    whole.advance(to, out_whole);
    old_v.advance(to, out_old);
    if (new_v) {
      new_v->advance(to, out_new);
    }
    w = std::max(w, to);
  };
  for (int step = 0; step < steps; ++step) {
    if (step == switch_step) {
      switch_at = std::max(w == INT64_MIN ? INT64_MIN + 1 : w + 1,
                           latest == INT64_MIN ? INT64_MIN : latest + 1);
      new_v = std::make_unique<WindowAggregator>(spec);
      if (seed_new) {
        new_v->seedFrom(old_v, switch_at);
      }
    }
    std::int64_t roll = pick(0, 9);
    if (roll == 0) {
      advance(std::max(now, w == INT64_MIN ? now : w) + pick(0, 12));
    } else {
      Row r;
      r.key = "k" + std::to_string(pick(0, 2));
      r.seq = ++seq;
      r.n = pick(-3, 9);
      r.s = std::string(1, static_cast<char>('a' + pick(0, 3)));
      if (roll == 1 && w != INT64_MIN) {
        r.time = w - pick(0, 25); // late (the aggregator decides whether it still counts)
      } else {
        std::int64_t floor = std::max(now, w == INT64_MIN ? now : w + 1);
        r.time = floor + (pick(0, 2) == 0 ? 0 : pick(1, 9));
        if (r.time > now || w == INT64_MIN) {
          advance(r.time - 1);
        }
        now = r.time;
        latest = std::max(latest, r.time);
      }
      RowInput in(r);
      whole.onEvent(r.key, in.get(), out_whole);
      old_v.onEvent(r.key, in.get(), out_old);
      if (new_v) {
        new_v->onEvent(r.key, in.get(), out_new);
      }
    }
    collect();
  }
  whole.finish(out_whole);
  old_v.finish(out_old);
  new_v->finish(out_new);
  collect();
  if (!error.empty()) {
    return error;
  }
  if (!old_v.drainedBefore(switch_at)) {
    return "the old version is not drained at the end of the input";
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  if (want != got) {
    std::ostringstream o;
    o << "switch at " << switch_at << ": the uninterrupted version wrote\n";
    for (const std::string &s : want) {
      o << "  " << s << "\n";
    }
    o << "the drain wrote\n";
    for (const std::string &s : got) {
      o << "  " << s << "\n";
    }
    return o.str();
  }
  return "";
}

std::vector<AggregateSpec> drainSpecs() {
  return {drainSpec(WindowKind::Tumbling, 10, 0, 0, 0), drainSpec(WindowKind::Hopping, 10, 5, 6, 0),
          drainSpec(WindowKind::Cumulate, 20, 5, 0, 0), drainSpec(WindowKind::Session, 10, 0, 0, 0),
          drainSpec(WindowKind::Session, 6, 0, 15, 0),  drainSpec(WindowKind::Rolling, 10, 0, 0, 0),
          drainSpec(WindowKind::Rolling, 10, 0, 0, 25), drainSpec(WindowKind::None, 0, 0, 0, 20)};
}

} // namespace

TEST_CASE("aggregate drain: the two versions write what one uninterrupted version writes",
          "[aggregate]") {
  for (const AggregateSpec &spec : drainSpecs()) {
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
      std::string why = drainOnce(spec, seed);
      INFO(windowKindName(spec.window)
           << " lateness " << spec.lateness_ms << ", seed " << seed << ": " << why);
      REQUIRE(why.empty());
    }
  }
}

TEST_CASE("aggregate drain: without the seed a new version writes sessions and running "
          "windows of the old one",
          "[aggregate]") {
  // What seedFrom is for: some stream must show the difference (the test above would pass
  // without the seed otherwise).
  for (const AggregateSpec &spec :
       {drainSpec(WindowKind::Session, 10, 0, 0, 0), drainSpec(WindowKind::None, 0, 0, 0, 20)}) {
    bool differs = false;
    for (std::uint64_t seed = 1; seed <= 300 && !differs; ++seed) {
      differs = !drainOnce(spec, seed, /*seed_new=*/false).empty();
    }
    INFO(windowKindName(spec.window));
    CHECK(differs);
  }
}

TEST_CASE("aggregate drain: drainStart of a rolling window is its event's time - size",
          "[aggregate]") {
  WindowResult r;
  r.start = 95; // the first event the window holds
  r.end = 100;
  CHECK(drainStart(drainSpec(WindowKind::Rolling, 10, 0, 0, 0), r) == 90);
  CHECK(drainStart(drainSpec(WindowKind::Session, 10, 0, 0, 0), r) == 95);
  CHECK(drainStart(drainSpec(WindowKind::None, 0, 0, 0, 20), r) == 95);
}

TEST_CASE("aggregate drain: a seeded session grows with the old one, and merges give the "
          "earlier start",
          "[aggregate]") {
  AggregateSpec spec = drainSpec(WindowKind::Session, 10, 0, 20, 0);
  WindowAggregator old_v(spec), new_v(spec);
  std::vector<WindowResult> out;
  std::uint64_t seq = 0;
  auto event = [&](WindowAggregator &a, std::int64_t t) {
    Row r;
    r.key = "k";
    r.time = t;
    r.seq = ++seq;
    r.n = 1;
    RowInput in(r);
    return a.onEvent("k", in.get(), out);
  };
  old_v.advance(-1, out);
  event(old_v, 0);
  event(old_v, 4); // session [0, 14) open
  old_v.advance(5, out);
  const std::int64_t s = 6; // the switch: after the watermark and the latest event
  new_v.seedFrom(old_v, s);
  CHECK(new_v.watermark() == 5);
  CHECK(new_v.holdsWindowBefore(s));
  CHECK(new_v.stats().windows == 1);
  out.clear();
  event(new_v, 8); // extends the seeded session: it still starts at 0
  new_v.advance(30, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].start == 0);
  CHECK(out[0].end == 18);
  CHECK(out[0].values[0].i == 1); // the seed has no values: the new version never writes it
  CHECK(!new_v.drainedBefore(s)); // held for lateness until 18 - 1 + 20
  new_v.advance(37, out);
  CHECK(new_v.drainedBefore(s));
}

TEST_CASE("aggregate drain: latestHeld bounds every event a restored state holds", "[aggregate]") {
  // A restored operator's switch time comes after it (native_aggregate.cpp switchTime): its
  // latest event is not in the state, so the bound may be later (a time window's last pane).
  for (WindowKind kind :
       {WindowKind::Tumbling, WindowKind::Session, WindowKind::Rolling, WindowKind::None}) {
    AggregateSpec spec =
        drainSpec(kind, kind == WindowKind::None ? 0 : 10, 0, 0, kind == WindowKind::None ? 20 : 0);
    WindowAggregator a(spec);
    std::vector<WindowResult> out;
    CHECK(a.latestHeld() == INT64_MIN);
    std::uint64_t seq = 0;
    for (std::int64_t t : {3, 12, 14}) {
      a.advance(t - 1, out);
      Row r;
      r.key = t == 12 ? "k2" : "k1";
      r.time = t;
      r.seq = ++seq;
      r.n = 1;
      RowInput in(r);
      a.onEvent(r.key, in.get(), out);
    }
    std::string bytes;
    a.snapshot(bytes);
    WindowAggregator back(spec);
    back.restore(bytes);
    INFO(windowKindName(kind));
    CHECK(back.latestHeld() == (kind == WindowKind::Tumbling ? 19 : 14));
  }
}
