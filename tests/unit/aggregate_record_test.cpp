// The speed paths of aggregate records (bench/RESULTS.md "Aggregates"): the records' constant
// bytes encoded once and the cached date (runtime/aggregate/record_writer.hpp) write what a
// JsonWriter writes; recycled window results (WindowAggregator::recycle) carry nothing over
// from the records they were before.
#include "aggregate_fixture_test.hpp"
#include "runtime/aggregate/record_writer.hpp"
#include "runtime/io/json_writer.hpp"

#include <catch2/catch.hpp>
#include <random>

using namespace cep::runtime;
using namespace cep::runtime::aggregate;
using namespace cep::runtime::aggregate::testing;

namespace {

std::string jsonTime(std::int64_t ms) {
  std::string s;
  appendJsonTime(s, ms);
  return s;
}

std::string recordTime(DateCache &cache, std::int64_t ms) {
  std::string s;
  appendRecordTime(s, cache, ms);
  return s;
}

} // namespace

TEST_CASE("aggregate records: the cached date writes the times appendJsonTime writes",
          "[aggregate]") {
  DateCache cache;
  const std::int64_t day = 86'400'000;
  std::vector<std::int64_t> times = {0, 1, -1, day - 1, day, -day, -day - 1, 1'700'000'000'123,
                                     1'700'000'000'124,
                                     951'782'400'000, // 2000-02-29
                                     -62'167'219'200'000,
                                     -62'167'219'200'001, // year -1: written in full
                                     253'402'300'799'999,
                                     253'402'300'800'000, // year 10000
                                     INT64_MIN, INT64_MAX,
                                     1'700'000'000'123, // back to a day cached before
                                     // the cached second: the same one, its neighbours, and
                                     // one before zero (its milliseconds count up from -1000)
                                     1'700'000'000'999, 1'700'000'001'000, 1'700'000'001'001,
                                     1'700'000'000'999, -999, -1, -1000, -1001, day + 5, day + 999};
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<std::int64_t> any(-70'000'000'000'000, 260'000'000'000'000);
  std::uniform_int_distribution<std::int64_t> near(-3 * day, 3 * day);
  for (std::int64_t t = 1'700'000'000'990; t < 1'700'000'003'010; t += 7) { // runs of a second
    times.push_back(t);
  }
  for (int i = 0; i < 2000; ++i) {
    times.push_back(any(rng));
    times.push_back(1'700'000'000'000 + near(rng));
    times.push_back(near(rng));
  }
  for (std::int64_t t : times) {
    INFO(t);
    CHECK(recordTime(cache, t) == jsonTime(t));
  }
}

TEST_CASE("aggregate records: the encoded parts write what a JsonWriter writes", "[aggregate]") {
  WindowResult r;
  r.key = R"(["k\"1",2])";
  r.start = 1'700'000'000'000;
  r.end = 1'700'003'600'000;
  r.revision = GENERATE(0U, 3U);
  r.event_count = 1234;
  for (std::string version : {"", "v1\"x"}) {
    RecordHeader h{"Str\"eam\n", "p\xC3\xA9", version};
    std::string expected;
    {
      JsonWriter w(expected);
      w.beginObject();
      w.key("@stream");
      w.writeString(h.stream);
      w.key("@pattern");
      w.writeString(h.name);
      if (!version.empty()) {
        w.key("@version");
        w.writeString(version);
      }
      w.key("@key");
      w.writeRaw(r.key);
      w.key("@start");
      w.writeTime(r.start);
      w.key("@end");
      w.writeTime(r.end);
      if (r.revision > 0) {
        w.key("@revision");
        w.writeInt(r.revision);
      }
      w.key("n\"\t");
      w.writeInt(7);
      w.key("@events_omitted");
      w.writeInt(1234);
      w.endObject();
    }
    RecordParts parts = recordParts(h, {"n\"\t"});
    std::string json;
    beginAggregateRecord(json, parts, r);
    json += parts.fields[0];
    appendJsonInt(json, 7);
    std::map<std::uint64_t, EventRef> none;
    endAggregateRecord(json, r, &none, "e"); // events_kept false: "@events_omitted"
    CHECK(json == expected);
  }
}

TEST_CASE("aggregate records: recycled results equal fresh ones, every window kind",
          "[aggregate]") {
  struct Kind {
    WindowKind kind;
    std::int64_t size;
    std::int64_t step;
    std::int64_t lateness;
  };
  const Kind kinds[] = {{WindowKind::Tumbling, 10, 0, 15}, {WindowKind::Hopping, 10, 5, 7},
                        {WindowKind::Cumulate, 10, 5, 0},  {WindowKind::Session, 5, 0, 9},
                        {WindowKind::Rolling, 10, 0, 0},   {WindowKind::None, 0, 0, 0}};
  for (const Kind &k : kinds) {
    for (bool keep : {false, true}) {
      AggregateSpec s;
      s.name = "a";
      s.window = k.kind;
      s.size_ms = k.size;
      s.slide_ms = k.step;
      s.lateness_ms = k.lateness;
      s.keep_events = keep;
      s.accumulators = {countAll(), acc(AggFn::Sum, kN), acc(AggFn::Max, kS), acc(AggFn::Avg, kX)};
      WindowAggregator fresh(s);
      WindowAggregator recycled(s);
      std::vector<WindowResult> reused; // recycled into `recycled` after every call
      std::mt19937_64 rng(static_cast<std::uint64_t>(k.kind) * 2 + (keep ? 1 : 0));
      // The driver's contract (aggregator.hpp): time advances to t - 1 before the events of a
      // new time t; events that are not late come in time order, late ones in any.
      std::int64_t now = 0;
      std::uint64_t seq = 0;
      std::size_t compared = 0;
      for (int i = 0; i < 3000; ++i) {
        std::vector<WindowResult> a;
        recycled.recycle(reused);
        if (i == 0 || rng() % 5 == 0) {
          now += 1 + static_cast<std::int64_t>(rng() % 6);
          fresh.advance(now - 1, a);
          recycled.advance(now - 1, reused);
        } else {
          Row row;
          row.key = std::string(1, static_cast<char>('a' + rng() % 4));
          row.time = rng() % 6 == 0 ? now - 1 - static_cast<std::int64_t>(rng() % 12) : now;
          row.seq = ++seq;
          if (rng() % 4 != 0) {
            row.n = static_cast<std::int64_t>(rng() % 100);
          }
          if (rng() % 3 != 0) {
            row.s = std::string(rng() % 20, static_cast<char>('a' + rng() % 26));
          }
          if (rng() % 2 != 0) {
            row.x = static_cast<double>(rng() % 1000) / 8;
          }
          RowInput in(row);
          CHECK(fresh.onEvent(row.key, in.get(), a) == recycled.onEvent(row.key, in.get(), reused));
        }
        REQUIRE(a.size() == reused.size());
        for (std::size_t j = 0; j < a.size(); ++j) {
          INFO(describe(a[j]) + " vs " + describe(reused[j]));
          CHECK(a[j] == reused[j]);
        }
        compared += a.size();
      }
      std::vector<WindowResult> a;
      recycled.recycle(reused);
      fresh.finish(a);
      recycled.finish(reused);
      CHECK(a == reused);
      CHECK(compared > 100);
    }
  }
}
