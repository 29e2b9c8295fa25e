// Snapshots of a whole run (runtime/engine/run_snapshot.hpp) with the real interpreter, built as
// `cep run` builds it (front-end, lowerPattern, the standard passes, makeInterpMatcher), driven
// from real Inputs as run() drives it. At every record boundary: snapshot, restore into fresh
// matchers and a fresh RunLoop, replay the inputs skipping what the restored loop's position
// says was consumed, run to the end; the match output, dead letters, late events, reports and
// statistics must be those of the uninterrupted run, byte for byte. Restored runs snapshot to
// the same bytes. Truncated, corrupted, wrong-version and incompatible snapshots are rejected
// with their reason.
#include "cli/run_stats.hpp"
#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "compiler/schema_from_program.hpp"
#include "lang/frontend.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/engine/run_snapshot.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

using namespace cep::runtime;
namespace fs = std::filesystem;
namespace lang = cep::lang;

namespace {

class TempDir {
public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("cep_run_snapshot_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string write(const std::string &name, const std::string &content) const {
    std::string path = (path_ / name).string();
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

private:
  fs::path path_;
};

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rules loaded by the front-end; matchers built as cli/cmd_run.cpp builds them.
class Rules {
public:
  explicit Rules(const std::vector<std::string> &paths) {
    frontend_ = lang::loadProgram(paths, sources_, diags_);
    std::ostringstream rendered;
    diags_.render(rendered, false);
    INFO(rendered.str());
    REQUIRE(!diags_.hasErrors());
    REQUIRE(frontend_.program.has_value());
    schema = cep::compiler::schemaFromProgram(*frontend_.program);
  }

  std::vector<std::unique_ptr<Matcher>> matchers(bool with_events, StateBounds bounds = {}) const {
    const lang::typed::Program &program = *frontend_.program;
    MatcherOptions options;
    options.with_events = with_events;
    options.bounds = bounds;
    auto passes = cep::compiler::passes::PassManager::standard();
    std::vector<std::unique_ptr<Matcher>> out;
    for (std::size_t i = 0; i < program.patterns.size(); ++i) {
      auto index = static_cast<std::int32_t>(i);
      cep::compiler::nfa::Nfa nfa = cep::compiler::lowerPattern(program, index);
      passes.run(nfa);
      out.push_back(
          cep::compiler::interp::makeInterpMatcher(program, index, std::move(nfa), options));
    }
    return out;
  }

  Schema schema;

private:
  lang::SourceManager sources_;
  lang::DiagnosticEngine diags_{sources_};
  lang::Frontend frontend_;
};

// A run to reproduce: rules, inputs, options (the output streams are set per session).
struct Scenario {
  std::string name;
  const Rules *rules = nullptr;
  std::vector<InputSpec> inputs;
  RunOptions options;
  bool with_events = false;
  StateBounds bounds; // --max-runs-per-key, --max-state-bytes
};

// What a run wrote.
struct Written {
  std::string out, report, dead, late;
  Written &operator+=(const Written &o) {
    out += o.out;
    report += o.report;
    dead += o.dead;
    late += o.late;
    return *this;
  }
};

// The fake wall clock: a function of how many reports (records, ends) were fed since the start
// of the run, so a resumed run reads the same clock as the uninterrupted one.
struct Clock {
  std::int64_t reports = 0;
  std::int64_t now() const { return 1767607200000 + reports * 250; }
};

// One RunLoop's surroundings: fresh matchers, a captured output, report and side outputs.
class Session {
public:
  Session(const Scenario &scenario, Clock &clock) : scenario_(&scenario), sink_(written_.out) {
    owned_ = scenario.rules->matchers(scenario.with_events, scenario.bounds);
    for (const auto &m : owned_) {
      matchers.push_back(m.get());
    }
    options = scenario.options;
    options.state_bounds = scenario.bounds; // as cep run records them
    options.report = &report_;
    options.dead_letter = &dead_;
    options.late_output = &late_;
    options.clock = [&clock] { return clock.now(); };
  }

  std::unique_ptr<RunLoop> start(const Inputs &inputs) {
    return std::make_unique<RunLoop>(scenario_->rules->schema, matchers, inputs.names(),
                                     boundTypes(inputs), sink_, options);
  }
  std::unique_ptr<RunLoop> restore(std::string_view snapshot, const Inputs &inputs) {
    return restoreRun(snapshot, scenario_->rules->schema, matchers, inputs.names(),
                      boundTypes(inputs), sink_, options);
  }
  // Everything written so far (the sink flushed).
  Written written() {
    sink_.flush();
    Written w = written_;
    w.report = report_.str();
    w.dead = dead_.str();
    w.late = late_.str();
    return w;
  }

  std::vector<Matcher *> matchers;
  RunOptions options;

  static std::vector<std::int32_t> boundTypes(const Inputs &inputs) {
    std::vector<std::int32_t> types;
    for (std::uint32_t i = 0; i < inputs.size(); ++i) {
      types.push_back(inputs.boundType(i));
    }
    return types;
  }

private:
  const Scenario *scenario_;
  std::vector<std::unique_ptr<Matcher>> owned_;
  Written written_;
  OutputSink sink_;
  std::ostringstream report_, dead_, late_;
};

std::unique_ptr<Inputs> openInputs(const Scenario &scenario) {
  auto inputs = std::make_unique<Inputs>();
  std::string error;
  INFO(error);
  REQUIRE(inputs->open(scenario.inputs, scenario.rules->schema, error, 4096));
  return inputs;
}

// Feeds `loop` what `inputs` reports, as run() does, until `limit` reports (records and input
// ends) were fed in total or the end; at the end calls finish(). True at the end.
bool feed(RunLoop &loop, Inputs &inputs, Clock &clock, std::int64_t limit) {
  InputRecord record;
  while (clock.reports < limit) {
    InputStatus status = inputs.next(record);
    REQUIRE(status != InputStatus::Error);
    if (status == InputStatus::End) {
      REQUIRE(loop.finish());
      return true;
    }
    ++clock.reports;
    bool going = status == InputStatus::Record ? loop.onRecord(record.input, record.line)
                                               : loop.onInputEnd(record.input);
    REQUIRE(going);
  }
  return false;
}

// Replays `inputs` from their start up to `position` as a resumed run would: drops the records
// it says were consumed and the ends already seen. Returns how many reports that was; checks
// the last dropped record of each input is on the line the position names.
std::int64_t skipTo(Inputs &inputs, const ReadPosition &position) {
  REQUIRE(position.inputs.size() == inputs.size());
  std::vector<std::uint64_t> records_left;
  std::vector<bool> end_left;
  for (const InputProgress &input : position.inputs) {
    records_left.push_back(input.records);
    end_left.push_back(input.finished);
  }
  auto pending = [&] {
    for (std::size_t i = 0; i < records_left.size(); ++i) {
      if (records_left[i] > 0 || end_left[i]) {
        return true;
      }
    }
    return false;
  };
  std::int64_t skipped = 0;
  InputRecord record;
  while (pending()) {
    InputStatus status = inputs.next(record);
    REQUIRE((status == InputStatus::Record || status == InputStatus::Finished));
    std::uint32_t i = record.input;
    if (status == InputStatus::Record) {
      REQUIRE(records_left[i] > 0); // the position is a prefix of the round-robin order
      if (--records_left[i] == 0) {
        CHECK(record.line.number == position.inputs[i].line);
      }
    } else {
      REQUIRE(records_left[i] == 0);
      REQUIRE(end_left[i]);
      end_left[i] = false;
    }
    ++skipped;
  }
  return skipped;
}

// The input the round-robin reads next after `position`: the first not finished from its turn.
std::uint32_t nextInput(const ReadPosition &position) {
  auto n = static_cast<std::uint32_t>(position.inputs.size());
  std::uint32_t input = position.next_input;
  for (std::uint32_t tried = 0; tried < n && position.inputs[input].finished; ++tried) {
    input = (input + 1) % n;
  }
  return input;
}

void checkSamePosition(const ReadPosition &a, const ReadPosition &b) {
  REQUIRE(a.inputs.size() == b.inputs.size());
  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    CHECK(a.inputs[i].records == b.inputs[i].records);
    CHECK(a.inputs[i].line == b.inputs[i].line);
    CHECK(a.inputs[i].finished == b.inputs[i].finished);
  }
  CHECK(a.next_input == b.next_input);
}

struct Reference {
  Written written;
  std::string stats;        // formatRunStats without timing
  std::int64_t reports = 0; // records and input ends reported
  std::size_t max_buffered = 0;
};

Reference reference(const Scenario &scenario) {
  Reference r;
  Clock clock;
  Session session(scenario, clock);
  auto inputs = openInputs(scenario);
  auto loop = session.start(*inputs);
  while (!feed(*loop, *inputs, clock, clock.reports + 1)) {
    r.max_buffered = std::max(r.max_buffered, loop->bufferedEvents());
  }
  r.reports = clock.reports;
  r.written = session.written();
  r.stats = cep::cli::formatRunStats(loop->stats(), false);
  return r;
}

void checkWritten(const Written &got, const Reference &want) {
  CHECK(got.out == want.written.out);
  CHECK(got.report == want.written.report);
  CHECK(got.dead == want.written.dead);
  CHECK(got.late == want.written.late);
}

// Runs `cut` reports, snapshots, restores into fresh objects, replays the inputs from the
// restored position, runs to the end: what is written must be the reference.
void resumeAt(const Scenario &scenario, const Reference &want, std::int64_t cut) {
  INFO(scenario.name << ": snapshot after " << cut << " of " << want.reports << " reports");
  Clock clock;
  std::string snapshot;
  ReadPosition position;
  Written before;
  {
    Session session(scenario, clock);
    auto inputs = openInputs(scenario);
    auto loop = session.start(*inputs);
    REQUIRE(!feed(*loop, *inputs, clock, cut));
    snapshotRun(*loop, snapshot);
    std::string again;
    snapshotRun(*loop, again);
    REQUIRE(again == snapshot); // snapshotting changes nothing
    position = loop->position();
    before = session.written();
  } // the first run is dropped without finishing

  Session session(scenario, clock);
  auto inputs = openInputs(scenario);
  auto loop = session.restore(snapshot, *inputs);
  std::string resnapshot;
  snapshotRun(*loop, resnapshot);
  REQUIRE(resnapshot == snapshot); // the format is canonical
  checkSamePosition(loop->position(), position);
  std::int64_t skipped = skipTo(*inputs, loop->position());
  REQUIRE(skipped == cut);
  // The next report is of the input whose turn the position says it is.
  InputRecord record;
  InputStatus status = inputs->next(record);
  REQUIRE(status != InputStatus::Error);
  if (status == InputStatus::End) {
    REQUIRE(loop->finish());
  } else {
    CHECK(record.input == nextInput(position));
    ++clock.reports;
    REQUIRE((status == InputStatus::Record ? loop->onRecord(record.input, record.line)
                                           : loop->onInputEnd(record.input)));
    REQUIRE(feed(*loop, *inputs, clock, INT64_MAX));
  }
  Written after = session.written();
  before += after;
  checkWritten(before, want);
  CHECK(cep::cli::formatRunStats(loop->stats(), false) == want.stats);
}

// Snapshots and restores at every `every`th boundary in one pass: each report after such a
// boundary goes to a RunLoop restored from the previous one's snapshot.
void chain(const Scenario &scenario, const Reference &want, std::int64_t every = 1) {
  INFO(scenario.name << ": restored at every " << every << " boundaries");
  Clock clock;
  auto inputs = openInputs(scenario);
  Written all;
  auto session = std::make_unique<Session>(scenario, clock);
  auto loop = session->start(*inputs);
  for (;;) {
    std::string snapshot;
    snapshotRun(*loop, snapshot);
    ReadPosition position = loop->position();
    all += session->written();
    loop.reset();
    session = std::make_unique<Session>(scenario, clock);
    loop = session->restore(snapshot, *inputs);
    std::string again;
    snapshotRun(*loop, again);
    INFO("after " << clock.reports << " reports");
    REQUIRE(again == snapshot);
    checkSamePosition(loop->position(), position);
    if (feed(*loop, *inputs, clock, clock.reports + every)) {
      break;
    }
  }
  all += session->written();
  checkWritten(all, want);
  CHECK(cep::cli::formatRunStats(loop->stats(), false) == want.stats);
}

// --- the golden match cases ---------------------------------------------------------------------

std::vector<std::string> words(const std::string &line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

// The `args` of a golden match case as RunOptions (the few options the cases use).
bool applyArgs(const std::string &args, RunOptions &options, bool &with_events,
               StateBounds &bounds) {
  std::vector<std::string> w = words(args);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i] == "--with-events") {
      with_events = true;
      options.keep_raw = true;
    } else if (w[i] == "--max-delay" && i + 1 < w.size()) {
      std::string error;
      if (!parseDuration(w[++i], options.max_delay_ms, &error)) {
        return false;
      }
    } else if (w[i].rfind("--event-time-range=", 0) == 0) {
      std::string error;
      if (!parseTimeRange(w[i].substr(19), options.time_min, options.time_max, &error)) {
        return false;
      }
    } else if (w[i] == "--max-runs-per-key" && i + 1 < w.size()) {
      bounds.max_runs_per_key = std::stoull(w[++i]);
    } else if (w[i] == "--max-state-bytes" && i + 1 < w.size()) {
      bounds.max_state_bytes = std::stoull(w[++i]);
      options.keep_raw = true; // as cep run: raw lengths are accounted
    } else if (w[i] == "--key-ttl" && i + 1 < w.size()) {
      std::string error;
      if (!parseDuration(w[++i], bounds.key_ttl_ms, &error)) {
        return false;
      }
    } else if (w[i] == "--watermark" && i + 1 < w.size()) {
      options.watermark = w[++i] == "explicit" ? WatermarkMode::Explicit : WatermarkMode::Auto;
    } else if (w[i] == "--at-end" && i + 1 < w.size()) {
      options.at_end = w[++i] == "drop" ? AtEnd::Drop : AtEnd::Fire;
    } else {
      return false;
    }
  }
  return true;
}

// --- a synthetic stream over three inputs ------------------------------------------------------

const char *kSyntheticRules = R"(
event Order   { order: string, user: string, total: float, ts: time }
event Payment { order: string, amount: float, ts: time }
event Ship    { order: string, ts: time }
event Note    { order: string, text: string? }

// Absence: no full payment within 2 minutes of the order.
pattern unpaid partition by order within 2m {
    o: Order() -> not Payment(amount >= o.total)
}
emit Unpaid { order: o.order, total: o.total }

// Timeouts: paid, then shipped, within 5 minutes.
pattern shipped partition by order within 5m {
    o: Order() -> p: Payment(){1,} -> s: Ship()
}
emit Shipped { order: o.order, paid: sum(p.amount), n: count(p) }
on timeout emit NotShipped { order: o.order, n: count(p) }

// Held matches: a later-starting rise completes while an earlier run is still waiting.
pattern rise partition by order within 3m {
    a: Payment() -> b: Payment(amount > a.amount)
}
emit Rise { order: a.order, a: a.amount, b: b.amount }
on timeout emit RiseTimeout { order: a.order, a: a.amount }

// Branching.
pattern any_ship partition by order skip none {
    o: Order() ->> s: Ship() within 1m
}
emit AnyShip { order: o.order, at: s.ts }

// Strict contiguity with a negation in the middle.
pattern strict_pay partition by order {
    p: Payment() , not Ship() , q: Payment()
}
emit StrictPay { order: p.order, total: p.amount + q.amount }

// Ingestion time: a note between the order and its shipping.
pattern noted partition by order within 10m {
    o: Order() -> n: Note() -> s: Ship()
}
emit Noted { order: o.order, text: n.text }

// One partition; negation at the end: the next event is not an order.
pattern quiet_ship {
    s: Ship() , not Order()
}
emit QuietShip { order: s.order }
)";

struct Lcg {
  std::uint64_t x;
  std::uint64_t next(std::uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % n;
  }
};

// Orders and ships (with @type), payments (bound to Payment), notes (ingestion time): out of
// order by up to 40 s, a few rejected records, some events far out of order (late), explicit
// watermark lines, the inputs of different lengths.
std::vector<std::string> syntheticInputs(int n) {
  Lcg r{2024};
  std::string orders, payments, notes;
  std::int64_t base = 1767607200000;
  const double amounts[] = {5.0, 12.5, 40.0, 80.0, 120.0, 7.25, 300.0};
  for (int i = 0; i < n; ++i) {
    std::int64_t t = base + i * 1500 - static_cast<std::int64_t>(r.next(40000));
    std::string order = "o" + std::to_string(r.next(12));
    std::string ts = std::to_string(t);
    switch (r.next(10)) {
    case 0:
    case 1:
    case 2:
      orders += R"({"@type":"Order","order":")" + order + R"(","user":"u)" +
                std::to_string(r.next(3)) + R"(","total":)" + std::to_string(amounts[r.next(7)]) +
                R"(,"ts":)" + ts + "}\n";
      break;
    case 3:
    case 4:
      orders += R"({"@type":"Ship","order":")" + order + R"(","ts":)" + ts + "}\n";
      break;
    case 5:
      if (i % 3 == 0) {
        notes += R"({"@type":"Note","order":")" + order + R"(","text":)" +
                 (r.next(2) == 0 ? std::string("null") : "\"n" + std::to_string(i) + "\"") + "}\n";
        break;
      }
      [[fallthrough]];
    default:
      payments += R"({"order":")" + order + R"(","amount":)" + std::to_string(amounts[r.next(7)]) +
                  R"(,"ts":)" + ts + "}\n";
      break;
    }
    if (i % 97 == 50) {
      orders += "not json\n";
      payments += R"({"order":"o1","amount":"x","ts":1})"
                  "\n";
    }
    if (i % 61 == 30) { // far out of order: late
      payments += R"({"order":"o2","amount":1.0,"ts":)" + std::to_string(t - 600000) + "}\n";
    }
    if (i % 83 == 40) {
      orders += "\n"
                R"({"@watermark":)" +
                std::to_string(t - 45000) + "}\n";
    }
  }
  return {orders, payments, notes};
}

bool contains(const std::string &text, const std::string &what) {
  return text.find(what) != std::string::npos;
}

std::string sourcePath(const std::string &relative) {
  return (fs::path(CEP_SOURCE_DIR) / relative).string();
}

// Reseals a snapshot edited by a test: the checksum of everything before it.
void reseal(std::string &snapshot) {
  std::uint64_t sum =
      runSnapshotChecksum(std::string_view(snapshot).substr(0, snapshot.size() - 8));
  for (std::size_t i = 0; i < 8; ++i) {
    snapshot[snapshot.size() - 8 + i] = static_cast<char>(sum >> (8 * i));
  }
}

} // namespace

TEST_CASE("run snapshot: every golden match case resumes from every record boundary",
          "[snapshot][runtime]") {
  fs::path root = sourcePath("tests/golden/match");
  std::vector<fs::path> cases;
  for (const auto &entry : fs::directory_iterator(root)) {
    // Not the aggregate cases (this harness builds pattern matchers only; `run_golden --resume`
    // cuts them under the native engine).
    if (entry.is_directory() && !fs::exists(entry.path() / "exit") &&
        !fs::exists(entry.path() / "engines") &&
        !contains(readFile((entry.path() / "rules.cep").string()), "\naggregate ")) {
      cases.push_back(entry.path());
    }
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() > 100);
  std::size_t with_disorder = 0, with_timeouts = 0, cuts = 0;
  for (const fs::path &dir : cases) {
    Scenario scenario;
    scenario.name = dir.filename().string();
    INFO(scenario.name);
    if (fs::exists(dir / "args")) {
      REQUIRE(applyArgs(readFile((dir / "args").string()), scenario.options, scenario.with_events,
                        scenario.bounds));
    }
    Rules rules({(dir / "rules.cep").string()});
    scenario.rules = &rules;
    scenario.inputs = {{(dir / "events.jsonl").string(), ""}};
    Reference want = reference(scenario);
    // The harness runs like `cep run`: the uninterrupted run gives the expected output.
    REQUIRE(want.written.out == readFile((dir / "expected.jsonl").string()));
    if (fs::exists(dir / "late.jsonl")) {
      CHECK(want.written.late == readFile((dir / "late.jsonl").string()));
    }
    with_disorder += want.max_buffered > 1 ? 1 : 0;
    with_timeouts += contains(want.written.out, "\"@timeout\":true") ? 1 : 0;
    for (std::int64_t cut = 0; cut <= want.reports; ++cut) {
      resumeAt(scenario, want, cut);
      ++cuts;
    }
    chain(scenario, want);
  }
  CHECK(cuts > 1000); // every record of every case, its end, and before the first
  CHECK(with_disorder >= 3);
  CHECK(with_timeouts >= 5);
}

TEST_CASE("run snapshot: a synthetic stream over three inputs resumes from every boundary",
          "[snapshot][runtime]") {
  TempDir dir;
  std::string rules_path = dir.write("rules.cep", kSyntheticRules);
  Rules rules({rules_path});
  std::vector<std::string> text = syntheticInputs(260);
  Scenario scenario;
  scenario.name = "synthetic";
  scenario.rules = &rules;
  scenario.inputs = {{dir.write("orders.jsonl", text[0]), ""},
                     {dir.write("payments.jsonl", text[1]), "Payment"},
                     {dir.write("notes.jsonl", text[2]), ""}};
  scenario.options.max_delay_ms = 40000;
  scenario.options.keep_raw = true;
  scenario.with_events = true;
  Reference want = reference(scenario);

  // The stream exercises what a snapshot must carry.
  const std::string &out = want.written.out;
  INFO(out);
  CHECK(want.max_buffered >= 10);
  for (const char *stream :
       {"\"Unpaid\"", "\"Shipped\"", "\"NotShipped\"", "\"Rise\"", "\"RiseTimeout\"", "\"AnyShip\"",
        "\"StrictPay\"", "\"Noted\"", "\"QuietShip\"", "\"@timeout\":true"}) {
    INFO(stream);
    CHECK(contains(out, stream));
  }
  CHECK(!want.written.dead.empty());
  CHECK(!want.written.late.empty());
  CHECK(contains(want.stats, "watermarks"));

  for (std::int64_t cut = 0; cut <= want.reports; ++cut) {
    resumeAt(scenario, want, cut);
  }
  chain(scenario, want);
}

TEST_CASE("run snapshot: processing time resumes too", "[snapshot][runtime]") {
  TempDir dir;
  Rules rules({dir.write("rules.cep", kSyntheticRules)});
  std::vector<std::string> text = syntheticInputs(150);
  Scenario scenario;
  scenario.name = "synthetic, processing time";
  scenario.rules = &rules;
  scenario.inputs = {{dir.write("orders.jsonl", text[0]), ""},
                     {dir.write("payments.jsonl", text[1]), "Payment"},
                     {dir.write("notes.jsonl", text[2]), ""}};
  scenario.options.time = TimeMode::Processing;
  Reference want = reference(scenario);
  CHECK(!want.written.out.empty());
  for (std::int64_t cut = 0; cut <= want.reports; ++cut) {
    resumeAt(scenario, want, cut);
  }
  chain(scenario, want);
}

TEST_CASE("run snapshot: the fraud example on two inputs resumes from every 4th boundary",
          "[snapshot][runtime]") {
  Rules rules({sourcePath("examples/fraud/payments.cep"), sourcePath("examples/fraud/accounts.cep"),
               sourcePath("examples/fraud/orders.cep")});
  // Payments on one input, everything else on the other.
  std::istringstream events(readFile(sourcePath("examples/fraud/events.jsonl")));
  std::string payments, others;
  for (std::string line; std::getline(events, line);) {
    (contains(line, "\"@type\":\"Payment\"") ? payments : others) += line + "\n";
  }
  TempDir dir;
  Scenario scenario;
  scenario.name = "fraud";
  scenario.rules = &rules;
  scenario.inputs = {{dir.write("payments.jsonl", payments), ""},
                     {dir.write("others.jsonl", others), ""}};
  scenario.options.max_delay_ms = 2000;
  Reference want = reference(scenario);
  for (const char *stream : {"\"HighRisk\"", "\"Velocity\"", "\"CardTesting\"", "\"Takeover\"",
                             "\"ImpossibleTravel\"", "\"Unpaid\""}) {
    INFO(stream);
    CHECK(contains(want.written.out, stream));
  }
  CHECK(want.max_buffered >= 2);
  // Its state grows to thousands of runs: every boundary is covered by the cases above, every
  // 4th here.
  chain(scenario, want, 4);
  for (std::int64_t cut = 0; cut <= want.reports; cut += 157) {
    resumeAt(scenario, want, cut);
  }
  resumeAt(scenario, want, want.reports);
}

TEST_CASE("run snapshot: bad and incompatible snapshots are rejected with a reason",
          "[snapshot][runtime]") {
  TempDir dir;
  Rules rules({dir.write("rules.cep", kSyntheticRules)});
  std::vector<std::string> text = syntheticInputs(120);
  Scenario scenario;
  scenario.name = "synthetic";
  scenario.rules = &rules;
  scenario.inputs = {{dir.write("orders.jsonl", text[0]), ""},
                     {dir.write("payments.jsonl", text[1]), "Payment"},
                     {dir.write("notes.jsonl", text[2]), ""}};
  scenario.options.max_delay_ms = 40000;
  scenario.options.keep_raw = true;
  scenario.with_events = true;

  Clock clock;
  Session session(scenario, clock);
  auto inputs = openInputs(scenario);
  auto loop = session.start(*inputs);
  REQUIRE(!feed(*loop, *inputs, clock, 100));
  REQUIRE(loop->bufferedEvents() > 0);
  std::string snap;
  snapshotRun(*loop, snap);

  // Restores `bytes` into fresh objects; returns the error ("" when it restored).
  auto tryRestore = [&](std::string_view bytes, const Scenario &s = Scenario{},
                        const Schema *schema = nullptr) -> std::string {
    const Scenario &use = s.rules != nullptr ? s : scenario;
    Session fresh(use, clock);
    auto in = openInputs(use);
    std::string capture;
    OutputSink sink(capture);
    try {
      if (schema != nullptr) {
        restoreRun(bytes, *schema, fresh.matchers, in->names(), Session::boundTypes(*in), sink,
                   fresh.options);
      } else {
        fresh.restore(bytes, *in);
      }
    } catch (const std::runtime_error &e) {
      return e.what();
    }
    return "";
  };
  REQUIRE(tryRestore(snap).empty());

  SECTION("every truncation") {
    Session fresh(scenario, clock);
    auto in = openInputs(scenario);
    for (std::size_t n = 0; n < snap.size(); ++n) {
      INFO("first " << n << " bytes");
      try {
        fresh.restore(std::string_view(snap).substr(0, n), *in);
        FAIL("restored a truncated snapshot");
      } catch (const std::runtime_error &e) {
        std::string want = n < 20 ? "bad run snapshot: truncated"
                                  : "bad run snapshot: truncated (" + std::to_string(n) + " of " +
                                        std::to_string(snap.size()) + " bytes)";
        if (e.what() != want) {
          CHECK(e.what() == want); // only report the first few
          break;
        }
      }
    }
    CHECK(tryRestore(snap + "x") == "bad run snapshot: trailing bytes after its end: 1");
  }

  SECTION("corruption anywhere is detected") {
    Session fresh(scenario, clock);
    auto in = openInputs(scenario);
    std::size_t step = std::max<std::size_t>(1, snap.size() / 1500);
    for (std::size_t at = 0; at < snap.size(); at += (at < 64 ? 1 : step)) {
      std::string bad = snap;
      bad[at] = static_cast<char>(bad[at] ^ 0x20);
      INFO("byte " << at << " flipped");
      std::string error;
      try {
        fresh.restore(bad, *in);
      } catch (const std::runtime_error &e) {
        error = e.what();
      }
      REQUIRE(!error.empty());
      if (at >= 20) {
        CHECK(error == "bad run snapshot: checksum mismatch (corrupted)");
      }
    }
  }

  SECTION("the envelope") {
    std::string magic = snap;
    magic[3] = 'X';
    CHECK(tryRestore(magic) == "bad run snapshot: not a run snapshot");
    std::string version = snap;
    version[8] = 6;
    CHECK(tryRestore(version) == "bad run snapshot: format version 6 (this build reads 1 to 5)");
    std::string interp_snapshot;
    session.matchers[0]->snapshot(interp_snapshot);
    CHECK(tryRestore(interp_snapshot) == "bad run snapshot: not a run snapshot");
    CHECK(tryRestore("") == "bad run snapshot: truncated");
  }

  // The snapshot as an older version wrote it: version 4 is version 5 without the latest unread
  // event's time before the checksum; version 3 is version 4 without the key TTL after the five
  // result options; version 2 is version 3 without the positions section before the checksum
  // (here empty: u32 0 inputs, u32 0 outputs); version 1 is version 2 without the five options
  // after the raw-records flag.
  auto older = [&](std::uint32_t version) {
    constexpr std::size_t kEmptyPositions = 4 + 4;
    constexpr std::size_t kOptionsEnd = 8 + 4 + 8 + 1 + 1 + 8 + 1;
    std::string old = snap;
    old.erase(old.size() - 8 - 8, 8); // i64 the latest unread event's time
    if (version <= 2) {
      old.erase(old.size() - 8 - kEmptyPositions, kEmptyPositions);
    }
    if (version <= 3) {
      old.erase(kOptionsEnd + 5 * 8, 8); // i64 key TTL
    }
    if (version == 1) {
      old.erase(kOptionsEnd, 8 + 8 + 8 + 8 + 8);
    }
    old[8] = static_cast<char>(version);
    std::uint64_t size = old.size();
    for (std::size_t i = 0; i < 8; ++i) {
      old[12 + i] = static_cast<char>(size >> (8 * i));
    }
    reseal(old);
    return old;
  };

  SECTION("version 4 (without the latest unread event's time) is still read") {
    CHECK(tryRestore(older(4)).empty());
  }

  SECTION("version 3 (without --key-ttl) is still read, as taken without it") {
    CHECK(tryRestore(older(3)).empty());
    Scenario other = scenario;
    other.bounds.key_ttl_ms = 30 * 60 * 1000;
    CHECK(tryRestore(older(3), other) ==
          "bad run snapshot: it was taken with --key-ttl none, this run uses 30m");
    CHECK(tryRestore(snap, other) ==
          "bad run snapshot: it was taken with --key-ttl none, this run uses 30m");
  }

  SECTION("version 2 (without the positions) is still read") {
    CHECK(tryRestore(older(2)).empty());
    Scenario other = scenario; // recorded since version 2
    other.options.max_record_bytes = 0;
    CHECK(tryRestore(older(2), other) == "bad run snapshot: it was taken with --max-record-bytes "
                                         "1048576, this run uses none");
  }

  SECTION("version 1 (without the result options) is still read") {
    std::string v1 = older(1);
    CHECK(tryRestore(v1).empty());
    Scenario other = scenario; // not recorded in version 1: not checked
    other.options.max_record_bytes = 0;
    CHECK(tryRestore(v1, other).empty());
    other.options.max_delay_ms = 1000; // recorded since version 1
    CHECK(tryRestore(v1, other) == "bad run snapshot: it was taken with --max-delay 40000ms, "
                                   "this run uses --max-delay 1000ms");
  }

  SECTION("version 3: the byte positions and output lengths it records") {
    RunIoPositions io;
    for (std::uint32_t i = 0; i < inputs->size(); ++i) {
      io.inputs.push_back(inputs->position(i));
      CHECK(io.inputs.back().identity.seekable);
    }
    REQUIRE(io.inputs[0].offset > 0);
    io.outputs = {{"<string>", 1234}, {"dead.jsonl", 56}};
    std::string with;
    snapshotRun(*loop, with, io);
    CHECK(with.size() == snap.size() + 3 * (8 + 8 + 1 + 4 * 8) + (4 + 8 + 8) + (4 + 10 + 8));

    auto restoreWith = [&](std::string_view bytes, RunIoPositions &back) {
      Session fresh(scenario, clock);
      auto in = openInputs(scenario);
      std::string capture;
      OutputSink sink(capture);
      restoreRun(bytes, scenario.rules->schema, fresh.matchers, in->names(),
                 Session::boundTypes(*in), sink, fresh.options, &back);
    };
    RunIoPositions back;
    restoreWith(with, back);
    REQUIRE(back.inputs.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(back.inputs[i].offset == io.inputs[i].offset);
      CHECK(back.inputs[i].line == io.inputs[i].line);
      CHECK(back.inputs[i].identity == io.inputs[i].identity);
    }
    REQUIRE(back.outputs.size() == 2);
    CHECK(back.outputs[1].name == "dead.jsonl");
    CHECK(back.outputs[1].length == 56);
    RunIoPositions none{{InputPosition{}}, {}}; // a snapshot without positions leaves none
    restoreWith(snap, none);
    CHECK(none.inputs.empty());
    restoreWith(older(2), none);
    CHECK(none.inputs.empty());

    // A position whose line is not the input's last record's: the first input's line field.
    // (After the positions: the latest unread event's time, then the checksum.)
    std::size_t positions = with.size() - 8 - 8 - (4 + 3 * 49 + 4 + 20 + 22);
    std::string wrong = with;
    wrong[positions + 4 + 8] = static_cast<char>(wrong[positions + 4 + 8] + 1);
    reseal(wrong);
    CHECK(tryRestore(wrong) ==
          "bad run snapshot: the byte position of input \"" + scenario.inputs[0].path +
              "\" is after line " + std::to_string(io.inputs[0].line + 1) +
              ", its last record was on line " + std::to_string(io.inputs[0].line));
    std::string two = with; // positions for 2 of the 3 inputs
    two.erase(positions + 4 + 2 * 49, 49);
    two[positions] = 2;
    std::uint64_t size = two.size();
    for (std::size_t i = 0; i < 8; ++i) {
      two[12 + i] = static_cast<char>(size >> (8 * i));
    }
    reseal(two);
    CHECK(tryRestore(two) == "bad run snapshot: it has byte positions for 2 of its 3 inputs");
  }

  SECTION("edits that keep a valid checksum") {
    // The pattern list: each name is followed by its matcher's snapshot ("CEPISNAP...").
    auto outerName = [&](const std::string &name) {
      std::string key = name + std::string(8, '\0');
      for (std::size_t at = snap.find("CEPISNAP"); at != std::string::npos;
           at = snap.find("CEPISNAP", at + 1)) {
        if (at >= 8 + name.size() && snap.compare(at - 8 - name.size(), name.size(), name) == 0) {
          return at - 8 - name.size();
        }
      }
      FAIL("no pattern " << name);
      return std::string::npos;
    };
    std::string renamed = snap;
    renamed.replace(outerName("unpaid"), 6, "unpaiX");
    reseal(renamed);
    CHECK(tryRestore(renamed) == "bad run snapshot: pattern `unpaiX` is not one of this run's "
                                 "patterns");
    std::string inner = snap;
    std::size_t at = outerName("unpaid") + 6 + 8; // its matcher's snapshot
    REQUIRE(inner.compare(at, 8, "CEPISNAP") == 0);
    inner[at + 8] = 7; // the interpreter's format version
    reseal(inner);
    CHECK(tryRestore(inner) == "bad run snapshot: pattern `unpaid`: bad interpreter snapshot: "
                               "format version 7 (this build reads 1 to 4)");
    std::string extra = snap;
    extra.insert(extra.size() - 8, "zz");
    std::uint64_t size = extra.size();
    for (std::size_t i = 0; i < 8; ++i) {
      extra[12 + i] = static_cast<char>(size >> (8 * i));
    }
    reseal(extra);
    CHECK(tryRestore(extra) == "bad run snapshot: bytes after the latest unread event's time");
  }

  SECTION("incompatible runs") {
    Scenario other = scenario;
    other.options.max_delay_ms = 1000;
    CHECK(tryRestore(snap, other) == "bad run snapshot: it was taken with --max-delay 40000ms, "
                                     "this run uses --max-delay 1000ms");
    other = scenario;
    other.options.watermark = WatermarkMode::Explicit;
    CHECK(tryRestore(snap, other) == "bad run snapshot: it was taken with --watermark auto, this "
                                     "run uses --watermark explicit");
    other = scenario;
    other.options.time = TimeMode::Processing;
    CHECK(tryRestore(snap, other) ==
          "bad run snapshot: it was taken with event time, this run uses processing time");
    other = scenario;
    other.options.keep_raw = false;
    CHECK(tryRestore(snap, other) ==
          "bad run snapshot: it keeps raw records (--with-events, --max-state-bytes or "
          "--evicted-output), this run does not");
    // Version 2: the options that change results besides the time options.
    other = scenario;
    other.options.time_min = 0;
    other.options.time_max = 1000;
    CHECK(tryRestore(snap, other) ==
          "bad run snapshot: it was taken with --event-time-range "
          "1970-01-01T00:00:00.000Z..2200-01-01T00:00:00.000Z, this run uses "
          "1970-01-01T00:00:00.000Z..1970-01-01T00:00:01.000Z");
    other = scenario;
    other.options.max_record_bytes = 0;
    CHECK(tryRestore(snap, other) == "bad run snapshot: it was taken with --max-record-bytes "
                                     "1048576, this run uses none");
    other = scenario;
    other.bounds.max_runs_per_key = 3;
    CHECK(tryRestore(snap, other) == "bad run snapshot: it was taken with --max-runs-per-key "
                                     "none, this run uses 3");
    other = scenario;
    other.bounds.max_state_bytes = 4096;
    CHECK(tryRestore(snap, other) == "bad run snapshot: it was taken with --max-state-bytes "
                                     "none, this run uses 4096");
    other = scenario;
    other.inputs.pop_back();
    CHECK(tryRestore(snap, other) == "bad run snapshot: it has 3 inputs, this run has 2");
    other = scenario;
    std::swap(other.inputs[0], other.inputs[2]);
    CHECK(tryRestore(snap, other) == "bad run snapshot: input 1 is \"" + scenario.inputs[0].path +
                                         "\" in it, \"" + scenario.inputs[2].path +
                                         "\" in this run");
    other = scenario;
    other.inputs[1].type_name = "";
    CHECK(tryRestore(snap, other) == "bad run snapshot: input \"" + scenario.inputs[1].path +
                                         "\" is bound to type `Payment` in it, to no type in "
                                         "this run");

    // Other rules: a pattern fewer.
    std::string fewer = kSyntheticRules;
    fewer = fewer.substr(0, fewer.find("// One partition;"));
    Rules fewer_rules({dir.write("fewer.cep", fewer)});
    other = scenario;
    other.rules = &fewer_rules;
    CHECK(tryRestore(snap, other) ==
          "bad run snapshot: pattern `quiet_ship` is not one of this run's patterns");

    // A schema whose fields changed: the buffered events no longer fit.
    Schema changed = rules.schema;
    for (EventSchema &type : changed.types) {
      for (FieldSchema &field : type.fields) {
        if (field.name == "order") {
          field.kind = FieldKind::Int;
        }
      }
    }
    CHECK(contains(tryRestore(snap, scenario, &changed), "` changed its type (now int)"));
    Schema renamed_field = rules.schema;
    for (EventSchema &type : renamed_field.types) {
      for (FieldSchema &field : type.fields) {
        if (field.name == "order") {
          field.name = "order_id";
        }
      }
    }
    CHECK(contains(tryRestore(snap, scenario, &renamed_field), "` has no field `order`"));
    Schema added = rules.schema;
    for (EventSchema &type : added.types) {
      type.fields.push_back({"extra", FieldKind::Bool, false});
    }
    CHECK(contains(tryRestore(snap, scenario, &added), "` event without its field `extra`"));
    Schema renamed_type = rules.schema; // Payment stays: an input is bound to it
    for (EventSchema &type : renamed_type.types) {
      type.name += type.name == "Payment" ? "" : "2";
    }
    CHECK(contains(tryRestore(snap, scenario, &renamed_type),
                   "bad run snapshot: buffered event of unknown event type `"));
  }

  SECTION("matchers that are not fresh") {
    Session used(scenario, clock);
    auto in = openInputs(scenario);
    auto first = used.restore(snap, *in);
    try {
      used.restore(snap, *in);
      FAIL("restored into used matchers");
    } catch (const std::runtime_error &e) {
      CHECK(contains(e.what(), "bad run snapshot: pattern `unpaid`: restore needs a fresh "
                               "matcher"));
    }
  }

  SECTION("random edits never crash") {
    Lcg r{99};
    std::size_t restored = 0;
    for (int i = 0; i < 400; ++i) {
      std::string bad = snap;
      std::size_t at = 20 + r.next(bad.size() - 28);
      bad[at] = static_cast<char>(r.next(256));
      reseal(bad);
      std::string error = tryRestore(bad);
      restored += error.empty() ? 1 : 0;
      if (!error.empty()) {
        CHECK(error.rfind("bad run snapshot: ", 0) == 0);
      }
    }
    CHECK(restored < 400);
  }

  SECTION("a failed run cannot be snapshotted") {
    Scenario strict = scenario;
    strict.options.strict = true;
    Session failing(strict, clock);
    auto in = openInputs(strict);
    auto run = failing.start(*in);
    InputRecord record;
    bool going = true;
    for (InputStatus status; going && (status = in->next(record)) != InputStatus::End;) {
      REQUIRE(status != InputStatus::Error);
      going = status == InputStatus::Record ? run->onRecord(record.input, record.line)
                                            : run->onInputEnd(record.input);
    }
    REQUIRE(run->status() == RunStatus::Rejected);
    std::string after;
    CHECK_THROWS_WITH(snapshotRun(*run, after),
                      Catch::StartsWith("cannot snapshot a run that has failed: ") &&
                          Catch::EndsWith("rejected record, stopping (--strict)"));
  }

  SECTION("a stopped run cannot be snapshotted") {
    REQUIRE(feed(*loop, *inputs, clock, INT64_MAX));
    std::string after;
    CHECK_THROWS_WITH(snapshotRun(*loop, after), "cannot snapshot a run that has stopped");
  }
}

TEST_CASE("run snapshot: the reorder buffer lists its events in release order",
          "[snapshot][runtime]") {
  Schema schema;
  EventSchema type;
  type.name = "A";
  type.fields = {{"t", FieldKind::Time, false}};
  type.time_field = 0;
  schema.types.push_back(type);
  ReorderBuffer buffer;
  std::uint64_t seq = 0;
  for (std::int64_t t : {10, 30, 20, 20, 5, 40, 30}) {
    EventRef e(allocateEvent(0, 1, 0));
    e->time = t;
    e->seq = seq++;
    REQUIRE(buffer.push(std::move(e)) == PushResult::Buffered);
  }
  std::vector<std::pair<std::int64_t, std::uint64_t>> listed;
  for (const EventRef &e : buffer.events()) {
    listed.emplace_back(e->time, e->seq);
  }
  std::vector<std::pair<std::int64_t, std::uint64_t>> released;
  buffer.finish();
  for (EventRef e; buffer.pop(e);) {
    released.emplace_back(e->time, e->seq);
  }
  CHECK(listed == released);
  CHECK(listed == std::vector<std::pair<std::int64_t, std::uint64_t>>{
                      {5, 4}, {10, 0}, {20, 2}, {20, 3}, {30, 1}, {30, 6}, {40, 5}});
}

TEST_CASE("run snapshot: watermarks take a restored state", "[snapshot][runtime]") {
  Watermarks marks(3, 0, WatermarkMode::Auto);
  marks.onEvent(0, 100); // 99
  CHECK(marks.combined() == kNoWatermark);
  marks.restore(1, 50, false);
  marks.restore(2, kEndWatermark, true);
  CHECK(marks.combined() == 50);
  CHECK(marks.finished(2));
  CHECK(!marks.finished(1));
  marks.onEvent(1, 200); // 199
  CHECK(marks.combined() == 99);
  marks.restore(0, 10, false); // lower than before: a snapshot may say so
  CHECK(marks.combined() == 10);
  marks.finish(0);
  marks.finish(1);
  CHECK(marks.finished(0));
  CHECK(marks.combined() == kEndWatermark);
}
