// What a served pattern version needs (runtime/matcher.hpp, docs/semantics.md §11), on both
// engines: the reference interpreter and the native matcher running JIT-compiled code (tag
// [drain]).
//   - "@version" right after "@pattern" in match and timeout records, with and without
//     "@events", byte-equal between the engines;
//   - drain(): no new start, the runs in flight go on exactly as they would have: on every golden
//     match case and several drain points, the output is the undrained run's restricted to the
//     matches that started before the drain point, and the engines agree byte for byte; drained()
//     turns true exactly when the last run, held match and timer are gone;
//   - dropState(): counted, the matcher starts empty;
//   - snapshots carry the draining flag and the dropped counter (CEPISNAP v3; v2 still reads).
#include "compiler/jit/jit.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "interp_fixture_test.hpp"
#include "runtime/native/native_matcher.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace interp_test;
namespace ci = cep::compiler::interp;
namespace rn = cep::runtime::native;
namespace jit = cep::compiler::jit;
namespace fs = std::filesystem;

namespace {

using Pos = std::pair<std::int64_t, std::uint64_t>; // (time, arrival)

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
// native code.
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
                                            runtime::MatcherOptions options) {
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

runtime::MatcherOptions versioned(const std::string &version, bool with_events = false) {
  runtime::MatcherOptions o;
  o.with_events = with_events;
  o.version = version;
  return o;
}

// Events decoded once (rejected lines and watermarks left out), numbered in arrival order,
// sorted by (time, arrival) as the run loop releases them; every matcher is fed the same ones.
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

// Drives a matcher as the run loop does (advanceTime before a new time, outputs of each call
// sorted by MatchOutput::before), calling drain() before event `drain_at` (never when it is
// past the end), and samples drained() after every call.
struct Feed {
  std::vector<runtime::MatchOutput> outputs;
  std::vector<std::string> lines;
  std::vector<bool> drained; // after each call that may change the state
  std::string trace;         // "e<i>" / "t<time>" / "end" of the calls where drained() turned true

  void run(runtime::Matcher &m, const std::vector<runtime::EventRef> &events,
           std::size_t drain_at = SIZE_MAX) {
    std::int64_t time = INT64_MIN;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i == drain_at) {
        m.drain();
        sample(m, "drain");
      }
      const runtime::EventRef &e = events[i];
      if (e->time > time) {
        m.advanceTime(e->time, step_);
        time = e->time;
        flush();
        sample(m, std::string("t").append(std::to_string(e->time)));
      }
      m.onEvent(e, step_);
      flush();
      sample(m, std::string("e").append(std::to_string(i)));
    }
    if (drain_at == events.size()) {
      m.drain();
      sample(m, "drain");
    }
    m.finish(step_);
    flush();
    sample(m, "end");
  }

private:
  void flush() {
    std::stable_sort(step_.begin(), step_.end(), runtime::MatchOutput::before);
    for (auto &o : step_) {
      lines.push_back(o.json);
      outputs.push_back(std::move(o));
    }
    step_.clear();
  }
  void sample(const runtime::Matcher &m, const std::string &at) {
    bool now = m.drained();
    runtime::MatcherStats s = m.stats();
    // drained() means exactly: draining, and no run, held match or timer left (a key lives as
    // long as it holds a run or a held match).
    INFO("at " << at);
    CHECK(now == (m.draining() && s.live_runs == 0 && s.live_keys == 0));
    if (now && (drained.empty() || !drained.back())) {
      trace += (trace.empty() ? "" : " ") + at;
    }
    drained.push_back(now);
  }
  std::vector<runtime::MatchOutput> step_;
};

// The records of a run without drain whose match started before `limit` (the drain point).
std::vector<std::string> startedBefore(const Feed &full, std::optional<Pos> limit) {
  std::vector<std::string> out;
  for (const auto &o : full.outputs) {
    if (!limit || Pos{o.start_time, o.start_seq} < *limit) {
      out.push_back(o.json);
    }
  }
  return out;
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

// Drops `"@version":"<v>",` from a record (what `cep run` writes without a version).
std::string withoutVersion(std::string line, const std::string &version) {
  std::string member = "\"@version\":\"" + version + "\",";
  std::size_t at = line.find(member);
  REQUIRE(at != std::string::npos);
  return line.erase(at, member.size());
}

// A pattern's records as the test writes them (stream Out, pattern p, key "x").
const char *kEvents = "event E { k: string, id: int, name: string, v: int, t: time }\n";

std::string ev(int id, const std::string &name, int v, std::int64_t t, const std::string &k = "x") {
  return R"({"k":")" + k + R"(","id":)" + std::to_string(id) + R"(,"name":")" + name + R"(","v":)" +
         std::to_string(v) + R"(,"t":)" + std::to_string(t) + "}";
}

std::string seconds(std::int64_t ms) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "1970-01-01T00:%02lld:%02lld.%03lldZ",
                static_cast<long long>(ms / 60000), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buffer;
}

std::string rec(const std::string &stream, const std::string &version, std::int64_t start,
                std::int64_t end, const std::string &fields, bool timeout = false,
                const std::string &events = "") {
  std::string r = R"({"@stream":")" + stream + R"(","@pattern":"p")";
  if (!version.empty()) {
    r += R"(,"@version":")" + version + "\"";
  }
  r += R"(,"@key":"x","@start":")" + seconds(start) + R"(","@end":")" + seconds(end) + "\"";
  if (timeout) {
    r += R"(,"@timeout":true)";
  }
  r += "," + fields;
  if (!events.empty()) {
    r += R"(,"@events":)" + events;
  }
  return r + "}";
}

// Runs `events` through both engines with drain() before event `drain_at`; requires equal
// records and equal drained() samples, and that the records are the undrained run's restricted
// to the matches that started before the drain point. Returns the interpreter's feed.
Feed both(Program &program, const std::vector<std::string> &jsons, std::size_t drain_at,
          const runtime::MatcherOptions &options = versioned("v7")) {
  std::string text;
  for (const auto &j : jsons) {
    text += j + "\n";
  }
  auto events = decodeAll(*program.schema, text);
  REQUIRE(events.size() == jsons.size());
  Feed full;
  auto undrained = program.matcher(Engine::Interp, 0, options);
  full.run(*undrained, events);
  std::optional<Pos> limit;
  if (drain_at < events.size()) {
    limit = Pos{events[drain_at]->time, events[drain_at]->seq};
  }
  Feed feeds[2];
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    INFO(engineName(engine));
    auto m = program.matcher(engine, 0, options);
    Feed &f = feeds[engine == Engine::Interp ? 0 : 1];
    f.run(*m, events, drain_at);
    CHECK(f.lines == startedBefore(full, limit));
  }
  CHECK(feeds[1].lines == feeds[0].lines);
  CHECK(feeds[1].drained == feeds[0].drained);
  CHECK(feeds[1].trace == feeds[0].trace);
  return feeds[0];
}

} // namespace

TEST_CASE("drain: every golden match case, drained at several points, agrees with the undrained "
          "run and between engines",
          "[drain]") {
  std::size_t patterns = 0, runs = 0, records = 0, suppressed = 0;
  for (const fs::path &dir : matchCases()) {
    Program program(readText(dir / "rules.cep"));
    auto events = decodeAll(*program.schema, readText(dir / "events.jsonl"));
    for (std::size_t p = 0; p < program.c->prog().patterns.size(); ++p) {
      const std::string &name = program.c->pattern(p).name;
      for (bool with_events : {false, true}) {
        INFO(dir.filename().string() << " pattern " << name << (with_events ? " with events" : ""));
        runtime::MatcherOptions plain;
        plain.with_events = with_events;
        runtime::MatcherOptions options = versioned("0123abcd", with_events);
        // The whole run: "@version" right after "@pattern", and nothing else changes.
        Feed reference, full, full_jit;
        reference.run(*program.matcher(Engine::Interp, p, plain), events);
        full.run(*program.matcher(Engine::Interp, p, options), events);
        full_jit.run(*program.matcher(Engine::Jit, p, options), events);
        CHECK(full_jit.lines == full.lines);
        REQUIRE(full.lines.size() == reference.lines.size());
        for (std::size_t i = 0; i < full.lines.size(); ++i) {
          CHECK(full.lines[i].find("\"@pattern\":\"" + name +
                                   "\",\"@version\":\"0123abcd\",\"@key\":") != std::string::npos);
          CHECK(withoutVersion(full.lines[i], "0123abcd") == reference.lines[i]);
        }
        CHECK(std::none_of(full.drained.begin(), full.drained.end(), [](bool d) { return d; }));
        // Drained before the first event, at a quarter, half, three quarters, after the last.
        const std::size_t n = events.size();
        for (std::size_t k : {std::size_t{0}, n / 4, n / 2, 3 * n / 4, n}) {
          INFO("drained before event " << k << " of " << n);
          std::optional<Pos> limit;
          if (k < n) {
            limit = Pos{events[k]->time, events[k]->seq};
          }
          Feed a, b;
          auto interp = program.matcher(Engine::Interp, p, options);
          auto native = program.matcher(Engine::Jit, p, options);
          a.run(*interp, events, k);
          b.run(*native, events, k);
          std::vector<std::string> expected = startedBefore(full, limit);
          CHECK(a.lines == expected);
          CHECK(b.lines == a.lines);
          CHECK(b.drained == a.drained);
          CHECK(b.trace == a.trace);
          CHECK(interp->drained()); // finish() settles everything
          CHECK(native->drained());
          CHECK(interp->stats().matches + interp->stats().timeouts == a.lines.size());
          ++runs;
          records += a.lines.size();
          suppressed += full.lines.size() - expected.size();
        }
        ++patterns;
      }
    }
  }
  WARN("patterns: " << patterns << ", drained runs: " << runs << ", records: " << records
                    << ", records of suppressed starts: " << suppressed);
  CHECK(patterns > 200);
  CHECK(records > 1000);
  CHECK(suppressed > 500);
}

TEST_CASE("drain: a run in the middle of a loop goes on, new starts do not", "[drain]") {
  // s -> l{2} -> e, skip none: s1's run has taken one of its two l's when the drain comes.
  Program program(std::string(kEvents) + R"(
pattern p partition by k skip none {
    s: E(name == "s") -> l: E(name == "l"){2} -> e: E(name == "e")
}
emit Out { s: s.id, n: count(l), last: last(l).id, e: e.id }
)");
  std::vector<std::string> events{ev(1, "s", 0, 1000), ev(2, "l", 0, 2000), ev(3, "s", 0, 3000),
                                  ev(4, "l", 0, 4000), ev(5, "l", 0, 5000), ev(6, "e", 0, 6000)};
  // Undrained: {s1 l2 l4 e6} and {s3 l4 l5 e6}.
  Feed undrained = both(program, events, SIZE_MAX);
  CHECK(undrained.lines ==
        std::vector<std::string>{rec("Out", "v7", 1000, 6000, R"("s":1,"n":2,"last":4,"e":6)"),
                                 rec("Out", "v7", 3000, 6000, R"("s":3,"n":2,"last":5,"e":6)")});
  // Drained after l2: s3 starts nothing; s1's run takes l4, ignores l5, completes at e6, and
  // with it the last run is gone.
  Feed drained = both(program, events, 2);
  CHECK(drained.lines ==
        std::vector<std::string>{rec("Out", "v7", 1000, 6000, R"("s":1,"n":2,"last":4,"e":6)")});
  CHECK(drained.trace == "e5");
  // Drained before anything: nothing starts, nothing is left at once.
  Feed empty = both(program, events, 0);
  CHECK(empty.lines.empty());
  CHECK(empty.trace == "drain");
}

TEST_CASE("drain: runs under a `within` time out as before, drained() turns true at the "
          "deadline, \"@version\" in timeout records with and without @events",
          "[drain]") {
  Program program(std::string(kEvents) + R"(
pattern p partition by k within 10s {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
on timeout emit Late { a: a.id }
)");
  // a1 @1s (deadline 11s), a2 @2s (deadline 12s); drained before a2; x3 @11.5s advances time
  // past a1's deadline only.
  std::vector<std::string> events{ev(1, "a", 0, 1000), ev(2, "a", 0, 2000), ev(3, "x", 0, 11500),
                                  ev(4, "b", 0, 30000)};
  Feed undrained = both(program, events, SIZE_MAX);
  CHECK(undrained.lines ==
        std::vector<std::string>{rec("Late", "v7", 1000, 11000, R"("a":1)", true),
                                 rec("Late", "v7", 2000, 12000, R"("a":2)", true)});
  Feed drained = both(program, events, 1);
  CHECK(drained.lines ==
        std::vector<std::string>{rec("Late", "v7", 1000, 11000, R"("a":1)", true)});
  // Not at x3's arrival or before: the deadline fires when time reaches 11.5s.
  CHECK(drained.trace == "t11500");

  // The same with @events: "@version" stays right after "@pattern".
  Feed with_events = both(program, events, 1, versioned("v7", true));
  CHECK(with_events.lines ==
        std::vector<std::string>{rec("Late", "v7", 1000, 11000, R"("a":1)", true,
                                     R"({"a":[)" + ev(1, "a", 0, 1000) + R"(],"b":[]})")});
  // And a match record with @events, drained after a1: a1's run completes at b2.
  std::vector<std::string> match{ev(1, "a", 0, 1000), ev(2, "b", 0, 2000), ev(3, "a", 0, 3000)};
  Feed m = both(program, match, 1, versioned("v7", true));
  CHECK(m.lines == std::vector<std::string>{rec("Out", "v7", 1000, 2000, R"("a":1,"b":2)", false,
                                                R"({"a":[)" + ev(1, "a", 0, 1000) + R"(],"b":[)" +
                                                    ev(2, "b", 0, 2000) + "]}")});
  CHECK(m.trace == "e1");
}

TEST_CASE("drain: absence and negation runs in flight complete or die as before", "[drain]") {
  Program program(R"(
event Order   { k: string, id: int, t: time }
event Payment { k: string, id: int, t: time }
pattern p partition by k within 15m {
    o: Order() -> not Payment()
}
emit Unpaid { o: o.id }
)");
  auto order = [](int id, const std::string &k, std::int64_t t) {
    return R"({"@type":"Order","k":")" + k + R"(","id":)" + std::to_string(id) + R"(,"t":)" +
           std::to_string(t) + "}";
  };
  auto payment = [](int id, const std::string &k, std::int64_t t) {
    return R"({"@type":"Payment","k":")" + k + R"(","id":)" + std::to_string(id) + R"(,"t":)" +
           std::to_string(t) + "}";
  };
  // o1 (key x) unpaid: absence at 15m; o2 (key y) paid at 5m; o3 (key z, after the drain) would
  // be unpaid at 17m.
  std::vector<std::string> events{order(1, "x", 0), order(2, "y", 60000), order(3, "z", 120000),
                                  payment(4, "y", 300000), payment(5, "q", 2000000)};
  Feed undrained = both(program, events, SIZE_MAX);
  REQUIRE(undrained.lines.size() == 2);
  Feed drained = both(program, events, 2);
  REQUIRE(drained.lines.size() == 1);
  CHECK(drained.lines[0] == undrained.lines[0]);
  CHECK(drained.lines[0].find(R"("@version":"v7","@key":"x")") != std::string::npos);
  // y's absence died at p4; x's completes when time reaches p5's 2000s (its deadline is 900s).
  CHECK(drained.trace == "t2000000");
}

TEST_CASE("drain: with skip past last, matches held by a run in flight are pruned as before",
          "[drain]") {
  Program program(std::string(kEvents) + R"(
pattern p partition by k skip past last {
    a: E(name == "a") -> b: E(name == "b" and v == a.v)
}
emit Out { a: a.id, b: b.id }
)");
  // a1 (v1) and a2 (v2) run; drained before a3 (v2); b4 (v2) completes {a2 b4}, held by a1's
  // run; b5 (v1) completes {a1 b5}, whose release prunes {a2 b4}: the last run and held match
  // go at b5.
  std::vector<std::string> events{ev(1, "a", 1, 1000), ev(2, "a", 2, 2000), ev(3, "a", 2, 3000),
                                  ev(4, "b", 2, 4000), ev(5, "b", 1, 5000), ev(6, "a", 1, 6000)};
  Feed undrained = both(program, events, SIZE_MAX);
  CHECK(undrained.lines ==
        std::vector<std::string>{rec("Out", "v7", 1000, 5000, R"("a":1,"b":5)")});
  Feed drained = both(program, events, 2);
  CHECK(drained.lines == undrained.lines);
  CHECK(drained.trace == "e4");

  // The state at b4, with and without a drain: dropState counts runs and held matches.
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    for (bool drain : {false, true}) {
      INFO(engineName(engine) << (drain ? " drained" : ""));
      std::string text;
      for (std::size_t i = 0; i < 4; ++i) {
        text += events[i] + "\n";
      }
      auto decoded = decodeAll(*program.schema, text);
      auto m = program.matcher(engine, 0, versioned("v7"));
      std::vector<runtime::MatchOutput> out;
      for (std::size_t i = 0; i < decoded.size(); ++i) {
        if (drain && i == 2) {
          m->drain();
        }
        m->advanceTime(decoded[i]->time, out);
        m->onEvent(decoded[i], out);
      }
      CHECK(out.empty());
      // a1's run; held {a2 b4} (and {a3 b4} undrained).
      CHECK(m->stats().live_runs == 1);
      CHECK_FALSE(m->drained());
      std::uint64_t dropped = m->dropState();
      CHECK(dropped == (drain ? 2u : 3u));
      CHECK(m->stats().dropped == dropped);
      CHECK(m->stats().live_runs == 0);
      CHECK(m->stats().live_keys == 0);
      CHECK(m->stats().bound_events == 0);
      CHECK(m->drained() == drain);
      CHECK(m->dropState() == 0);
      CHECK(m->stats().dropped == dropped);
      // The matcher goes on empty: b5 completes nothing; a6 starts a run unless draining.
      auto rest = decodeAll(*program.schema, events[4] + "\n" + events[5] + "\n");
      for (const auto &e : rest) {
        m->advanceTime(e->time, out);
        m->onEvent(e, out);
      }
      CHECK(m->stats().live_runs == (drain ? 0u : 1u));
      m->finish(out);
      CHECK(out.empty());
    }
  }
}

TEST_CASE("drain: snapshots carry the draining flag and the dropped counter, across engines",
          "[drain][snapshot]") {
  Program program(std::string(kEvents) + R"(
pattern p partition by k within 10s {
    a: E(name == "a") -> b: E(name == "b")
}
emit Out { a: a.id, b: b.id }
)");
  std::string text;
  for (const auto &e : {ev(1, "a", 0, 1000, "x"), ev(2, "a", 0, 2000, "y"),
                        ev(3, "a", 0, 3000, "z"), ev(4, "b", 0, 4000, "y")}) {
    text += e + "\n";
  }
  auto events = decodeAll(*program.schema, text);
  // "CEPISNAP", u32 version, str name (u32 length + "p"), i64 time, 8 u64 statistics (evicted
  // last), then u64 dropped, u8 draining.
  const std::size_t version_at = 8, dropped_at = 8 + 4 + 4 + 1 + 8 + 8 * 8,
                    draining_at = dropped_at + 8;
  auto peakless = [](std::string snap) {
    std::fill_n(snap.begin() + 8 + 4 + 4 + 1 + 8 + 6 * 8, 8, '\0'); // the engines' estimates
    return snap;
  };
  std::string snaps[2];
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    INFO(engineName(engine));
    auto m = program.matcher(engine, 0, versioned("v7"));
    std::vector<runtime::MatchOutput> out;
    m->advanceTime(events[0]->time, out);
    m->onEvent(events[0], out);
    CHECK(m->dropState() == 1); // x's run
    m->drain();
    for (std::size_t i = 1; i < events.size(); ++i) {
      m->advanceTime(events[i]->time, out);
      m->onEvent(events[i], out);
    }
    CHECK(out.empty()); // drained before y and z: nothing started
    CHECK(m->drained());
    std::string &snap = snaps[engine == Engine::Interp ? 0 : 1];
    m->snapshot(snap);
    CHECK(snap[version_at] == 4);
    CHECK(snap[dropped_at] == 1);
    CHECK(snap[draining_at] == 1);
    CHECK(draining_at + 1 + 8 * 3 == snap.size()); // no events, nodes or keys
  }
  CHECK(peakless(snaps[1]) == peakless(snaps[0]));
  // Each restores into the other engine: draining, drained, the counter kept; it starts
  // nothing.
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    INFO(engineName(engine));
    auto m = program.matcher(engine, 0, versioned("v7"));
    m->restore(snaps[engine == Engine::Interp ? 1 : 0]);
    CHECK(m->draining());
    CHECK(m->drained());
    CHECK(m->stats().dropped == 1);
    std::vector<runtime::MatchOutput> out;
    auto more = decodeAll(*program.schema, ev(5, "a", 0, 5000) + "\n" + ev(6, "b", 0, 6000));
    for (const auto &e : more) {
      m->advanceTime(e->time, out);
      m->onEvent(e, out);
    }
    m->finish(out);
    CHECK(out.empty());
    // Not draining, with a run in flight: the flag is 0; a snapshot taken while draining with
    // a run in flight restores as such.
    auto fresh = program.matcher(engine, 0, versioned("v7"));
    fresh->advanceTime(more[0]->time, out);
    fresh->onEvent(more[0], out);
    std::string snap;
    fresh->snapshot(snap);
    CHECK(snap[draining_at] == 0);
    fresh->drain();
    snap.clear();
    fresh->snapshot(snap);
    CHECK(snap[draining_at] == 1);
    auto back = program.matcher(engine == Engine::Interp ? Engine::Jit : Engine::Interp, 0,
                                versioned("v7"));
    back->restore(snap);
    CHECK(back->draining());
    CHECK_FALSE(back->drained());
    back->advanceTime(more[1]->time, out);
    back->onEvent(more[1], out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].json == rec("Out", "v7", 5000, 6000, R"("a":5,"b":6)"));
    CHECK(back->drained());
    out.clear();
    // Version 2 (no dropped counter, no draining flag, no last event after its one key) still
    // reads: not draining.
    std::string v2 = snap;
    v2[version_at] = 2;
    v2.erase(v2.size() - 8 - 8, 8 + 8);
    v2.erase(dropped_at, 8 + 1);
    auto old = program.matcher(engine, 0, versioned("v7"));
    old->restore(v2);
    CHECK_FALSE(old->draining());
    CHECK(old->stats().dropped == 0);
    CHECK(old->stats().live_runs == 1);
    // A draining flag other than 0 or 1 is refused.
    std::string bad = snap;
    bad[draining_at] = 2;
    auto refused = program.matcher(engine, 0, versioned("v7"));
    CHECK_THROWS_WITH(refused->restore(bad), Catch::Contains("draining flag is 2, not 0 or 1"));
  }
}
