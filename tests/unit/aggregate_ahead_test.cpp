// Time windows' keys restored ahead of the operator (runtime/aggregate/aggregator.hpp fired_;
// docs/kafka.md "An aggregate's windows of a partition taken over ahead"): a member at
// watermark 7 takes over the key record of a partition whose writer was at 12. The keys go in
// under 7 with the mark 12 (snapshot_format.hpp withFiredMark): the member's own windows ending
// in between are written, the writer's windows that fired are not written again, an event late
// for the writer is late here, and the mark survives a key record written while it is live.
#include "aggregate_fixture_test.hpp"
#include "runtime/aggregate/snapshot_format.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <tuple>

using namespace cep::runtime;
using namespace cep::runtime::aggregate;
using namespace cep::runtime::aggregate::testing;

namespace {

void event(WindowAggregator &agg, const std::string &key, std::int64_t t, std::uint64_t seq,
           std::vector<WindowResult> &out) {
  Row r;
  r.key = key;
  r.time = t;
  r.seq = seq;
  r.n = t;
  RowInput in(r);
  agg.onEvent(key, in.get(), out);
}

AggregateSpec hopping(std::int64_t lateness) {
  AggregateSpec s;
  s.name = "ahead";
  s.window = WindowKind::Hopping;
  s.size_ms = 10;
  s.slide_ms = 5;
  s.lateness_ms = lateness;
  s.accumulators = {countAll(), acc(AggFn::Sum, kN)};
  return s;
}

void sortResults(std::vector<WindowResult> &v) {
  std::sort(v.begin(), v.end(), [](const WindowResult &a, const WindowResult &b) {
    return std::tie(a.key, a.end, a.revision, a.order) <
           std::tie(b.key, b.end, b.revision, b.order);
  });
}

std::vector<std::pair<std::string, std::string>> keyRecords(const WindowAggregator &agg) {
  std::string header;
  std::vector<std::pair<std::string, std::string>> keys;
  agg.snapshotParts(header, keys);
  return keys;
}

// The windows from the takeover on of the member R (restored from its own keys at 7 and the
// writer's at 12, marked), of R2 (R's key records taken at 8, the mark live, restored), and of
// the two uninterrupted aggregators (the writer's key "a", the member's "b"); then R's and the
// uninterrupted ones' key records at 20.
struct Scene {
  std::vector<WindowResult> restored, round_trip, expected;
  std::vector<std::pair<std::string, std::string>> restored_records, expected_records;
};

Scene run(std::int64_t lateness, bool mark) {
  const AggregateSpec spec = hopping(lateness);
  std::vector<WindowResult> before; // written before the takeover (not compared)
  WindowAggregator ua(spec), ub(spec);
  event(ua, "\"a\"", 1, 1, before);
  event(ua, "\"a\"", 3, 2, before);
  event(ua, "\"a\"", 6, 3, before);
  event(ua, "\"a\"", 8, 4, before);
  event(ua, "\"a\"", 11, 5, before);
  ua.advance(12, before); // windows ending 5 and 10 fired; pane [5, 10) stays for 15
  event(ub, "\"b\"", 2, 1, before);
  event(ub, "\"b\"", 4, 2, before);
  event(ub, "\"b\"", 6, 3, before);
  ub.advance(7, before); // window ending 5 fired

  std::string header_a, header_b;
  std::vector<std::pair<std::string, std::string>> keys_a, keys_b;
  ua.snapshotParts(header_a, keys_a);
  ub.snapshotParts(header_b, keys_b);
  std::vector<std::string> owned;
  for (const auto &[name, record] : keys_a) {
    owned.push_back(mark ? withFiredMark(spec.window, record, watermarkOfSnapshotHeader(header_a))
                         : record);
  }
  for (const auto &[name, record] : keys_b) {
    owned.push_back(record);
  }
  std::vector<std::string_view> records(owned.begin(), owned.end());
  // Under the member's own watermark (7): what cep serve's restoreWindows does.
  WindowAggregator r(spec);
  r.restoreParts(header_b, records);
  REQUIRE(r.watermark() == 7);

  Scene s;
  event(r, "\"b\"", 8, 4, s.restored);
  event(ub, "\"b\"", 8, 4, s.expected);
  r.advance(8, s.restored);
  ub.advance(8, s.expected);
  // A key record written while the mark is live carries it.
  std::string header_r;
  std::vector<std::pair<std::string, std::string>> keys_r;
  r.snapshotParts(header_r, keys_r);
  std::vector<std::string_view> records_r;
  for (const auto &[name, record] : keys_r) {
    records_r.push_back(record);
  }
  WindowAggregator r2(spec);
  r2.restoreParts(header_r, records_r);
  // a@9: late for the writer (at 12), whose window ending 10 fired: counted for 15 only (with
  // lateness, window 10's revision). Then both keys go on; the windows ending 10 (b's: the
  // member's own, between 7 and 12) and 15, 20 fire.
  for (auto [agg, out] : {std::pair{&r, &s.restored}, std::pair{&r2, &s.round_trip}}) {
    event(*agg, "\"a\"", 9, 6, *out);
    agg->advance(12, *out);
    event(*agg, "\"a\"", 13, 7, *out);
    agg->advance(13, *out);
    event(*agg, "\"b\"", 14, 5, *out);
    agg->advance(20, *out);
  }
  event(ua, "\"a\"", 9, 6, s.expected);
  event(ua, "\"a\"", 13, 7, s.expected);
  ub.advance(13, s.expected);
  event(ub, "\"b\"", 14, 5, s.expected);
  ua.advance(20, s.expected);
  ub.advance(20, s.expected);
  s.restored_records = keyRecords(r);
  s.expected_records = keyRecords(ua);
  for (auto &k : keyRecords(ub)) {
    s.expected_records.push_back(k);
  }
  r.finish(s.restored);
  r2.finish(s.round_trip);
  ua.finish(s.expected);
  ub.finish(s.expected);
  sortResults(s.restored);
  sortResults(s.round_trip);
  sortResults(s.expected);
  return s;
}

} // namespace

TEST_CASE("aggregate restored ahead: hopping keys marked fired up to their writer's watermark",
          "[aggregate]") {
  for (std::int64_t lateness : {0, 4}) {
    INFO("lateness " << lateness);
    Scene s = run(lateness, true);
    CHECK(s.restored.size() == s.expected.size());
    CHECK(s.restored == s.expected);
    CHECK(s.round_trip == s.expected);
    // The member's own window ending 10 (between its watermark and the writer's) is written;
    // the writer's is not written again.
    auto count = [&](const std::string &key, std::int64_t end) {
      return std::count_if(s.restored.begin(), s.restored.end(), [&](const WindowResult &r) {
        return r.key == key && r.end == end && r.revision == 0;
      });
    };
    CHECK(count("\"b\"", 10) == 1);
    CHECK(count("\"a\"", 10) == 0);
    // Past the mark, the keys' records are the uninterrupted ones' (no mark left).
    CHECK(s.restored_records == s.expected_records);
  }
}

TEST_CASE("aggregate restored ahead: without the mark the writer's fired windows are written "
          "again",
          "[aggregate]") {
  Scene s = run(0, false);
  CHECK(s.restored != s.expected);
}

TEST_CASE("aggregate restored ahead: the mark in a key record", "[aggregate]") {
  WindowAggregator a(hopping(0));
  std::vector<WindowResult> out;
  event(a, "\"a\"", 3, 1, out);
  a.advance(4, out);
  auto keys = keyRecords(a);
  REQUIRE(keys.size() == 1);
  const std::string marked = withFiredMark(WindowKind::Hopping, keys[0].second, 9);
  CHECK(marked.size() == keys[0].second.size() + 8);
  // A later mark replaces it, an earlier one leaves it.
  CHECK(withFiredMark(WindowKind::Hopping, marked, 12) ==
        withFiredMark(WindowKind::Hopping, keys[0].second, 12));
  CHECK(withFiredMark(WindowKind::Hopping, marked, 5) == marked);
  // The interpreter's aggregator refuses a marked key with the reason (only cep serve's native
  // operator holds one); the unmarked record restores there.
  std::string header;
  std::vector<std::pair<std::string, std::string>> parts;
  a.snapshotParts(header, parts);
  std::string bytes = header;
  SnapshotWriter w(bytes);
  w.u64(1);
  ReferenceAggregator ref(hopping(0));
  ref.restore(bytes + keys[0].second);
  ReferenceAggregator refused(hopping(0));
  CHECK_THROWS_WITH(refused.restore(bytes + marked), Catch::Contains("carries a fired-up-to mark"));
}

// Every window kind through the one path (service/serve_partitions.cpp restoreWindows): the
// writer's key "a" at 12 and the member's key "b" at 7, restored under 7 with a's key marked 12;
// then the same steps on the restored aggregator R and on the two uninterrupted ones. a@6, a@7
// and a@9 are at or before the mark: late for the writer where it judged them late (sessions
// without `lateness`, rolling, none, tumbling), a revision of the window it wrote where it
// counted them (sessions and time windows with `lateness`, written at once as there: a@7 a
// second revision; a@9, after the member's watermark, is where a key without its mark would
// count an event its writer did not, or break a rolling or running key's time order). b's own
// windows between 7 and 12 are written when R's watermark passes them. R2 is R's key records taken
// at 9 (the mark live) restored, and goes on with R.
namespace {

struct Step {
  char what; // 'e': an event of `key` at `t`; 'a': advance to t; 's': R's key records to R2
  const char *key;
  std::int64_t t;
  std::uint64_t seq;
};

struct KindScene {
  std::vector<WindowResult> restored, tail, round_trip, expected;
  std::vector<std::pair<std::string, std::string>> restored_records, expected_records;
  std::int64_t marked = 0; // R's keys with a live mark right after the restore
};

KindScene runKind(const AggregateSpec &spec, bool mark, const std::vector<Step> &steps) {
  std::vector<WindowResult> before;
  WindowAggregator ua(spec), ub(spec);
  event(ua, "\"a\"", 3, 1, before);
  event(ua, "\"a\"", 5, 2, before);
  ua.advance(7, before);
  event(ua, "\"a\"", 8, 3, before);
  event(ua, "\"a\"", 11, 4, before);
  ua.advance(12, before);
  event(ub, "\"b\"", 2, 1, before);
  event(ub, "\"b\"", 6, 2, before);
  ub.advance(7, before);

  std::string header_a, header_b;
  std::vector<std::pair<std::string, std::string>> keys_a, keys_b;
  ua.snapshotParts(header_a, keys_a);
  ub.snapshotParts(header_b, keys_b);
  std::vector<std::string> owned;
  for (const auto &[name, record] : keys_a) {
    owned.push_back(mark ? withFiredMark(spec.window, record, watermarkOfSnapshotHeader(header_a))
                         : record);
  }
  for (const auto &[name, record] : keys_b) {
    owned.push_back(record);
  }
  std::vector<std::string_view> records(owned.begin(), owned.end());
  WindowAggregator r(spec);
  r.restoreParts(header_b, records);
  REQUIRE(r.watermark() == 7);
  KindScene s;
  s.marked = static_cast<std::int64_t>(r.firedMarks().size());
  std::unique_ptr<WindowAggregator> r2;
  for (const Step &st : steps) {
    if (st.what == 's') {
      std::string header_r;
      std::vector<std::pair<std::string, std::string>> keys_r;
      r.snapshotParts(header_r, keys_r);
      std::vector<std::string_view> records_r;
      for (const auto &[name, record] : keys_r) {
        records_r.push_back(record);
      }
      r2 = std::make_unique<WindowAggregator>(spec);
      r2->restoreParts(header_r, records_r);
      continue;
    }
    std::vector<WindowResult> out;
    if (st.what == 'a') {
      r.advance(st.t, out);
      ua.advance(st.t, s.expected);
      ub.advance(st.t, s.expected);
      if (r2) {
        r2->advance(st.t, s.round_trip);
      }
    } else {
      event(r, st.key, st.t, st.seq, out);
      event(std::string(st.key) == "\"a\"" ? ua : ub, st.key, st.t, st.seq, s.expected);
      if (r2) {
        event(*r2, st.key, st.t, st.seq, s.round_trip);
      }
    }
    s.restored.insert(s.restored.end(), out.begin(), out.end());
    if (r2) {
      s.tail.insert(s.tail.end(), out.begin(), out.end());
    }
  }
  s.restored_records = keyRecords(r);
  s.expected_records = keyRecords(ua);
  for (auto &k : keyRecords(ub)) {
    s.expected_records.push_back(k);
  }
  std::vector<WindowResult> out;
  r.finish(out);
  s.restored.insert(s.restored.end(), out.begin(), out.end());
  s.tail.insert(s.tail.end(), out.begin(), out.end());
  r2->finish(s.round_trip);
  ua.finish(s.expected);
  ub.finish(s.expected);
  sortResults(s.restored);
  sortResults(s.tail);
  sortResults(s.round_trip);
  sortResults(s.expected);
  return s;
}

const std::vector<Step> kSteps = {
    {'e', "\"a\"", 6, 10},  {'e', "\"a\"", 7, 11}, {'a', nullptr, 8, 0},   {'e', "\"a\"", 9, 17},
    {'e', "\"b\"", 9, 12},  {'a', nullptr, 9, 0},  {'s', nullptr, 0, 0},   {'e', "\"a\"", 7, 13},
    {'e', "\"b\"", 10, 14}, {'a', nullptr, 12, 0}, {'e', "\"a\"", 13, 15}, {'e', "\"b\"", 13, 16},
    {'a', nullptr, 30, 0},
};

AggregateSpec kindSpec(WindowKind kind, std::int64_t size, std::int64_t lateness) {
  AggregateSpec s;
  s.name = "ahead";
  s.window = kind;
  s.size_ms = size;
  s.slide_ms = kind == WindowKind::Hopping ? size / 2 : kind == WindowKind::Cumulate ? 2 : 0;
  s.lateness_ms = lateness;
  s.accumulators = {countAll(), acc(AggFn::Sum, kN)};
  return s;
}

void checkKind(const AggregateSpec &spec) {
  KindScene s = runKind(spec, true, kSteps);
  CHECK(s.marked == 1);
  CHECK(s.restored.size() == s.expected.size());
  CHECK(s.restored == s.expected);
  CHECK(s.round_trip == s.tail);
  CHECK(s.restored_records == s.expected_records);
}

} // namespace

TEST_CASE("aggregate restored ahead: sessions with lateness marked fired up to their writer's "
          "watermark",
          "[aggregate]") {
  const AggregateSpec spec = kindSpec(WindowKind::Session, 3, 4);
  checkKind(spec);
  // a@6 and a@7 join the writer's session [8, 11) (fired at 10, kept for lateness): revisions
  // 1 and 2 written at once, as the writer wrote them.
  KindScene s = runKind(spec, true, kSteps);
  auto revisions = std::count_if(s.restored.begin(), s.restored.end(), [](const WindowResult &r) {
    return r.key == "\"a\"" && r.revision > 0;
  });
  CHECK(revisions >= 2);
  // Without the mark they are judged under the member's watermark: pending, one record later.
  CHECK(runKind(spec, false, kSteps).restored != s.expected);
}

TEST_CASE("aggregate restored ahead: an event late for the writer is late for every window kind",
          "[aggregate]") {
  struct Kind {
    const char *name;
    AggregateSpec spec;
  };
  const std::vector<Kind> kinds = {
      {"session", kindSpec(WindowKind::Session, 3, 0)},
      {"rolling", kindSpec(WindowKind::Rolling, 10, 0)},
      {"none", kindSpec(WindowKind::None, 0, 0)},
      {"tumbling", kindSpec(WindowKind::Tumbling, 5, 0)},
      {"tumbling with lateness", kindSpec(WindowKind::Tumbling, 5, 3)},
      {"cumulate", kindSpec(WindowKind::Cumulate, 8, 0)},
  };
  for (const Kind &k : kinds) {
    INFO(k.name);
    checkKind(k.spec);
  }
}

TEST_CASE("aggregate restored ahead: a key idle with its mark live is kept until the mark passes",
          "[aggregate]") {
  // A rolling key restored with a mark far ahead of its state's end (the mark of a record whose
  // writer was at 100): its state ends at 20, it goes idle and would be reclaimed after its
  // window's length (10), but its mark still says how its events are judged.
  const AggregateSpec spec = kindSpec(WindowKind::Rolling, 10, 0);
  std::vector<WindowResult> out;
  WindowAggregator ua(spec);
  event(ua, "\"a\"", 8, 1, out);
  event(ua, "\"a\"", 11, 2, out);
  ua.advance(12, out);
  std::string header;
  std::vector<std::pair<std::string, std::string>> keys;
  ua.snapshotParts(header, keys);
  REQUIRE(keys.size() == 1);
  const std::string marked = withFiredMark(spec.window, keys[0].second, 100);
  WindowAggregator r(spec);
  r.restoreParts(withSnapshotHeaderWatermark(header, 7), {marked});
  r.advance(21, out); // its state ends (11 + 10 - 1 = 20): idle
  r.advance(35, out); // a window's length later: it would be reclaimed
  CHECK(r.firedMarks() == std::vector<std::pair<std::string, std::int64_t>>{{"\"a\"", 100}});
  out.clear();
  Row row;
  row.key = "\"a\"";
  row.time = 36;
  row.seq = 3;
  row.n = 36;
  RowInput in(row);
  CHECK(r.onEvent("\"a\"", in.get(), out) == EventFate::Late); // late where it was written
  CHECK(out.empty());
  // Past the mark: the mark and the key held for it go.
  r.advance(100, out);
  CHECK(r.firedMarks().empty());
  CHECK(r.stats().idle_keys == 0);
}
