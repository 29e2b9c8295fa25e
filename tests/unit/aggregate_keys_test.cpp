// The window runtime's key table (runtime/aggregate/key_table.hpp) against a std::map, and keys
// that go idle when their windows empty: kept for their next event, reclaimed after the
// aggregate's horizon (runtime/aggregate/aggregator.hpp).
#include "aggregate_fixture_test.hpp"
#include "runtime/aggregate/key_table.hpp"
#include "runtime/aggregate/pane_columns.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <random>

using namespace cep::runtime;
using namespace cep::runtime::aggregate;
using namespace cep::runtime::aggregate::testing;

namespace {

struct Run {
  WindowAggregator agg;
  std::uint64_t seq = 0;
  std::vector<WindowResult> out;

  explicit Run(AggregateSpec s) : agg(std::move(s)) {}
  void event(const std::string &key, std::int64_t t, std::int64_t n = 1) {
    Row r;
    r.key = key;
    r.time = t;
    r.seq = ++seq;
    r.n = n;
    RowInput in(r);
    agg.onEvent(key, in.get(), out);
  }
  std::vector<WindowResult> take() { return std::exchange(out, {}); }
};

AggregateSpec spec(WindowKind k, std::int64_t size) {
  AggregateSpec s;
  s.name.assign(1, 'a');
  s.window = k;
  s.size_ms = size;
  s.accumulators = {countAll(), acc(AggFn::Sum, kN)};
  return s;
}

} // namespace

TEST_CASE("aggregate key table: finds, inserts and erases as a map does", "[aggregate]") {
  KeyTable table;
  std::map<std::string, KeyState *> model;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200000; ++step) {
    std::string key = std::to_string(rng() % 3000);
    if (rng() % 4 == 0) {
      key = "\"user-" + key + "-with-a-longer-name\""; // past one word and the SSO buffer
    }
    std::uint64_t h = KeyTable::hash(key);
    KeyState *found = table.find(key, h);
    auto it = model.find(key);
    REQUIRE((found == nullptr) == (it == model.end()));
    if (found == nullptr) {
      KeyState &k = table.insert(key, h);
      CHECK(k.name == key);
      model.emplace(key, &k);
    } else {
      REQUIRE(found == it->second);
      if (rng() % 2 == 0) { // erase: later keys of its probe run shift back
        table.erase(*found);
        model.erase(it);
      }
    }
    REQUIRE(table.size() == model.size());
  }
  std::size_t seen = 0;
  table.forEach([&](const KeyState &k) {
    ++seen;
    auto it = model.find(k.name);
    REQUIRE(it != model.end());
    CHECK(it->second == &k);
  });
  CHECK(seen == model.size());
  for (const auto &[key, k] : model) {
    CHECK(table.find(key, KeyTable::hash(key)) == k);
    // Its slot number (what the pane columns and the idle list hold) leads back to it, from
    // any of the table's chunks (3,000 keys: 12 of 256, allocated in no address order).
    std::uint32_t slot = table.slotOf(*k);
    CHECK(slot < table.slots());
    CHECK(&table.at(slot) == k);
  }
  CHECK(table.slots() > 2000);
}

TEST_CASE("aggregate pane columns: rows in blocks, found by slot, ids reused", "[aggregate]") {
  // Width 2 (count+sum): 3,000 rows, past the first block's doublings (1 .. 1,024) and into
  // two more blocks; every row's parts stay where they were put.
  PaneColumns cs(2);
  PaneColumn &c = cs.column(7);
  CHECK(c.pane() == 7);
  CHECK(c.id() != 0);
  for (std::uint32_t i = 0; i < 3000; ++i) {
    std::uint32_t row = c.append(10 * i + 1, 100 + i);
    REQUIRE(row == i);
    CHECK(c.count(row) == 0);
    CHECK(c.accs(row)[0].i == 0);
    for (std::uint32_t n = 0; n < i % 3; ++n) {
      c.bump(row);
    }
    c.accs(row)[0].i = -static_cast<std::int64_t>(i);
  }
  CHECK(c.size() == 3000);
  bool same = true;
  Slot cell[2];
  for (std::uint32_t i = 0; i < 3000; ++i) {
    c.load(i, cell);
    same = same && c.slot(i) == 10 * i + 1 && c.first(i) == 100 + i && c.count(i) == i % 3 &&
           cell[0].i == i % 3 && cell[1].i == -static_cast<std::int64_t>(i);
  }
  CHECK(same);
  c.lowerFirst(5, 3);
  c.lowerFirst(5, 50); // not lower: kept
  CHECK(c.first(5) == 3);
  CHECK(c.find(10 * 2999 + 1) == 2999);
  CHECK(c.find(2) == PaneColumn::kNone);
  CHECK(c.append(2, 9) == 3000); // found through the hash built by the first find
  CHECK(c.find(2) == 3000);
  // Three blocks of 1,024 rows: slot number, first arrival and count 4 bytes each, the sum 8.
  CHECK(!c.wide());
  CHECK(c.bytes() >= 3 * 1024 * 20);
  CHECK(c.rowBytes() == 3001 * 20);

  // Columns by pane: made once, in order, dropped from the front; a dropped column's id is
  // reused by the next new one.
  CHECK(&cs.column(7) == &c);
  std::uint32_t first_id = c.id();
  PaneColumn &d = cs.column(9);
  PaneColumn &e = cs.column(8);
  CHECK(cs.count() == 3);
  CHECK(&cs.front() == &c);
  CHECK(&cs.back() == &d);
  CHECK(&cs.byId(e.id()) == &e);
  cs.dropFront();
  CHECK(&cs.front() == &e);
  CHECK(cs.column(20).id() == first_id);
  CHECK(cs.count() == 3);
}

TEST_CASE("aggregate pane columns: counts and first arrivals widen past 32 bits", "[aggregate]") {
  // A column keeps counts and first arrivals (from its first row's) in 4 bytes; a count past
  // 2^32 - 1 or an arrival 2^31 or more from the base widens the whole column to 8 bytes, every
  // row's parts kept. Each way in: bump, store (a restored cell), append and lowerFirst.
  constexpr std::uint64_t k32 = std::uint64_t{1} << 32;
  auto fill = [](PaneColumn &c, std::uint32_t rows, std::uint64_t base) {
    for (std::uint32_t i = 0; i < rows; ++i) {
      std::uint32_t row = c.append(i + 1, base + i);
      c.bump(row);
      c.accs(row)[0].i = 1000 + i;
      c.accs(row)[1].i = -static_cast<std::int64_t>(i);
    }
  };
  auto intact = [](const PaneColumn &c, std::uint32_t rows, std::uint64_t base) {
    bool same = true;
    Slot cell[3];
    for (std::uint32_t i = 0; i < rows; ++i) {
      c.load(i, cell);
      same = same && c.slot(i) == i + 1 && c.first(i) == base + i && cell[0].i == 1 &&
             cell[1].i == 1000 + i && cell[2].i == -static_cast<std::int64_t>(i);
    }
    return same;
  };
  const std::uint64_t base = 5'000'000'000ULL; // above 2^32 itself
  SECTION("a count past 2^32 - 1") {
    PaneColumns cs(3);
    PaneColumn &c = cs.column(1);
    fill(c, 1500, base); // two blocks
    Slot cell[3];
    c.load(7, cell);
    cell[0].i = static_cast<std::int64_t>(k32 - 2);
    c.store(7, cell);
    CHECK(!c.wide());
    CHECK(c.bump(7) == k32 - 1);
    CHECK(!c.wide());
    CHECK(c.bump(7) == k32);
    CHECK(c.wide());
    CHECK(c.count(7) == k32);
    c.load(7, cell);
    cell[0].i = 1;
    c.store(7, cell);
    CHECK(intact(c, 1500, base));
    CHECK(c.rowBytes() == 1500 * (4 + 16 + 16));
    CHECK(c.append(99999, base + 1500) == 1500); // appends go on in the wide layout
    CHECK(c.first(1500) == base + 1500);
  }
  SECTION("a restored count of 2^40") {
    PaneColumns cs(3);
    PaneColumn &c = cs.column(1);
    fill(c, 3, base); // the first block, doubled from one row to four
    Slot cell[3] = {};
    cell[0].i = std::int64_t{1} << 40;
    std::uint32_t row = c.append(77, base + 1);
    c.store(row, cell);
    CHECK(c.wide());
    CHECK(c.count(row) == std::uint64_t{1} << 40);
    CHECK(intact(c, 3, base));
    c.append(78, base + 2); // the first block doubles again, wide
    CHECK(intact(c, 3, base));
    CHECK(c.count(row) == std::uint64_t{1} << 40);
  }
  SECTION("a first arrival 2^31 after the base") {
    PaneColumns cs(3);
    PaneColumn &c = cs.column(1);
    fill(c, 1100, base);
    std::uint32_t row = c.append(5000, base + (std::uint64_t{1} << 31) - 1); // still fits
    CHECK(!c.wide());
    CHECK(c.first(row) == base + (std::uint64_t{1} << 31) - 1);
    row = c.append(5001, base + (std::uint64_t{1} << 31));
    CHECK(c.wide());
    CHECK(c.first(row) == base + (std::uint64_t{1} << 31));
    CHECK(c.first(row - 1) == base + (std::uint64_t{1} << 31) - 1);
    CHECK(intact(c, 1100, base));
  }
  SECTION("a first arrival lowered more than 2^31 below the base") {
    PaneColumns cs(3);
    PaneColumn &c = cs.column(1);
    fill(c, 10, base);
    c.lowerFirst(9, base - (std::uint64_t{1} << 31)); // still fits
    CHECK(!c.wide());
    CHECK(c.first(9) == base - (std::uint64_t{1} << 31));
    c.lowerFirst(8, 3);
    CHECK(c.wide());
    CHECK(c.first(8) == 3);
    CHECK(c.first(9) == base - (std::uint64_t{1} << 31));
    CHECK(intact(c, 8, base));
  }
}

TEST_CASE("aggregate: a key whose window emptied comes back with fresh state", "[aggregate]") {
  Run tumbling(spec(WindowKind::Tumbling, 10));
  tumbling.agg.advance(-1, tumbling.out);
  tumbling.event("k", 0, 5);
  tumbling.event("k", 3, 5);
  tumbling.agg.advance(9, tumbling.out);
  auto out = tumbling.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].values[1].i == 10);
  CHECK(tumbling.agg.stats().keys == 0); // idle: not state
  std::string idle;
  tumbling.agg.snapshot(idle);
  tumbling.event("k", 12, 7);
  tumbling.agg.advance(19, tumbling.out);
  out = tumbling.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].key == "k");
  CHECK(out[0].start == 10);
  CHECK(out[0].values[0].i == 1);
  CHECK(out[0].values[1].i == 7);
  WindowAggregator empty(spec(WindowKind::Tumbling, 10));
  empty.advance(9, tumbling.out);
  std::string none;
  empty.snapshot(none);
  CHECK(idle == none); // an idle key is in no snapshot

  Run rolling(spec(WindowKind::Rolling, 100));
  rolling.agg.advance(-1, rolling.out);
  rolling.event("r", 0, 1);
  rolling.event("r", 50, 2);
  rolling.agg.advance(1000, rolling.out); // the window emptied: the key goes idle
  CHECK(rolling.agg.stats().keys == 0);
  CHECK(rolling.agg.stats().windows == 0);
  rolling.take();
  rolling.event("r", 1001, 4);
  out = rolling.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].start == 1001);
  CHECK(out[0].values[0].i == 1);
  CHECK(out[0].values[1].i == 4);
}

TEST_CASE("aggregate: a rolling key is processed only when its state ends, not while it is busy",
          "[aggregate]") {
  // 100 keys, each with an event every 25 ms for 100 windows of 100 ms: their due (last event
  // + 99) moves at every event; none of them is processed before its last event's window ends.
  for (WindowKind kind : {WindowKind::Rolling, WindowKind::None}) {
    AggregateSpec s = spec(kind, 100);
    if (kind == WindowKind::None) {
      s.size_ms = 0;
      s.ttl_ms = 100;
    }
    Run run(s);
    run.agg.advance(-1, run.out);
    for (std::int64_t t = 0; t < 10'000; t += 25) {
      run.agg.advance(t - 1, run.out);
      for (int k = 0; k < 100; ++k) {
        run.event("k" + std::to_string(k), t);
      }
    }
    run.take();
    CHECK(run.agg.stats().processed == 0);
    CHECK(run.agg.stats().keys == 100);
    // Each key's state ends at exactly its last event (9,975) + 99, not before.
    run.agg.advance(9'975 + 98, run.out);
    CHECK(run.agg.stats().processed == 0);
    CHECK(run.agg.stats().keys == 100);
    CHECK(run.agg.nextDue() <= 9'975 + 99);
    run.agg.advance(9'975 + 99, run.out);
    CHECK(run.agg.stats().processed == 100);
    CHECK(run.agg.stats().keys == 0);
    CHECK(run.agg.stats().idle_keys == (kind == WindowKind::Rolling ? 100 : 0));
  }
}

TEST_CASE("aggregate: a rolling count alone holds the events of t - S < time <= t", "[aggregate]") {
  // No accumulator reads a field: the queue of times is the whole state (runningEvent's short
  // path, `rolling 1h ... having count(e) > 10`).
  AggregateSpec s = spec(WindowKind::Rolling, 100);
  s.accumulators = {countAll()};
  Run run(s);
  run.agg.advance(-1, run.out);
  const std::int64_t times[] = {0, 50, 100, 150, 151, 400};
  for (std::int64_t t : times) {
    run.agg.advance(t - 1, run.out);
    run.event("k", t);
  }
  auto out = run.take();
  REQUIRE(out.size() == 6);
  const std::int64_t counts[] = {1, 2, 2, 2, 3, 1};
  const std::int64_t starts[] = {0, 0, 50, 100, 100, 400};
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].end == times[i]);
    CHECK(out[i].values[0].i == counts[i]);
    CHECK(out[i].start == starts[i]);
  }
}

TEST_CASE("aggregate: idle keys are reclaimed a window's length after they emptied",
          "[aggregate]") {
  Run run(spec(WindowKind::Tumbling, 10));
  run.agg.advance(-1, run.out);
  for (int k = 0; k < 1000; ++k) {
    std::string key = "a"; // (not "a" + ...: g++ 12 warns of a restrict overlap there)
    key += std::to_string(k);
    run.event(key, 0);
  }
  run.agg.advance(9, run.out); // every window fires: 1,000 idle keys
  CHECK(run.agg.stats().keys == 0);
  CHECK(run.agg.stats().idle_keys == 1000);
  run.agg.advance(9 + 9, run.out); // not yet a window's length after
  CHECK(run.agg.stats().idle_keys == 1000);
  run.event("a7", 25); // comes back: state again, not idle
  CHECK(run.agg.stats().keys == 1);
  CHECK(run.agg.stats().idle_keys == 999);
  run.agg.advance(9 + 10, run.out); // reclaimed, but for a7
  CHECK(run.agg.stats().idle_keys == 0);
  CHECK(run.agg.stats().keys == 1);
  run.agg.advance(29, run.out); // a7's window fires: idle again
  CHECK(run.agg.stats().idle_keys == 1);
  run.agg.advance(29 + 10, run.out);
  CHECK(run.agg.stats().idle_keys == 0);
  CHECK(run.agg.stats().keys == 0);
  auto out = run.take();
  REQUIRE(out.size() == 1001);
  CHECK(out.back().key == "a7");
  CHECK(out.back().start == 20);
}

TEST_CASE("aggregate: the having filter drops results, and windows still count as written",
          "[aggregate]") {
  // count > 2, as `having count(p) > 2` in the native operator (WindowAggregator::setFilter).
  auto more_than_two = [](void *calls, const std::vector<AggValue> &values) {
    ++*static_cast<int *>(calls);
    return values[0].i > 2;
  };
  int calls = 0;
  Run rolling(spec(WindowKind::Rolling, 100));
  rolling.agg.setFilter(more_than_two, &calls);
  rolling.agg.advance(-1, rolling.out);
  for (int t = 0; t < 5; ++t) {
    rolling.event("r", t, t);
  }
  auto out = rolling.take();
  CHECK(calls == 5);
  REQUIRE(out.size() == 3); // the 3rd, 4th and 5th event
  CHECK(out[0].end == 2);
  CHECK(out[0].values[0].i == 3);
  CHECK(out[0].values[1].i == 0 + 1 + 2);
  CHECK(out[2].values[0].i == 5);

  AggregateSpec s = spec(WindowKind::Tumbling, 10);
  s.lateness_ms = 20;
  Run late(s);
  late.agg.setFilter(more_than_two, &calls);
  late.event("k", 0);
  late.event("k", 5);
  late.agg.advance(9, late.out);
  CHECK(late.take().empty()); // 2 events: filtered out, but written (revision 0)
  late.event("k", 3);         // late, within lateness: the window's first rewrite
  out = late.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].revision == 1);
  CHECK(out[0].values[0].i == 3);
}
