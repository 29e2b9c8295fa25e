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

  void checkpoint(const std::string &at) {
    INFO("checkpoint " << at);
    runtime::MatcherChanges c;
    m->exportChanges(c);
    store.apply(c);
    std::string snap;
    m->snapshot(snap);
    REQUIRE(store.assembled(schema, m->patternName()) == snap);
    CHECK(store.records.size() == m->stats().live_keys);
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
      // store's records (4: same engine, 6: the other one). The same engine snapshots to the
      // same bytes at once; the other one may not (peak_state_bytes is each engine's estimate).
      for (int variant = 0; variant < 7; ++variant) {
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
              Engine other = variant <= 4               ? engine
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
}

TEST_CASE("changes: the native tracking puts little besides the keys that changed", "[changes]") {
  // Runs after the golden sweep (same file, declaration order): its counts are the sweep's.
  // Extra puts are keys an event touched without changing their record (no run moved), at most
  // one per event and checkpoint.
  WARN("native checkpoints: " << tally.checkpoints << ", keys held at them: "
                              << tally.keys_at_checkpoints << ", puts: diff " << tally.diff_puts
                              << " native " << tally.native_puts << " (extra " << tally.extra_puts
                              << "), erased: diff " << tally.diff_erased << " native "
                              << tally.native_erased);
  if (tally.checkpoints == 0) {
    return; // run alone
  }
  CHECK(tally.native_puts * 10 <= tally.diff_puts * 11); // at most 10% more
}
