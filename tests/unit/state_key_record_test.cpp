// Incremental matcher state (runtime/state/key_record.hpp, Matcher::exportChanges; tag
// [changes]), on both engines (the reference interpreter, the native matcher running
// JIT-compiled code):
//   - over every golden match case (its rules, events and engine options: --with-events and the
//     state bounds), the events fed one by one with exportChanges after each and at the end,
//     the changes applied to a map: the header and the map's records reassemble to exactly
//     snapshot()'s bytes, also after drain(), dropState(), evictions, migrateFrom, adoptFrom
//     (native) and restoreFromRecords (into the other engine);
//   - the native matcher's own tracking against the default (the whole state diffed): every key
//     the diff puts or erases, it puts or erases too, with the same record bytes; what it puts
//     besides (keys an event touched without changing them) is counted and must stay small;
//   - records: an event under two keys is kept once; bad bytes are refused with the reason.
#include "compiler/jit/jit.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "interp_fixture_test.hpp"
#include "runtime/native/native_matcher.hpp"
#include "runtime/snapshot_codec.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/time/time_format.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace interp_test;
namespace ci = cep::compiler::interp;
namespace rn = cep::runtime::native;
namespace jit = cep::compiler::jit;
namespace fs = std::filesystem;

namespace {

std::string readText(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

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

enum class Engine { Interp, Jit };

const char *engineName(Engine e) {
  return e == Engine::Interp ? "interp" : "jit";
}

// A checked program with its optimised NFAs (as `cep run` builds them) and, once asked for, its
// native code (compiled once, shared by every native matcher of the program).
struct Program {
  std::unique_ptr<Compiled> c;
  std::vector<nfa::Nfa> nfas;
  std::optional<jit::LoadedProgram> code;
  std::shared_ptr<const runtime::Schema> schema;

  explicit Program(const std::string &text) : c(compile(text)) {
    auto passes = cep::compiler::passes::PassManager::standard();
    for (std::size_t i = 0; i < c->prog().patterns.size(); ++i) {
      nfas.push_back(cep::compiler::lowerPattern(c->prog(), static_cast<std::int32_t>(i)));
      passes.run(nfas.back());
    }
    schema = std::make_shared<const runtime::Schema>(c->schema);
  }

  std::unique_ptr<runtime::Matcher> matcher(Engine engine, std::size_t pattern,
                                            const runtime::MatcherOptions &options) {
    if (engine == Engine::Interp) {
      return ci::makeInterpMatcher(c->prog(), static_cast<std::int32_t>(pattern),
                                   nfas.at(pattern).clone(), options);
    }
    if (!code) {
      jit::ModuleStats stats;
      std::string error;
      code = theJit().compileProgram(c->prog(), nfas, stats, error);
      INFO(error);
      REQUIRE(code.has_value());
    }
    return rn::makeNativeMatcher(schema, code->images.at(pattern), code->code.at(pattern), options);
  }
};

// The options of a golden match case's `args` that reach the matcher.
runtime::MatcherOptions optionsOf(const fs::path &dir) {
  runtime::MatcherOptions o;
  if (!fs::exists(dir / "args")) {
    return o;
  }
  std::istringstream args(readText(dir / "args"));
  std::string word;
  while (args >> word) {
    if (word == "--with-events") {
      o.with_events = true;
    } else if (word == "--max-runs-per-key") {
      args >> o.bounds.max_runs_per_key;
    } else if (word == "--max-state-bytes") {
      args >> o.bounds.max_state_bytes;
    } else if (word == "--key-ttl") {
      std::string d;
      args >> d;
      REQUIRE(runtime::parseDuration(d, o.bounds.key_ttl_ms));
    }
  }
  return o;
}

// Events decoded once (rejected lines and watermarks left out), numbered in arrival order,
// sorted by (time, arrival) as the run loop releases them.
std::vector<runtime::EventRef> decodeAll(const runtime::Schema &schema, const std::string &text) {
  runtime::JsonlDecoder decoder(schema, runtime::DecoderOptions{true});
  std::vector<runtime::EventRef> events;
  std::istringstream lines(text);
  std::string line;
  std::uint64_t seq = 0, number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    runtime::RecordContext ctx;
    ctx.seq = seq;
    ctx.line = number;
    runtime::DecodeResult r = decoder.decodeCopy(line, ctx);
    if (r.status == runtime::DecodeStatus::Event) {
      events.push_back(std::move(r.event));
      ++seq;
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto &a, const auto &b) { return a->time < b->time; });
  return events;
}

std::vector<fs::path> matchCases() {
  std::vector<fs::path> out;
  for (const auto &d : fs::directory_iterator(fs::path(CEP_SOURCE_DIR) / "tests/golden/match")) {
    if (fs::exists(d.path() / "rules.cep") && fs::exists(d.path() / "events.jsonl")) {
      out.push_back(d.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The receiver of exportChanges: the header and a record per key, as a store would keep them.
struct Store {
  std::string header;
  std::map<std::string, std::string> records;

  void apply(const runtime::MatcherChanges &c) {
    if (c.full) {
      records.clear();
    }
    header = c.header;
    for (const auto &[key, record] : c.put) {
      records[key] = record;
    }
    for (const std::string &key : c.erased) {
      records.erase(key); // may have been created and removed in between: not there
    }
  }
  std::vector<std::string_view> views() const {
    std::vector<std::string_view> out;
    for (const auto &[key, record] : records) {
      out.push_back(record);
    }
    return out;
  }
  // The state the store holds, reassembled in reverse order of keys (any order must do).
  std::string assembled(const std::shared_ptr<const runtime::Schema> &schema,
                        std::string_view pattern) const {
    std::vector<std::string_view> records = views();
    std::reverse(records.begin(), records.end());
    std::string bytes;
    runtime::encodeMatcherState(runtime::assembleMatcherState(header, records, schema, pattern),
                                bytes);
    return bytes;
  }
};

// What the native tracking reported besides the diff's keys, over a whole test.
struct Tally {
  std::uint64_t checkpoints = 0, diff_puts = 0, native_puts = 0, extra_puts = 0;
  std::uint64_t diff_erased = 0, native_erased = 0, keys_at_checkpoints = 0;
};
Tally tally;

// A matcher under checkpoints: exportChanges into a store after each step, checked against
// snapshot(); a native matcher is also diffed by the default implementation (Matcher::
// exportChanges), whose changes it must cover.
struct Checked {
  runtime::Matcher *m;
  std::shared_ptr<const runtime::Schema> schema;
  bool native;
  Store store, diff_store;
  std::vector<runtime::MatchOutput> out;
  bool check_one_by_one = true;

  void checkpoint(const std::string &at) {
    INFO("checkpoint " << at);
    runtime::MatcherChanges c;
    m->exportChanges(c);
    store.apply(c);
    std::string snap;
    m->snapshot(snap);
    REQUIRE(store.assembled(schema, m->patternName()) == snap);
    CHECK(store.records.size() == m->stats().live_keys);
    if (check_one_by_one) { // encodeKeyRecords (one pass) equals encodeKeyRecord (per key)
      runtime::MatcherState st;
      m->exportState(st);
      std::vector<std::string> all = runtime::encodeKeyRecords(st);
      REQUIRE(all.size() == st.keys.size());
      for (std::size_t i = 0; i < all.size(); ++i) {
        std::string one;
        runtime::encodeKeyRecord(st, i, one);
        CHECK(one == all[i]);
        CHECK(store.records.at(st.keys[i].key_json) == one);
      }
    }
    if (!native) {
      return;
    }
    runtime::MatcherChanges d;
    m->Matcher::exportChanges(d);
    diff_store.apply(d);
    CHECK(d.header == c.header);
    std::map<std::string, std::string> put(c.put.begin(), c.put.end());
    std::set<std::string> erased(c.erased.begin(), c.erased.end());
    if (d.full) {
      return; // the diff's first call: every key
    }
    for (const auto &[key, record] : d.put) {
      INFO("key " << key << " changed");
      auto it = put.find(key);
      REQUIRE(it != put.end());
      CHECK(it->second == record);
    }
    for (const std::string &key : d.erased) {
      INFO("key " << key << " gone");
      CHECK(erased.count(key) == 1);
    }
    ++tally.checkpoints;
    tally.diff_puts += d.put.size();
    tally.native_puts += c.put.size();
    tally.extra_puts += c.put.size() - d.put.size();
    tally.diff_erased += d.erased.size();
    tally.native_erased += c.erased.size();
    tally.keys_at_checkpoints += store.records.size();
  }
  void event(const runtime::EventRef &e, std::int64_t &time) {
    if (e->time > time) {
      m->advanceTime(e->time, out);
      time = e->time;
    }
    m->onEvent(e, out);
  }
};

} // namespace

TEST_CASE("changes: every golden match case, checkpointed after every event, reassembles to the "
          "snapshot on both engines (also after drain, dropState, migrateFrom, restore)",
          "[changes]") {
  std::size_t patterns = 0, checkpoints_before = tally.checkpoints;
  std::uint64_t max_keys = 0;
  for (const fs::path &dir : matchCases()) {
    Program program(readText(dir / "rules.cep"));
    runtime::MatcherOptions options = optionsOf(dir);
    auto events = decodeAll(*program.schema, readText(dir / "events.jsonl"));
    const std::size_t n = events.size();
    for (std::size_t p = 0; p < program.c->prog().patterns.size(); ++p) {
      ++patterns;
      // 0: plain; 1: drain() at a third; 2: dropState() at half; at half, the state moved into
      // a fresh matcher by migrateFrom (3: same engine, 5: the other one) or restored from the
      // store's records (4: same engine, 6: the other one; 7 and 8 the same, then
      // assumeExported: the store holds it already, nothing is put again). The same engine
      // snapshots to the same bytes at once; the other one may not (peak_state_bytes is each
      // engine's estimate).
      for (int variant = 0; variant < 9; ++variant) {
        for (Engine engine : {Engine::Interp, Engine::Jit}) {
          INFO(dir.filename().string() << " pattern " << program.c->pattern(p).name << " variant "
                                       << variant << " " << engineName(engine));
          auto first = program.matcher(engine, p, options);
          std::unique_ptr<runtime::Matcher> second;
          Checked c{first.get(), program.schema, engine == Engine::Jit, {}, {}, {}};
          std::int64_t time = INT64_MIN;
          c.checkpoint("start");
          for (std::size_t i = 0; i < n; ++i) {
            if (variant == 1 && i == n / 3) {
              c.m->drain();
              c.checkpoint("drain");
            }
            if (variant == 2 && i == n / 2) {
              c.m->dropState();
              c.checkpoint("dropState");
            }
            if (variant >= 3 && i == n / 2) {
              const bool same = variant == 3 || variant == 4 || variant == 7;
              Engine other = same                       ? engine
                             : engine == Engine::Interp ? Engine::Jit
                                                        : Engine::Interp;
              second = program.matcher(other, p, options);
              if (variant == 3 || variant == 5) {
                runtime::MatcherState st;
                c.m->exportState(st);
                REQUIRE(second->migrateFrom(st).ok());
              } else {
                runtime::restoreFromRecords(*second, c.store.header, c.store.views(),
                                            program.schema);
              }
              if (other == engine) {
                std::string a, b;
                c.m->snapshot(a);
                second->snapshot(b);
                REQUIRE(a == b);
              }
              // The new matcher's first export is full; the store carries on with it.
              c.m = second.get();
              c.native = other == Engine::Jit;
              c.diff_store = Store();
              if (variant >= 7) {
                c.m->assumeExported();
                runtime::MatcherChanges none;
                c.m->exportChanges(none);
                CHECK_FALSE(none.full);
                CHECK(none.put.empty());
                CHECK(none.erased.empty());
                c.store.apply(none);
              }
              c.checkpoint("moved");
            }
            c.event(events[i], time);
            c.checkpoint("after event " + std::to_string(i));
            max_keys = std::max<std::uint64_t>(max_keys, c.store.records.size());
          }
          c.m->finish(c.out);
          c.checkpoint("finish");
          CHECK(c.store.records.empty());
        }
      }
    }
  }
  WARN("patterns: " << patterns << ", native checkpoints compared with the diff: "
                    << tally.checkpoints - checkpoints_before
                    << ", most keys at once: " << max_keys);
  CHECK(patterns > 150);
  CHECK(max_keys >= 3);
  // The native tracking against the diff: extra puts are keys an event touched without
  // changing their record (a run ignored it and a held match stayed), at most one per event.
  WARN("native checkpoints: " << tally.checkpoints << ", keys held at them: "
                              << tally.keys_at_checkpoints << ", puts: diff " << tally.diff_puts
                              << " native " << tally.native_puts << " (extra " << tally.extra_puts
                              << "), erased: diff " << tally.diff_erased << " native "
                              << tally.native_erased);
  CHECK(tally.native_puts * 100 <= tally.diff_puts * 105); // at most 5% more
}

namespace {

// Two patterns over many cards: a loop under a `within` (timeouts written) and an absence.
std::string cardRules(const std::string &big = "100.0") {
  return "event Tx { card: string, amount: float, country: string, time: time }\n"
         "pattern testing partition by card within 10s {\n"
         "    small: Tx(amount < 5.0){2,} -> big: Tx(amount > " +
         big +
         ")\n"
         "}\n"
         "emit Testing { card: big.card, probes: count(small) }\n"
         "on timeout emit TestingTimeout { card: first(small).card, probes: count(small) }\n"
         "pattern unpaid partition by card within 5s {\n"
         "    o: Tx(amount > 50.0) -> not Tx(country == \"XX\")\n"
         "}\n"
         "emit Unpaid { card: o.card }\n";
}

// `count` events over `cards` cards, 100 ms apart, amounts and countries from a fixed LCG.
std::string cardEvents(int count, int cards) {
  std::string out;
  std::uint64_t x = 12345;
  auto next = [&] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x >> 33;
  };
  for (int i = 0; i < count; ++i) {
    int card = static_cast<int>(next() % static_cast<std::uint64_t>(cards));
    std::uint64_t r = next() % 10;
    const char *amount = r < 5 ? "1.5" : r < 8 ? "60.0" : "150.0";
    const char *country = next() % 7 == 0 ? "XX" : "FR";
    out += R"({"card":"c)" + std::to_string(card) + R"(","amount":)" + amount + R"(,"country":")" +
           country + R"(","time":)" + std::to_string(i * 100) + "}\n";
  }
  return out;
}

} // namespace

TEST_CASE("changes: many keys checkpointed every few events, with state bounds, on both engines",
          "[changes]") {
  Program program(cardRules());
  auto events = decodeAll(*program.schema, cardEvents(3000, 60));
  REQUIRE(events.size() == 3000);
  std::uint64_t evicted = 0;
  const Tally before = tally;
  for (int bounds = 0; bounds < 3; ++bounds) {
    runtime::MatcherOptions options;
    if (bounds == 1) {
      options.bounds.max_runs_per_key = 2;
    } else if (bounds == 2) {
      options.bounds.max_state_bytes = 4000;
    }
    for (std::size_t p = 0; p < 2; ++p) {
      for (std::size_t every : {std::size_t{1}, std::size_t{13}}) {
        for (Engine engine : {Engine::Interp, Engine::Jit}) {
          INFO("bounds " << bounds << " pattern " << p << " every " << every << " "
                         << engineName(engine));
          auto m = program.matcher(engine, p, options);
          Checked c{m.get(), program.schema, engine == Engine::Jit, {}, {}, {}};
          std::int64_t time = INT64_MIN;
          std::size_t most = 0;
          for (std::size_t i = 0; i < events.size(); ++i) {
            c.event(events[i], time);
            if (i % every == 0) {
              c.checkpoint("after event " + std::to_string(i));
              most = std::max(most, c.store.records.size());
            }
          }
          c.checkpoint("before finish");
          c.m->finish(c.out);
          c.checkpoint("finish");
          CHECK(c.store.records.empty());
          CHECK(most >= 20);
          evicted += m->stats().evicted;
        }
      }
    }
  }
  CHECK(evicted > 100);
  std::uint64_t diff = tally.diff_puts - before.diff_puts;
  std::uint64_t native = tally.native_puts - before.native_puts;
  WARN("native checkpoints: " << tally.checkpoints - before.checkpoints << ", keys held at them: "
                              << tally.keys_at_checkpoints - before.keys_at_checkpoints
                              << ", puts: diff " << diff << " native " << native
                              << ", erased: diff " << tally.diff_erased - before.diff_erased
                              << " native " << tally.native_erased - before.native_erased);
  CHECK(native * 100 <= diff * 105);
}

TEST_CASE("changes: adoptFrom hands the tracking to the new version, the old one starts over",
          "[changes]") {
  Program v1(cardRules("100.0")), v2(cardRules("120.0"));
  auto e1 = decodeAll(*v1.schema, cardEvents(2000, 40));
  auto e2 = decodeAll(*v2.schema, cardEvents(2000, 40));
  for (bool new_tracked_first : {false, true}) {
    for (std::size_t p = 0; p < 2; ++p) {
      INFO("pattern " << p << (new_tracked_first ? ", the new version exported first" : ""));
      auto m1 = v1.matcher(Engine::Jit, p, {});
      auto m2 = v2.matcher(Engine::Jit, p, {});
      Checked c{m1.get(), v1.schema, true, {}, {}, {}};
      std::int64_t time = INT64_MIN;
      for (std::size_t i = 0; i < 1000; ++i) {
        c.event(e1[i], time);
        if (i % 7 == 0) {
          c.checkpoint("v1 event " + std::to_string(i));
        }
      }
      for (std::size_t i = 1000; i < 1010; ++i) { // changes the store has not seen
        c.event(e1[i], time);
      }
      runtime::MatcherChanges first;
      if (new_tracked_first) {
        m2->exportChanges(first);
        CHECK(first.full);
        CHECK(first.put.empty());
      }
      REQUIRE(m2->canAdopt(*m1));
      REQUIRE(m2->adoptFrom(*m1).ok());
      // The old version holds nothing and says so from scratch.
      runtime::MatcherChanges old;
      m1->exportChanges(old);
      CHECK(old.full);
      CHECK(old.put.empty());
      // The new one continues the old one's store (or, when it had exported itself, its own).
      runtime::MatcherChanges next;
      m2->exportChanges(next);
      CHECK(next.full == false);
      if (new_tracked_first) {
        CHECK(next.put.size() == m2->stats().live_keys);
        c.store = Store();
        c.store.apply(first);
      } else {
        CHECK(next.put.size() < m2->stats().live_keys);
      }
      c.store.apply(next);
      std::string snap;
      m2->snapshot(snap);
      REQUIRE(c.store.assembled(v2.schema, m2->patternName()) == snap);
      c.m = m2.get();
      c.schema = v2.schema;
      c.diff_store = Store();
      c.checkpoint("adopted");
      for (std::size_t i = 1010; i < e2.size(); ++i) {
        c.event(e2[i], time);
        if (i % 7 == 0) {
          c.checkpoint("v2 event " + std::to_string(i));
        }
      }
      c.m->finish(c.out);
      c.checkpoint("finish");
    }
  }
}

TEST_CASE("changes: dropState erases every key, restoreFromRecords continues exactly",
          "[changes]") {
  Program program(cardRules());
  auto events = decodeAll(*program.schema, cardEvents(600, 30));
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    INFO(engineName(engine));
    auto m = program.matcher(engine, 0, {});
    Checked c{m.get(), program.schema, engine == Engine::Jit, {}, {}, {}};
    std::int64_t time = INT64_MIN;
    for (std::size_t i = 0; i < 300; ++i) {
      c.event(events[i], time);
    }
    c.checkpoint("300 events");
    REQUIRE(c.store.records.size() >= 10);
    std::set<std::string> keys;
    for (const auto &[key, record] : c.store.records) {
      keys.insert(key);
    }
    m->dropState();
    runtime::MatcherChanges dropped;
    m->exportChanges(dropped);
    if (c.native) { // keeps the diff at the same points
      runtime::MatcherChanges d;
      m->Matcher::exportChanges(d);
      CHECK(d.erased == dropped.erased);
    }
    CHECK(dropped.put.empty());
    CHECK(std::set<std::string>(dropped.erased.begin(), dropped.erased.end()) == keys);
    c.store.apply(dropped);
    // Restored from the records into a fresh matcher, which continues as the original does.
    for (std::size_t i = 300; i < 450; ++i) {
      c.event(events[i], time);
    }
    c.checkpoint("450 events");
    auto fresh = program.matcher(engine, 0, {});
    runtime::restoreFromRecords(*fresh, c.store.header, c.store.views(), program.schema);
    std::vector<runtime::MatchOutput> b;
    c.out.clear();
    std::int64_t ta = time, tb = time;
    for (std::size_t i = 450; i < events.size(); ++i) {
      c.event(events[i], ta);
      Checked f{fresh.get(), program.schema, false, {}, {}, {}};
      f.event(events[i], tb);
      for (auto &o : f.out) {
        b.push_back(std::move(o));
      }
    }
    m->finish(c.out);
    fresh->finish(b);
    std::string sa, sb;
    m->snapshot(sa);
    fresh->snapshot(sb);
    CHECK(sa == sb);
    REQUIRE(c.out.size() == b.size());
    for (std::size_t i = 0; i < b.size(); ++i) {
      CHECK(c.out[i].json == b[i].json);
    }
  }
}

TEST_CASE("changes: an event bound under two keys is kept once, numbered as in the whole state",
          "[changes]") {
  // No engine binds one event under two keys; the model allows it, and the records keep it
  // once by its arrival seq.
  Program program("event E { k: string, n: int, t: time }\n"
                  "pattern p partition by k { a: E(n == 1) -> b: E(n == 2) }\n"
                  "emit M { k: a.k }\n");
  auto events = decodeAll(*program.schema, "{\"k\":\"x\",\"n\":1,\"t\":1}\n"
                                           "{\"k\":\"y\",\"n\":1,\"t\":2}\n"
                                           "{\"k\":\"x\",\"n\":3,\"t\":3}\n");
  runtime::MatcherState st;
  st.pattern = "p";
  st.time = 3;
  st.stats.events = 3;
  st.schema = program.schema;
  st.events = {events[2], events[0], events[1]};
  // key "x": nodes 0 (event 0: seq 2) <- 1 (event 1: seq 0); key "y": node 2 (event 0 again),
  // node 3 (event 2: seq 1).
  st.nodes = {{0, "a", -1}, {1, "b", 0}, {0, "a", -1}, {2, "a", 2}};
  st.keys = {{"\"x\"", {{"s", 0, 1, 3, 2, 0}}, {}}, {"\"y\"", {{"s", 0, 3, 3, 2, 2}}, {{2, 3, 2}}}};
  std::string whole;
  runtime::encodeMatcherState(st, whole);
  std::string header, rx, ry;
  runtime::encodeMatcherHeader(runtime::headerOf(st), header);
  runtime::encodeKeyRecord(st, 0, rx);
  runtime::encodeKeyRecord(st, 1, ry);
  runtime::KeyRecord y = runtime::decodeKeyRecord(ry, *program.schema);
  CHECK(y.events.size() == 2); // numbered within the record
  CHECK(y.nodes.size() == 2);
  runtime::MatcherState back = runtime::assembleMatcherState(header, {ry, rx}, program.schema, "p");
  CHECK(back.events.size() == 3);
  std::string again;
  runtime::encodeMatcherState(back, again);
  CHECK(again == whole);
}

TEST_CASE("changes: bad headers and key records are refused with the reason", "[changes]") {
  Program program(cardRules());
  auto events = decodeAll(*program.schema, cardEvents(200, 5));
  auto m = program.matcher(Engine::Jit, 0, {});
  std::vector<runtime::MatchOutput> out;
  std::int64_t time = INT64_MIN;
  for (const auto &e : events) {
    if (e->time > time) {
      m->advanceTime(e->time, out);
      time = e->time;
    }
    m->onEvent(e, out);
  }
  runtime::MatcherChanges c;
  m->exportChanges(c);
  REQUIRE(c.put.size() >= 2);
  std::vector<std::string_view> records;
  for (const auto &[key, record] : c.put) {
    records.push_back(record);
  }
  auto refused = [&](std::string_view header, const std::vector<std::string_view> &rs,
                     const std::string &why, std::string_view pattern = "testing") {
    INFO(why);
    CHECK_THROWS_WITH(runtime::assembleMatcherState(header, rs, program.schema, pattern), why);
  };
  std::string record(records[0]);
  std::string wrong_version = record;
  wrong_version[0] = 9;
  refused(c.header, {wrong_version, records[1]},
          "bad key record: format version 9 (this build reads 1 to 2)");
  refused(c.header, {c.header, records[1]}, "bad key record: not a key record");
  refused(record, records, "bad matcher header: not a matcher header");
  std::string cut = record.substr(0, record.size() - 1);
  CHECK_THROWS_WITH(
      runtime::assembleMatcherState(c.header, {cut, records[1]}, program.schema, "testing"),
      Catch::Matchers::StartsWith("bad key record: "));
  refused(c.header, {record + "x", records[1]}, "bad key record: trailing bytes");
  refused(c.header, {records[0]},
          "bad key record: 1 records for a state of " + std::to_string(records.size()) + " keys");
  std::vector<std::string_view> twice = records;
  twice.back() = records.front();
  refused(c.header, twice,
          "bad key record: two records of key " + std::string(c.put.front().first));
  refused(c.header, records, "bad matcher header: it is of pattern `testing`, not `unpaid`",
          "unpaid");
}

// --key-ttl (docs/semantics.md §9) on both engines: keys expire in (expiry, last arrival) order
// when time reaches their last event + D, an event of the key (taken by no step) keeps it
// alive, a drop is an eviction with reason ttl, exportChanges reports the key erased, and the
// last events survive snapshot/restore (into the other engine) and key records, also when read
// from a version 1 record (the last event is then the latest one its runs bound).
TEST_CASE("key ttl: expiry order, keep-alive, checkpoints and restore on both engines",
          "[changes][ttl]") {
  Program program(R"(
event E { k: string, name: string, ts: time }
pattern p partition by k {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { k: a.k }
)");
  // x, y, z start runs; w and v start at the same time (their expiries tie: by arrival, v
  // arrived first); x sees an unrelated event at 4000.
  const std::string text = R"({"@type":"E","k":"x","name":"a","ts":1000}
{"@type":"E","k":"y","name":"a","ts":2000}
{"@type":"E","k":"z","name":"a","ts":3000}
{"@type":"E","k":"v","name":"a","ts":3000}
{"@type":"E","k":"w","name":"a","ts":3000}
{"@type":"E","k":"x","name":"c","ts":4000}
)";
  auto events = decodeAll(*program.schema, text);
  std::ostringstream records_by[2];
  std::string snaps[2];
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    INFO(engineName(engine));
    const int which = engine == Engine::Interp ? 0 : 1;
    runtime::StateBounds bounds;
    bounds.key_ttl_ms = 10'000;
    runtime::EvictionLog log(bounds, nullptr);
    log.setRecords(&records_by[which]);
    runtime::MatcherOptions options;
    options.bounds = bounds;
    options.evictions = &log;
    auto m = program.matcher(engine, 0, options);
    Checked c{m.get(), program.schema, engine == Engine::Jit, {}, {}, {}};
    std::int64_t time = INT64_MIN;
    for (const auto &e : events) {
      c.event(e, time);
    }
    c.checkpoint("after the events");
    CHECK(m->stats().live_keys == 4 + 1);
    CHECK(m->nextTimer() <= 12'000);
    // 11999: nothing is 10s past its last event yet; 12000: y (at equality).
    m->advanceTime(11'999, c.out);
    CHECK(m->stats().evicted == 0);
    m->advanceTime(12'000, c.out);
    CHECK(m->stats().evicted == 1);
    runtime::MatcherChanges ch;
    m->exportChanges(ch);
    CHECK(ch.erased == std::vector<std::string>{"\"y\""});
    CHECK(ch.put.empty());
    c.store.apply(ch);
    if (c.native) { // the default diff, which checkpoint() compares with, moves on too
      runtime::MatcherChanges d;
      m->Matcher::exportChanges(d);
      CHECK(d.erased == ch.erased);
      c.diff_store.apply(d);
    }
    c.checkpoint("y expired");
    m->snapshot(snaps[which]);
    // 13000: z, v and w (v before w: same last time, earlier arrival; z before both). x lives
    // on until 14000 thanks to its event at 4000.
    m->advanceTime(13'500, c.out);
    CHECK(m->stats().evicted == 4);
    CHECK(m->stats().live_keys == 1);
    c.checkpoint("z, v, w expired");
    m->advanceTime(14'000, c.out);
    CHECK(m->stats().live_keys == 0);
    CHECK(m->stats().evicted == 5);
    c.checkpoint("x expired");
    CHECK(c.out.empty());
  }
  CHECK(records_by[0].str() == records_by[1].str());
  std::vector<std::string> keys;
  std::istringstream lines(records_by[0].str());
  for (std::string line; std::getline(lines, line);) {
    CHECK(line.find("\"@reason\":\"ttl\"") != std::string::npos);
    keys.push_back(line.substr(line.find("\"@key\":") + 7, 3));
  }
  CHECK(keys == std::vector<std::string>{"\"y\"", "\"z\"", "\"v\"", "\"w\"", "\"x\""});
  // The snapshots agree but for the engines' own size estimates, and each restores into the
  // other engine with the keys' last events: x still expires at 14000, not 11000.
  auto peakless = [](std::string snap) {
    std::fill_n(snap.begin() + 8 + 4 + 4 + 1 + 8 + 6 * 8, 8, '\0');
    return snap;
  };
  CHECK(peakless(snaps[0]) == peakless(snaps[1]));
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    INFO(engineName(engine));
    runtime::MatcherOptions options;
    options.bounds.key_ttl_ms = 10'000;
    auto m = program.matcher(engine, 0, options);
    m->restore(snaps[engine == Engine::Interp ? 1 : 0]);
    std::vector<runtime::MatchOutput> out;
    m->advanceTime(13'999, out);
    CHECK(m->stats().live_keys == 1);
    m->advanceTime(14'000, out);
    CHECK(m->stats().live_keys == 0);
    // A version 1 key record (no last event): x's last event is then its run's latest bound
    // event, the `a` at 1000, and it expires at 11000.
    auto fresh = program.matcher(engine, 0, options);
    auto source = program.matcher(engine, 0, options);
    source->restore(snaps[0]);
    runtime::MatcherChanges ch;
    source->exportChanges(ch);
    std::vector<std::string> v1;
    for (const auto &[key, record] : ch.put) {
      std::string old = record.substr(0, record.size() - 16);
      old[0] = 1;
      v1.push_back(old);
    }
    std::vector<std::string_view> views(v1.begin(), v1.end());
    runtime::MatcherState st = runtime::assembleMatcherState(ch.header, views, program.schema, "p");
    for (const runtime::StateKey &k : st.keys) {
      CHECK(k.last_time == runtime::kNoLastEvent);
    }
    runtime::restoreFromRecords(*fresh, ch.header, views, program.schema);
    fresh->advanceTime(10'999, out);
    CHECK(fresh->stats().live_keys == 4);
    fresh->advanceTime(11'000, out);
    CHECK(fresh->stats().live_keys == 3);
  }
}

// --key-ttl releases the matches a dropped key's runs held back (skip past last holds a match
// while an earlier run of its key lives): x's a1 waits for a b with v 1, a2's match (a2, b2)
// completes at 3000 and is held behind it; at 8000 (b2 + 5s) a1's run is evicted and the match
// released then, alike on both engines.
TEST_CASE("key ttl: a dropped key releases its held matches, alike on both engines", "[ttl]") {
  Program program(R"(
event E { k: string, name: string, v: int, ts: time }
pattern p partition by k {
    a: E(name == "a") -> b: E(name == "b" and v == a.v)
}
emit Out { k: a.k, v: a.v }
)");
  const std::string text = R"({"@type":"E","k":"x","name":"a","v":1,"ts":1000}
{"@type":"E","k":"x","name":"a","v":2,"ts":2000}
{"@type":"E","k":"x","name":"b","v":2,"ts":3000}
)";
  auto events = decodeAll(*program.schema, text);
  std::string outs[2];
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    INFO(engineName(engine));
    runtime::MatcherOptions options;
    options.bounds.key_ttl_ms = 5'000;
    auto m = program.matcher(engine, 0, options);
    std::vector<runtime::MatchOutput> out;
    std::int64_t time = INT64_MIN;
    for (const auto &e : events) {
      if (e->time > time) {
        m->advanceTime(e->time, out);
        time = e->time;
      }
      m->onEvent(e, out);
    }
    CHECK(out.empty()); // held
    m->advanceTime(7'999, out);
    CHECK(out.empty());
    m->advanceTime(8'000, out);
    CHECK(m->stats().live_keys == 0);
    CHECK(m->stats().evicted == 1);
    REQUIRE(out.size() == 1);
    CHECK(out[0].completion_time == 8'000);
    CHECK(out[0].time_driven);
    CHECK(out[0].json.find("\"v\":2") != std::string::npos);
    outs[engine == Engine::Interp ? 0 : 1] = out[0].json;
  }
  CHECK(outs[0] == outs[1]);
}
