// The native engine of aggregates (tag [aggnative]): the generated functions of
// compiler/codegen/aggregate_codegen.hpp driving runtime/native/native_aggregate.hpp agree with
// the interpreter's operator record for record (computed string slots, having over several
// accumulators, every window kind); the aggregates section of .cepo artifacts
// (runtime/native/aggregate_codec.hpp, format 3) round-trips, loads and refuses damage.
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/load.hpp"
#include "compiler/driver/pipeline.hpp"
#include "driver_fixture_test.hpp"
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/engine/sharded_matcher.hpp"
#include "runtime/native/aggregate_codec.hpp"
#include "runtime/native/native_aggregate.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string_view>
#include <vector>

namespace {

namespace driver = cep::compiler::driver;
namespace artifact = cep::compiler::artifact;
namespace native = cep::runtime::native;
using cep::test::TempDir;

// Every window kind, with a computed string slot, having over two accumulators and nulls.
std::string rulesOf(const std::string &window) {
  return "event E { k: string, shop: string?, x: int, f: float?, ts: time }\n"
         "pattern p partition by k { a: E(x > 100) }\n"
         "emit P { k: a.k }\n"
         "aggregate agg partition by k window " +
         window +
         " { e: E(x > 0) }\n"
         "having count(e) >= 2 and (max(e.f) is null or max(e.f) > 0.5)\n"
         "emit A { n: count(e), total: sum(e.x * 2), mean: avg(e.f), top: max(upper(e.shop)),\n"
         "         low: min(e.f), shops: count_distinct(lower(e.shop)), last: last(e).shop,\n"
         "         big: sum(e.x) > 10, label: \"w\" + \"x\" }\n";
}

std::string eventsText() {
  std::string out;
  const char *shops[] = {"\"a\"", "\"B\"", "null", "\"b\""};
  for (int i = 0; i < 40; ++i) {
    out += "{\"k\":\"k" + std::to_string(i % 3) + "\",\"shop\":" + shops[i % 4] +
           ",\"x\":" + std::to_string((i * 7) % 13) +
           ",\"f\":" + (i % 5 == 0 ? std::string("null") : std::to_string((i % 7) * 0.25)) +
           ",\"ts\":" + std::to_string(i * 700 + (i % 4) * 100) + "}\n";
  }
  return out;
}

std::vector<std::string> run(driver::Pipeline &pipeline, driver::Engine engine,
                             const std::vector<cep::runtime::EventRef> &events) {
  driver::MatcherSet set;
  std::string error;
  REQUIRE(pipeline.makeMatchers({engine, 2}, {}, set, error));
  return cep::test::runMatchers(set.matchers, events);
}

} // namespace

TEST_CASE("native aggregates agree with the interpreter on every window kind", "[aggnative]") {
  std::string window = GENERATE(std::string("tumbling 5s"), std::string("hopping 6s every 2s"),
                                std::string("cumulate 6s step 2s"), std::string("session gap 3s"),
                                std::string("rolling 4s"), std::string("none ttl 5s"));
  CAPTURE(window);
  TempDir dir;
  std::string rules = rulesOf(window);
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", rules)}));
  REQUIRE(pipeline.requireRunnable(driver::Engine::Jit));
  auto events = cep::test::decodeEvents(dir.write("events.jsonl", eventsText()), pipeline.schema());
  REQUIRE(events.size() == 40);
  std::vector<std::string> interp = run(pipeline, driver::Engine::Interp, events);
  std::vector<std::string> jit = run(pipeline, driver::Engine::Jit, events);
  CHECK(interp.size() > 3);
  CHECK(jit == interp);

  // The same through a .cepo artifact (format 3, with the aggregates section).
  artifact::Artifact compiled;
  std::string error;
  REQUIRE(pipeline.compileArtifact({2, "test", false}, compiled, error));
  REQUIRE(compiled.aggregates.size() == 1);
  std::string bytes = artifact::encodeArtifact(compiled);
  artifact::Artifact back = artifact::decodeArtifact(bytes, "x.cepo");
  CHECK(back.header.format == 3);
  REQUIRE(back.sections.size() == 6);
  CHECK(back.sections[5].id == artifact::SectionId::Aggregates);
  REQUIRE(back.aggregates.size() == 1);
  CHECK(back.aggregates[0].name == "agg");
  CHECK(back.aggregates[0].operator_index == 1);
  CHECK(native::encodeAggregates(back.aggregates) == native::encodeAggregates(compiled.aggregates));
  CHECK(artifact::encodeArtifact(back) == bytes);
  artifact::LoadedArtifact loaded = artifact::loadArtifact(bytes, {});
  auto matchers = loaded.makeMatchers({});
  REQUIRE(matchers.size() == 2);
  CHECK(matchers[0]->patternName() == "p");
  CHECK(matchers[1]->patternName() == "agg");
  CHECK(cep::test::runMatchers(matchers, events) == interp);
}

TEST_CASE("the aggregates section refuses damage with the reason", "[aggnative]") {
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", "event E { k: string, x: int, ts: time }\n"
                                                 "aggregate a partition by k window tumbling 1s\n"
                                                 "{ e: E } emit A { n: count(e) }\n")}));
  artifact::Artifact compiled;
  std::string error;
  REQUIRE(pipeline.compileArtifact({2, "test", false}, compiled, error));
  auto refused = [&](const artifact::Artifact &a) {
    try {
      artifact::decodeArtifact(artifact::encodeArtifact(a), "x.cepo");
    } catch (const artifact::ArtifactError &e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused(compiled) == "accepted");
  artifact::Artifact bad = compiled;
  bad.aggregates[0].operator_index = 5;
  CHECK(refused(bad) == "x.cepo: corrupt: aggregates: aggregate `a`: operator index 5 out of "
                        "range (1 operators) or twice");
  bad = compiled;
  bad.aggregates[0].key_fields = {9};
  CHECK(refused(bad) == "x.cepo: bad aggregates section: aggregate `a`: key field 9 out of range");
  bad = compiled;
  bad.aggregates[0].spec.size_ms = 0;
  CHECK(refused(bad).find("x.cepo: bad aggregates section: aggregate `a`: ") == 0);
  bad = compiled;
  bad.aggregates[0].computed_symbols.push_back("cep.a0.row0");
  CHECK(refused(bad) == "x.cepo: bad aggregates section: aggregate `a`: 1 computed symbols for 0 "
                        "computed slots");
  // Code that does not match its image: the fingerprint differs.
  bad = compiled;
  bad.aggregates[0].spec.size_ms = 2000;
  std::string bytes = artifact::encodeArtifact(bad);
  try {
    artifact::loadArtifact(bytes, {});
    FAIL("loaded");
  } catch (const artifact::LoadError &e) {
    CHECK(std::string(e.what()).find("aggregate `a`: the image differs") != std::string::npos);
    CHECK(e.user());
  }
}

TEST_CASE("native aggregate snapshots resume to the same records", "[aggnative]") {
  std::string window = GENERATE(std::string("tumbling 5s lateness 1s"),
                                std::string("hopping 6s every 2s"), std::string("session gap 3s"),
                                std::string("rolling 4s"), std::string("none ttl 5s"));
  bool with_events = GENERATE(false, true);
  CAPTURE(window, with_events);
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", rulesOf(window))}));
  auto events = cep::test::decodeEvents(dir.write("events.jsonl", eventsText()), pipeline.schema());
  cep::runtime::MatcherOptions options;
  options.with_events = with_events;
  auto make = [&] {
    driver::MatcherSet set;
    std::string error;
    REQUIRE(pipeline.makeMatchers({driver::Engine::Jit, 2}, options, set, error));
    return set;
  };
  driver::MatcherSet whole = make();
  std::vector<std::string> want = cep::test::runMatchers(whole.matchers, events);

  std::vector<cep::runtime::MatchOutput> outputs;
  std::int64_t time = INT64_MIN;
  auto feed = [&](driver::MatcherSet &set, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (events[i]->time != time) {
        time = events[i]->time;
        for (const auto &m : set.matchers) {
          m->advanceTime(time, outputs);
        }
      }
      for (const auto &m : set.matchers) {
        m->onEvent(events[i], outputs);
      }
    }
  };
  driver::MatcherSet first = make();
  feed(first, 0, 23);
  driver::MatcherSet second = make();
  for (std::size_t i = 0; i < first.matchers.size(); ++i) {
    std::string snap;
    first.matchers[i]->snapshot(snap);
    second.matchers[i]->restore(snap);
  }
  first.matchers.clear();
  feed(second, 23, events.size());
  for (const auto &m : second.matchers) {
    m->finish(outputs);
  }
  std::stable_sort(outputs.begin(), outputs.end(), cep::runtime::MatchOutput::before);
  std::vector<std::string> got;
  for (const auto &o : outputs) {
    got.push_back(o.json);
  }
  CHECK(got == want);

  // Damaged or another aggregate's bytes are refused with the reason.
  driver::MatcherSet fresh = make();
  CHECK_THROWS_WITH(fresh.matchers[1]->restore("CEPAGGOX"),
                    Catch::Contains("bad aggregate snapshot: not an aggregate operator snapshot"));
}

// `cep serve`'s fresh deploy and drop undeploy of an aggregate (docs/serve.md "Aggregates"):
// dropState drops the open windows unwritten, counts them, and keeps the watermark (an event
// whose window fired before stays too late); the late events are counted or missed.
TEST_CASE("a native aggregate drops its open windows and keeps its watermark", "[aggnative]") {
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", "event E { k: string, ts: time }\n"
                                                 "aggregate agg partition by k window tumbling "
                                                 "5s { e: E }\n"
                                                 "emit A { n: count(e) }\n")}));
  auto events = cep::test::decodeEvents(dir.write("events.jsonl", "{\"k\":\"a\",\"ts\":1000}\n"
                                                                  "{\"k\":\"a\",\"ts\":2000}\n"
                                                                  "{\"k\":\"b\",\"ts\":6000}\n"
                                                                  "{\"k\":\"a\",\"ts\":3000}\n"
                                                                  "{\"k\":\"c\",\"ts\":5200}\n"),
                                        pipeline.schema());
  REQUIRE(events.size() == 5);
  driver::MatcherSet set;
  std::string error;
  REQUIRE(pipeline.makeMatchers({driver::Engine::Jit, 2}, {}, set, error));
  REQUIRE(set.matchers.size() == 1);
  cep::runtime::Matcher &agg = *set.matchers[0];
  std::vector<cep::runtime::MatchOutput> out;
  agg.onEvent(events[0], out);
  agg.onEvent(events[1], out);
  agg.advanceWatermark(5500, out); // [0s, 5s) of `a` fires
  REQUIRE(out.size() == 1);
  agg.onEvent(events[2], out); // `b` opens [5s, 10s)
  CHECK(agg.stats().windows == 1);
  CHECK(agg.stats().live_keys == 1);
  CHECK(agg.dropState() == 1);
  CHECK(agg.stats().windows == 0);
  CHECK(agg.stats().live_keys == 0);
  CHECK(agg.stats().dropped == 1);
  CHECK_FALSE(agg.onLateEvent(events[3], out)); // its window fired before the drop
  CHECK(agg.onLateEvent(events[4], out));       // [5s, 10s) is still open
  CHECK(agg.stats().late_missed == 1);
  CHECK(agg.stats().late_counted == 1);
  agg.finish(out);
  REQUIRE(out.size() == 2); // `c` alone: `b`'s window was dropped
  CHECK(out[1].json.find("\"@key\":\"c\"") != std::string::npos);
}

// `cep serve --state` key records (native_aggregate.hpp "Key records"): the first export puts
// every key, the next only the keys whose windows changed, and a key whose windows all fired is
// erased; the records restore into a fresh operator that then writes what the original writes.
TEST_CASE("a native aggregate exports changed keys and restores from its key records",
          "[aggnative]") {
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", "event E { k: string, x: int, ts: time }\n"
                                                 "aggregate agg partition by k window tumbling "
                                                 "5s { e: E }\n"
                                                 "emit A { n: count(e), total: sum(e.x) }\n")}));
  auto events =
      cep::test::decodeEvents(dir.write("events.jsonl", "{\"k\":\"a\",\"x\":1,\"ts\":1000}\n"
                                                        "{\"k\":\"b\",\"x\":2,\"ts\":2000}\n"
                                                        "{\"k\":\"a\",\"x\":3,\"ts\":3000}\n"
                                                        "{\"k\":\"c\",\"x\":4,\"ts\":6000}\n"
                                                        "{\"k\":\"c\",\"x\":5,\"ts\":7000}\n"),
                              pipeline.schema());
  REQUIRE(events.size() == 5);
  auto make = [&] {
    driver::MatcherSet set;
    std::string error;
    REQUIRE(pipeline.makeMatchers({driver::Engine::Jit, 2}, {}, set, error));
    return set;
  };
  driver::MatcherSet set = make();
  cep::runtime::Matcher &agg = *set.matchers[0];
  std::vector<cep::runtime::MatchOutput> out;
  cep::runtime::MatcherChanges changes;
  agg.onEvent(events[0], out);
  agg.onEvent(events[1], out);
  agg.exportChanges(changes);
  CHECK(changes.full);
  CHECK(native::isAggregateHeader(changes.header));
  REQUIRE(changes.put.size() == 2);
  CHECK(changes.put[0].first == "\"a\"");
  CHECK(changes.put[1].first == "\"b\"");
  agg.onEvent(events[2], out); // `a` changes, `b` does not
  agg.exportChanges(changes);
  CHECK_FALSE(changes.full);
  REQUIRE(changes.put.size() == 1);
  CHECK(changes.put[0].first == "\"a\"");
  CHECK(changes.erased.empty());
  agg.advanceWatermark(5500, out); // [0s, 5s) fires: `a` and `b` are gone
  agg.onEvent(events[3], out);
  agg.exportChanges(changes);
  REQUIRE(changes.put.size() == 1);
  CHECK(changes.put[0].first == "\"c\"");
  CHECK(changes.erased == std::vector<std::string>{"\"a\"", "\"b\""});

  // The whole state as records, restored into a fresh operator: the same records from here on.
  cep::runtime::MatcherChanges whole;
  native::exportAggregateRecords(agg, whole);
  REQUIRE(whole.put.size() == 1);
  // What the Kafka changelog reads of them: a record's key, the header's watermark.
  CHECK(native::aggregateRecordKey(whole.put[0].second) == "\"c\"");
  CHECK(cep::runtime::aggregate::watermarkOfSnapshotHeader(whole.header) == 5500);
  CHECK_THROWS_WITH(cep::runtime::aggregate::watermarkOfSnapshotHeader(whole.header + "x"),
                    Catch::Contains("bytes after the header"));
  CHECK_THROWS_WITH(native::aggregateRecordKey("\x05"), Catch::Contains("aggregate key record"));
  driver::MatcherSet other = make();
  std::vector<std::string_view> records;
  for (const auto &[key, record] : whole.put) {
    records.push_back(record);
  }
  native::restoreAggregateRecords(*other.matchers[0], whole.header, records);
  std::vector<cep::runtime::MatchOutput> a, b;
  agg.onEvent(events[4], a);
  other.matchers[0]->onEvent(events[4], b);
  agg.finish(a);
  other.matchers[0]->finish(b);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].json == b[0].json);
  CHECK(a[0].json.find("\"n\":2,\"total\":9") != std::string::npos);
  CHECK_THROWS_WITH(native::restoreAggregateRecords(*make().matchers[0], whole.header, {"x"}),
                    Catch::Contains("bad aggregate"));
}

// Lazy time advance (runtime::Matcher::advanceTo): a native aggregate is not called while no
// window is due, yet writes the same records at the same steps and the same snapshot bytes at
// every step as one advanced eagerly (the recorded watermark applied before it is read).
TEST_CASE("a native aggregate advanced lazily matches one advanced at every step", "[aggnative]") {
  std::string window = GENERATE(std::string("tumbling 5s lateness 1s"),
                                std::string("hopping 6s every 2s"), std::string("session gap 3s"),
                                std::string("rolling 4s"), std::string("none ttl 5s"));
  CAPTURE(window);
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", rulesOf(window))}));
  auto events = cep::test::decodeEvents(dir.write("events.jsonl", eventsText()), pipeline.schema());
  auto make = [&] {
    driver::MatcherSet set;
    std::string error;
    REQUIRE(pipeline.makeMatchers({driver::Engine::Jit, 2}, {}, set, error));
    REQUIRE(set.matchers.size() == 2);
    return set;
  };
  driver::MatcherSet lazy_set = make(), eager_set = make();
  cep::runtime::Matcher &lazy = *lazy_set.matchers[1]; // the aggregate
  cep::runtime::Matcher &eager = *eager_set.matchers[1];
  std::vector<cep::runtime::MatchOutput> lo, eo;
  auto same = [&] {
    CHECK(lo.size() == eo.size());
    for (std::size_t i = 0; i < lo.size() && i < eo.size(); ++i) {
      CHECK(lo[i].json == eo[i].json);
    }
    lo.clear();
    eo.clear();
    std::string ls, es;
    lazy.snapshot(ls);
    eager.snapshot(es);
    CHECK(ls == es);
  };
  std::size_t skipped = 0;
  std::int64_t time = INT64_MIN;
  for (const auto &e : events) {
    if (e->time != time) {
      time = e->time;
      skipped += time < lazy.dueTime() ? 1 : 0;
      lazy.advanceTo(time, false, lo);
      eager.advanceTime(time, eo);
      same();
    }
    lazy.onEvent(e, lo);
    eager.onEvent(e, eo);
    same();
    skipped += time < lazy.dueTime() ? 1 : 0;
    lazy.advanceTo(time, true, lo); // the watermark after each event: its time
    eager.advanceWatermark(time, eo);
    same();
  }
  CHECK(skipped > 0); // the steps before a window's end call nothing
  lazy.finish(lo);
  eager.finish(eo);
  same();
}

// A drain of a session aggregate between two native operators as `cep serve` makes it
// (native_aggregate.hpp "Drain"): the switch time after the old one's latest event, the new one
// seeded with its sessions; together they write what one operator writes, each session once.
TEST_CASE("a native session aggregate drains into a new operator, each session written once",
          "[aggnative]") {
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", "event E { k: string, ts: time }\n"
                                                 "aggregate agg partition by k window session "
                                                 "gap 5s { e: E }\n"
                                                 "emit A { n: count(e) }\n")}));
  // a: 1s, 3s before the switch, 6s after it (extends the session from 1s: the old one's); b:
  // 3s before, 4s after (the same); c: 7s, a session after the switch (the new one's).
  auto events = cep::test::decodeEvents(dir.write("events.jsonl", "{\"k\":\"a\",\"ts\":1000}\n"
                                                                  "{\"k\":\"a\",\"ts\":3000}\n"
                                                                  "{\"k\":\"b\",\"ts\":3000}\n"
                                                                  "{\"k\":\"b\",\"ts\":4000}\n"
                                                                  "{\"k\":\"a\",\"ts\":6000}\n"
                                                                  "{\"k\":\"c\",\"ts\":7000}\n"),
                                        pipeline.schema());
  REQUIRE(events.size() == 6);
  auto make = [&] {
    driver::MatcherSet set;
    std::string error;
    REQUIRE(pipeline.makeMatchers({driver::Engine::Jit, 2}, {}, set, error));
    return set;
  };
  auto feed = [&](cep::runtime::Matcher &m, std::size_t from, std::size_t to,
                  std::vector<cep::runtime::MatchOutput> &out) {
    for (std::size_t i = from; i < to; ++i) {
      m.advanceTime(events[i]->time, out);
      m.onEvent(events[i], out);
    }
  };
  driver::MatcherSet whole_set = make(), old_set = make(), new_set = make(), lost_set = make();
  cep::runtime::Matcher &whole = *whole_set.matchers[0];
  cep::runtime::Matcher &old_v = *old_set.matchers[0];
  std::vector<cep::runtime::MatchOutput> want, got, lost;
  feed(whole, 0, 6, want);
  whole.finish(want);
  feed(old_v, 0, 3, got); // the old version saw b's 3s after advancing to 2.999s
  const std::int64_t s = native::drainSwitchTime(old_v);
  CHECK(s == 3001); // after its latest event, not its watermark + 1 ms (3000)
  for (cep::runtime::Matcher *m : {new_set.matchers[0].get(), lost_set.matchers[0].get()}) {
    native::ownWindows(*m, s, INT64_MAX);
    native::seedDrain(*m, old_v, s);
  }
  old_v.drain();
  CHECK(old_v.draining());
  cep::runtime::Matcher &new_v = *new_set.matchers[0];
  feed(old_v, 3, 6, got);
  feed(new_v, 3, 6, got);
  CHECK_FALSE(old_v.drained()); // a's session from 1s is open
  old_v.finish(got);
  new_v.finish(got);
  CHECK(old_v.drained());
  auto jsons = [](const std::vector<cep::runtime::MatchOutput> &v) {
    std::vector<std::string> out;
    for (const auto &o : v) {
      out.push_back(o.json);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(jsons(got) == jsons(want));
  CHECK(want.size() == 3);

  // A seeded operator whose split is lost (ownWindows back to everything, as a restore without
  // the checkpoint's section) writes no record for a seed that took no event.
  cep::runtime::Matcher &lost_v = *lost_set.matchers[0];
  native::ownWindows(lost_v, INT64_MIN, INT64_MAX);
  lost_v.finish(lost);
  CHECK(lost.empty());
}

// `cep serve --workers N`: an aggregate as a ShardedMatcher of N operators is seen by the key
// record functions as one operator: the same header and records (key order) as one operator fed
// the same events, restored under another worker count with each key placed by its name.
TEST_CASE("a sharded native aggregate exports one operator's key records and restores by key",
          "[aggnative]") {
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", "event E { k: string, x: int, ts: time }\n"
                                                 "aggregate agg partition by k window tumbling "
                                                 "5s { e: E }\n"
                                                 "emit A { n: count(e), total: sum(e.x) }\n")}));
  std::string text;
  for (int i = 0; i < 60; ++i) {
    text += "{\"k\":\"k" + std::to_string(i % 11) + "\",\"x\":" + std::to_string(i) +
            ",\"ts\":" + std::to_string(1000 + i * 150) + "}\n";
  }
  auto events = cep::test::decodeEvents(dir.write("events.jsonl", text), pipeline.schema());
  REQUIRE(events.size() == 60);
  auto one = [&] {
    driver::MatcherSet set;
    std::string error;
    REQUIRE(pipeline.makeMatchers({driver::Engine::Jit, 2}, {}, set, error));
    return std::move(set.matchers[0]);
  };
  auto sharded = [&](int n) {
    std::vector<std::unique_ptr<cep::runtime::Matcher>> shards;
    for (int w = 0; w < n; ++w) {
      shards.push_back(one());
    }
    return std::make_unique<cep::runtime::ShardedMatcher>(std::move(shards));
  };
  auto feed = [&](cep::runtime::Matcher &m, std::size_t from, std::size_t to,
                  std::vector<std::string> &out) {
    std::vector<cep::runtime::MatchOutput> records;
    for (std::size_t i = from; i < to; ++i) {
      m.advanceTime(events[i]->time, records);
      m.onEvent(events[i], records);
    }
    if (to == events.size()) {
      m.finish(records);
    }
    for (const auto &r : records) {
      out.push_back(r.json);
    }
  };
  auto whole = [](const cep::runtime::Matcher &m) {
    cep::runtime::MatcherChanges c;
    native::exportAggregateRecords(m, c);
    return c;
  };
  std::unique_ptr<cep::runtime::Matcher> single = one();
  std::unique_ptr<cep::runtime::ShardedMatcher> three = sharded(3);
  CHECK(native::isAggregate(*three));
  std::vector<std::string> want, got;
  feed(*single, 0, 40, want);
  feed(*three, 0, 40, got);
  std::sort(got.begin(), got.end()); // the order of the shards' records is the pool's to merge
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  std::size_t on_shards = 0;
  for (std::uint32_t w = 0; w < three->shardCount(); ++w) {
    on_shards += three->shard(w)->stats().live_keys > 0 ? 1 : 0;
  }
  CHECK(on_shards >= 2); // the keys are spread
  CHECK(native::drainSwitchTime(*three) == native::drainSwitchTime(*single));

  cep::runtime::MatcherChanges a = whole(*single), b = whole(*three);
  CHECK(a.header == b.header);
  REQUIRE(a.put.size() >= 3);
  CHECK(a.put == b.put);
  cep::runtime::MatcherChanges ca, cb;
  single->exportChanges(ca);
  three->exportChanges(cb);
  CHECK(cb.full);
  CHECK(ca.header == cb.header);
  CHECK(ca.put == cb.put);

  // Restored under 2 workers and under one from the 3 workers' records: the same records on.
  std::vector<std::string_view> records;
  for (const auto &[key, record] : b.put) {
    records.push_back(record);
  }
  std::unique_ptr<cep::runtime::ShardedMatcher> two = sharded(2);
  native::restoreAggregateRecords(*two, b.header, records);
  std::unique_ptr<cep::runtime::Matcher> back = one();
  native::restoreAggregateRecords(*back, b.header, records);
  CHECK(whole(*two).put == a.put);
  CHECK(whole(*back).put == a.put);
  std::vector<std::string> rest_one, rest_two, rest_back;
  feed(*single, 40, events.size(), rest_one);
  feed(*two, 40, events.size(), rest_two);
  feed(*back, 40, events.size(), rest_back);
  std::sort(rest_one.begin(), rest_one.end());
  std::sort(rest_two.begin(), rest_two.end());
  std::sort(rest_back.begin(), rest_back.end());
  REQUIRE(!rest_one.empty());
  CHECK(rest_two == rest_one);
  CHECK(rest_back == rest_one);
}
