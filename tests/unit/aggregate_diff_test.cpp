// The window runtime against its reference (runtime/aggregate): random aggregates over random
// event streams with out-of-order times, a reorder buffer and watermarks as the run loop drives
// them, late events, lateness and sessions; both must write the same records in the same order.
// At a random point both are snapshotted (the same bytes), the runtime replaced by a restore of
// the reference's snapshot and the reference by one of the runtime's (same bytes again), which
// must go on exactly as the original runtime, which runs beside them, and end in the same state.
// The runtime is given the driver's prefetch hints; the reference and the original none.
#include "aggregate_fixture_test.hpp"
#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <sstream>
#include <tuple>
#include <utility>

using namespace cep::runtime;
using namespace cep::runtime::aggregate;
using namespace cep::runtime::aggregate::testing;

namespace {

using Rng = std::mt19937_64;

std::int64_t pick(Rng &rng, std::initializer_list<std::int64_t> xs) {
  std::uniform_int_distribution<std::size_t> d(0, xs.size() - 1);
  return *(xs.begin() + static_cast<std::ptrdiff_t>(d(rng)));
}
std::int64_t between(Rng &rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

// Long streams: windows holding more than kMaxEventsKept events, long sessions.
AggregateSpec randomSpec(Rng &rng, bool long_streams) {
  AggregateSpec s;
  s.name = "agg";
  s.window = static_cast<WindowKind>(between(rng, 0, 5));
  switch (s.window) {
  case WindowKind::Tumbling:
    s.size_ms = long_streams ? pick(rng, {600, 3000}) : pick(rng, {5, 10, 30, 60});
    break;
  case WindowKind::Hopping:
  case WindowKind::Cumulate:
    s.slide_ms = pick(rng, {5, 10, 15});
    s.size_ms = s.slide_ms * pick(rng, {1, 2, 3, 4});
    break;
  case WindowKind::Session:
    s.size_ms = pick(rng, {3, 8, 20});
    break;
  case WindowKind::Rolling:
    s.size_ms = long_streams ? 2000 : pick(rng, {1, 10, 40});
    break;
  case WindowKind::None:
    break;
  }
  if (isTimeWindow(s.window) || s.window == WindowKind::Session) {
    s.lateness_ms = pick(rng, {0, 0, 7, 25, 80});
  } else {
    s.ttl_ms = pick(rng, {0, 0, 12, 50});
  }
  s.keep_events = between(rng, 0, 1) == 1;
  std::vector<AccumulatorSpec> all = {
      countAll(),
      acc(AggFn::CountField, kN),
      acc(AggFn::CountField, kS),
      acc(AggFn::Sum, kN),
      acc(AggFn::Sum, kX),
      acc(AggFn::Sum, kD),
      acc(AggFn::Avg, kN),
      acc(AggFn::Avg, kX),
      acc(AggFn::Min, kN),
      acc(AggFn::Max, kX),
      acc(AggFn::Min, kS),
      acc(AggFn::Max, kS),
      acc(AggFn::Max, kB),
      acc(AggFn::Min, kTs),
      acc(AggFn::First, kS),
      acc(AggFn::Last, kN),
      acc(AggFn::First, kX),
      acc(AggFn::Last, kB),
      acc(AggFn::CountDistinct, kS),
      acc(AggFn::CountDistinct, kN),
      acc(AggFn::CountDistinct, kX),
  };
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<std::size_t>(between(rng, 1, 8)));
  s.accumulators = all;
  return s;
}

std::vector<Row> randomRows(Rng &rng, std::size_t count, bool long_streams) {
  std::vector<Row> rows;
  std::int64_t clock = between(rng, -50, 50);
  std::int64_t jitter = pick(rng, {0, 3, 20, 60});
  const char *keys[] = {"[\"a\"]", "[\"b\"]", "[\"c\"]", "[\"d\"]"};
  std::int64_t nkeys = between(rng, 1, 4);
  const char *strs[] = {"x", "y", "zz", "", "a long string past the small buffer"};
  for (std::size_t i = 0; i < count; ++i) {
    clock += long_streams ? pick(rng, {0, 0, 0, 1, 2}) : pick(rng, {0, 0, 1, 2, 3, 5, 9, 30});
    Row r;
    r.key = keys[between(rng, 0, nkeys - 1)];
    r.time = clock - between(rng, 0, jitter);
    r.seq = i + 1;
    if (between(rng, 0, 4) != 0) {
      r.n = between(rng, -20, 20);
    }
    if (between(rng, 0, 4) != 0) {
      r.x = static_cast<double>(between(rng, -400, 400)) / 8.0; // sums stay exact
    }
    if (between(rng, 0, 4) != 0) {
      r.s = strs[between(rng, 0, 4)];
    }
    r.b = between(rng, 0, 1) == 1;
    if (between(rng, 0, 4) != 0) {
      r.d = between(rng, 0, 1000);
    }
    rows.push_back(r);
  }
  return rows;
}

std::string describeAll(const std::vector<WindowResult> &rs) {
  std::ostringstream os;
  for (const WindowResult &r : rs) {
    os << "  " << describe(r) << '\n';
  }
  return os.str();
}

// 24 bytes before and after `at`, in hex, for a failing comparison of snapshots.
std::string hexAround(const std::string &b, std::size_t at) {
  std::ostringstream os;
  std::size_t from = at > 24 ? at - 24 : 0;
  for (std::size_t i = from; i < std::min(b.size(), at + 24); ++i) {
    os << (i == at ? "[" : "") << "0123456789abcdef"[(b[i] >> 4) & 15]
       << "0123456789abcdef"[b[i] & 15] << (i == at ? "]" : "") << ' ';
  }
  return os.str();
}

struct Pair {
  std::unique_ptr<WindowAggregator> fast;
  std::unique_ptr<WindowAggregator> original; // after the restore: the runtime it came from
  std::unique_ptr<ReferenceAggregator> slow;
  std::size_t records = 0;
  std::size_t revisions = 0;
  std::size_t late = 0;
  std::size_t omitted = 0;

  explicit Pair(const AggregateSpec &s)
      : fast(std::make_unique<WindowAggregator>(s)),
        slow(std::make_unique<ReferenceAggregator>(s)) {}

  void check(const std::vector<WindowResult> &a, const std::vector<WindowResult> &b,
             const std::string &what) {
    INFO(what << "\nruntime:\n" << describeAll(a) << "reference:\n" << describeAll(b));
    REQUIRE(a == b);
    records += a.size();
    for (const WindowResult &r : a) {
      revisions += r.revision > 0 ? 1 : 0;
      omitted += r.event_count > kMaxEventsKept ? 1 : 0;
    }
  }
  void event(const Row &row) {
    RowInput in(row);
    std::vector<WindowResult> a;
    std::vector<WindowResult> b;
    EventFate fa = fast->onEvent(row.key, in.get(), a);
    if (original) {
      std::vector<WindowResult> o;
      REQUIRE(original->onEvent(row.key, in.get(), o) == fa);
      REQUIRE(o == a);
    }
    EventFate fb = slow->onEvent(row.key, in.get(), b);
    INFO("event " << row.key << " t=" << row.time << " #" << row.seq
                  << " watermark=" << fast->watermark());
    REQUIRE(fa == fb);
    late += fa == EventFate::Late ? 1 : 0;
    check(a, b, "onEvent");
  }
  void advance(std::int64_t w) {
    std::vector<WindowResult> a;
    std::vector<WindowResult> b;
    fast->advance(w, a);
    slow->advance(w, b);
    if (original) {
      std::vector<WindowResult> o;
      original->advance(w, o);
      REQUIRE(o == a);
    }
    check(a, b, "advance to " + std::to_string(w));
  }
  // Both runtimes write the same snapshot bytes; each is replaced by a restore of the OTHER's
  // bytes (the reference from the runtime's, the runtime from the reference's), which must go on
  // as the runtime that was not restored (`original`) does, and snapshot the same bytes again.
  void restoreFast() {
    std::string bytes;
    fast->snapshot(bytes);
    std::string reference;
    slow->snapshot(reference);
    if (reference != bytes) {
      std::size_t at = 0;
      while (at < reference.size() && at < bytes.size() && reference[at] == bytes[at]) {
        ++at;
      }
      FAIL("the reference's snapshot differs from the runtime's at byte "
           << at << " of " << bytes.size() << " (reference " << reference.size()
           << "):\n  runtime:   " << hexAround(bytes, at)
           << "\n  reference: " << hexAround(reference, at));
    }
    auto back = std::make_unique<WindowAggregator>(fast->spec());
    back->restore(reference);
    std::string again;
    back->snapshot(again);
    REQUIRE(again == bytes);
    auto slow_back = std::make_unique<ReferenceAggregator>(fast->spec());
    slow_back->restore(bytes);
    again.clear();
    slow_back->snapshot(again);
    REQUIRE(again == bytes);
    slow = std::move(slow_back);
    original = std::exchange(fast, std::move(back));
  }
};

// The run loop's order (docs/semantics.md §3): late events at once, the others through a
// reorder buffer released when the watermark passes them, advance(t - 1) before the events of a
// new time t, advance(watermark) after each batch, finish at the end.
void drive(Pair &p, const std::vector<Row> &rows, std::int64_t max_delay, std::size_t cut,
           Rng &rng) {
  std::int64_t w = kNoWatermark;
  std::vector<Row> buffer;
  Rng hints(rows.size()); // apart from rng: the cases stay what they were
  auto release = [&](std::int64_t upto) {
    std::sort(buffer.begin(), buffer.end(), [](const Row &a, const Row &b) {
      return std::tie(a.time, a.seq) < std::tie(b.time, b.seq);
    });
    std::size_t n = 0;
    while (n < buffer.size() && buffer[n].time <= upto) {
      // The driver's prefetch hint (engine/driver.hpp "Prefetch"), to the runtime only: the
      // key of an event further on (maybe never released here, maybe a key erased by then),
      // or now and then any key; the hints must change nothing (the reference, and after the
      // restore the original runtime, see none).
      if (between(hints, 0, 3) != 0) {
        p.fast->prefetch(n + 8 < buffer.size()       ? buffer[n + 8].key
                         : between(hints, 0, 1) == 0 ? std::string("\"gone\"")
                                                     : buffer.back().key);
      }
      p.advance(buffer[n].time - 1);
      p.event(buffer[n]);
      ++n;
    }
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i == cut) {
      p.restoreFast();
    }
    const Row &r = rows[i];
    if (w != kNoWatermark && r.time <= w) {
      p.event(r); // late: the aggregate decides whether a window still takes it
    } else {
      buffer.push_back(r);
      w = std::max(w, r.time - max_delay - 1);
    }
    if (between(rng, 0, 30) == 0) {
      w = std::max(w, r.time + between(rng, -10, 10)); // an explicit watermark
    }
    release(w);
    p.advance(w);
  }
  release(kEndWatermark);
  std::vector<WindowResult> a;
  std::vector<WindowResult> b;
  p.fast->finish(a);
  p.slow->finish(b);
  p.check(a, b, "finish");
  if (p.original) {
    std::vector<WindowResult> o;
    p.original->finish(o);
    REQUIRE(o == a);
    std::string x;
    std::string y;
    p.original->snapshot(x);
    p.fast->snapshot(y);
    REQUIRE(x == y);
    std::string z;
    p.slow->snapshot(z);
    REQUIRE(z == y);
  }
  // Everything is written and dropped, but a running aggregate without ttl keeps its keys.
  const AggregateSpec &s = p.fast->spec();
  if (s.window != WindowKind::None || s.ttl_ms > 0) {
    REQUIRE(p.fast->stats().keys == 0);
  }
}

struct Totals {
  std::size_t records = 0;
  std::size_t revisions = 0;
  std::size_t late = 0;
  std::size_t omitted = 0;
};

Totals runSeeds(std::uint64_t seeds, bool long_streams) {
  Totals t;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    Rng rng(seed);
    AggregateSpec spec = randomSpec(rng, long_streams);
    std::size_t count =
        static_cast<std::size_t>(long_streams ? between(rng, 1000, 2500) : between(rng, 1, 160));
    std::vector<Row> rows = randomRows(rng, count, long_streams);
    std::int64_t max_delay = pick(rng, {0, 5, 30});
    std::size_t cut = static_cast<std::size_t>(between(rng, 0, static_cast<std::int64_t>(count)));
    INFO("seed " << seed << ": window " << windowKindName(spec.window) << " " << spec.size_ms << "/"
                 << spec.slide_ms << " lateness " << spec.lateness_ms << " ttl " << spec.ttl_ms
                 << ", " << count << " events, max delay " << max_delay
                 << ", restored before event " << cut);
    Pair p(spec);
    drive(p, rows, max_delay, cut, rng);
    t.records += p.records;
    t.revisions += p.revisions;
    t.late += p.late;
    t.omitted += p.omitted;
  }
  return t;
}

} // namespace

TEST_CASE("aggregate: the window runtime writes what the reference writes", "[aggregate]") {
  Totals t = runSeeds(400, false);
  // The streams exercise what they are meant to.
  CHECK(t.records > 10000);
  CHECK(t.revisions > 100);
  CHECK(t.late > 100);
}

TEST_CASE("aggregate: the same on long streams and large windows", "[aggregate]") {
  Totals t = runSeeds(12, true);
  CHECK(t.records > 5000);
  CHECK(t.omitted > 0); // windows of more than 1,000 events
}
