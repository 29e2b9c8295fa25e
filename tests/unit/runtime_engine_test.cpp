// The run loop (runtime/engine) with a fake Matcher that logs every call: call order, watermark
// batching, inputs, late events, dead letters, strict mode, output order, processing time, the
// --stats table, MatchOutput::before, and the Schema `cep run` builds from a checked program.
#include "cli/run_stats.hpp"
#include "compiler/schema_from_program.hpp"
#include "lang/frontend.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/matcher.hpp"
#include "runtime/state/migration.hpp"
#include "temp_file_test.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace cep::runtime;

namespace {

// A temp input file named for this test.
struct TempFile : cep_test::TempFile {
  explicit TempFile(const std::string &content) : cep_test::TempFile("cep_engine", content) {}
};

// A: {k: string, t: time}; B: {k: string, t: time}; C: {k: string} (ingestion time).
Schema schema() {
  Schema s;
  for (const char *name : {"A", "B"}) {
    EventSchema type;
    type.name = name;
    type.fields = {{"k", FieldKind::String, false}, {"t", FieldKind::Time, false}};
    type.time_field = 1;
    s.types.push_back(type);
  }
  EventSchema c;
  c.name = "C";
  c.fields = {{"k", FieldKind::String, false}};
  s.types.push_back(c);
  return s;
}

std::string eventText(const Schema &s, const EventRef &e) {
  return s.types[e->type].name + std::string(e->slots()[0].s->view()) + "@" +
         std::to_string(e->time);
}

// Logs every call as text to a log shared by all fakes. Hooks decide what each call emits.
class FakeMatcher : public Matcher {
public:
  // The driver stamps each output with the fake's operator id (its place in the RunLoop's list).
  FakeMatcher(std::string name, std::vector<std::uint32_t> types, std::vector<std::string> &log,
              const Schema &schema)
      : name_(std::move(name)), types_(std::move(types)), log_(&log), schema_(&schema) {}

  std::int64_t next_timer = kEndOfTime; // what nextTimer() says
  std::function<void(std::int64_t, std::vector<MatchOutput> &)> on_advance;
  std::function<void(const EventRef &, std::vector<MatchOutput> &)> on_event;
  std::function<void(std::vector<MatchOutput> &)> on_finish;

  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override {
    log_->push_back(name_ + ".advance(" + std::to_string(time) + ")");
    if (on_advance) {
      on_advance(time, out);
    }
  }
  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override {
    ++stats_.events;
    log_->push_back(name_ + ".event(" + eventText(*schema_, event) + ")");
    if (on_event) {
      on_event(event, out);
    }
  }
  void finish(std::vector<MatchOutput> &out) override {
    log_->push_back(name_ + ".finish");
    if (on_finish) {
      on_finish(out);
    }
  }
  MatcherStats stats() const override { return stats_; }
  std::int64_t nextTimer() const override { return next_timer; }
  // Lazy time advance (Matcher::advanceTo): the driver calls advance only from `due` on.
  void due(std::int64_t t) { setDue(t); }
  std::int64_t recorded() const { return deferredTime(); }
  bool recordedWatermark() const { return deferredWatermark(); }
  void snapshot(std::string &) const override {}
  void restore(std::string_view) override {}
  // The run loop never moves states between versions: these are never called here.
  void exportState(MatcherState &) const override {}
  MigrationReport checkMigration(const MatcherState &) const override { return {}; }
  MigrationReport migrateFrom(const MatcherState &) override { return {}; }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return name_; }
  void drain() override { draining_ = true; }
  bool draining() const override { return draining_; }
  bool drained() const override { return draining_; } // a fake holds no state
  std::uint64_t dropState() override { return 0; }

  // An event-driven output completing at `event`.
  MatchOutput completion(const EventRef &event, std::string json) const {
    MatchOutput o;
    o.completion_time = event->time;
    o.completion_seq = event->seq;
    o.start_time = event->time;
    o.start_seq = event->seq;
    o.events = {{event->time, event->seq}};
    o.json = std::move(json);
    return o;
  }
  // A time-driven output (timeout) at `deadline`.
  MatchOutput timeout(std::int64_t deadline, std::int64_t start, std::string json) const {
    MatchOutput o;
    o.completion_time = deadline;
    o.time_driven = true;
    o.start_time = start;
    o.json = std::move(json);
    return o;
  }

  MatcherStats stats_;
  // The sink the driver hands for the call (Matcher::setDirectOutput), null when none.
  OutputSink *sink() const { return directOutput(); }

private:
  std::string name_;
  std::vector<std::uint32_t> types_;
  std::vector<std::string> *log_;
  const Schema *schema_;
  bool draining_ = false;
};

struct Run {
  RunResult result;
  RunStats stats;
  std::string out;
  std::string report, dead, late;
};

Run runOn(const Schema &s, const std::vector<Matcher *> &matchers,
          const std::vector<InputSpec> &inputs, RunOptions options = {}) {
  Run r;
  std::ostringstream report, dead, late;
  options.report = &report;
  options.dead_letter = &dead;
  options.late_output = &late;
  {
    OutputSink sink(r.out);
    r.result = run(s, matchers, inputs, sink, options, &r.stats);
  }
  r.report = report.str();
  r.dead = dead.str();
  r.late = late.str();
  return r;
}

std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    result.push_back(line);
  }
  return result;
}

using Log = std::vector<std::string>;

} // namespace

TEST_CASE("engine: time advances before each new time, events in (time, arrival) order",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0, 1}, log, s);
  // Out of order by up to 2 ms; max delay 2 ms: watermark = max - 3.
  TempFile in(R"({"@type":"A","k":"a1","t":10})"
              "\n"
              R"({"@type":"B","k":"b1","t":8})"
              "\n"
              R"({"@type":"A","k":"a2","t":10})"
              "\n"
              R"({"@type":"A","k":"a3","t":14})"
              "\n"
              R"({"@type":"B","k":"b2","t":12})"
              "\n");
  RunOptions options;
  options.max_delay_ms = 2;
  Run r = runOn(s, {&p}, {{in.path(), ""}}, options);
  CHECK(r.result.status == RunStatus::Ok);
  CHECK(log == Log{
                   // a1@10: W=7, nothing ready; b1@8: W stays 7; a2@10: W 7; a3@14: W=11
                   "p.advance(7)",
                   "p.advance(8)",
                   "p.event(Bb1@8)",
                   "p.advance(10)",
                   "p.event(Aa1@10)",
                   "p.event(Aa2@10)",
                   "p.advance(11)",
                   // b2@12: W stays 11; end of input: release all, then finish
                   "p.advance(12)",
                   "p.event(Bb2@12)",
                   "p.advance(14)",
                   "p.event(Aa3@14)",
                   "p.finish",
               });
  CHECK(r.stats.records.inputs[0].read == 5);
  CHECK(r.stats.records.inputs[0].accepted == 5);
}

TEST_CASE("engine: the watermark after a batch equal to its last time still advances time",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  TempFile in(R"({"@type":"A","k":"a","t":5})"
              "\n"
              R"({"@watermark":5})"
              "\n"
              R"({"@watermark":5})"
              "\n"
              R"({"@watermark":4})"
              "\n");
  RunOptions options;
  options.watermark = WatermarkMode::Explicit;
  Run r = runOn(s, {&p}, {{in.path(), ""}}, options);
  CHECK(r.result.status == RunStatus::Ok);
  // Deadlines <= 5 set by the events of time 5 fire at W = 5; a repeated or older watermark
  // changes nothing.
  CHECK(log == Log{"p.advance(5)", "p.event(Aa@5)", "p.advance(5)", "p.finish"});
  CHECK(r.stats.records.inputs[0].watermarks == 3);
}

TEST_CASE("engine: an operator with nothing due is not called, its time is recorded",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0, 1}, log, s);
  FakeMatcher q("q", {0, 1}, log, s); // keeps no due time: called at every step, as before
  p.due(11);
  TempFile in(R"({"@type":"A","k":"a1","t":8})"
              "\n"
              R"({"@type":"A","k":"a2","t":10})"
              "\n"
              R"({"@watermark":10})"
              "\n"
              R"({"@type":"B","k":"b1","t":12})"
              "\n"
              R"({"@watermark":12})"
              "\n");
  RunOptions options;
  options.watermark = WatermarkMode::Explicit;
  p.on_advance = [&](std::int64_t, std::vector<MatchOutput> &) { p.due(kEndOfTime); };
  Run r = runOn(s, {&p, &q}, {{in.path(), ""}}, options);
  CHECK(r.result.status == RunStatus::Ok);
  CHECK(log == Log{"q.advance(8)", "p.event(Aa1@8)", "q.event(Aa1@8)", "q.advance(10)",
                   "p.event(Aa2@10)", "q.event(Aa2@10)", "q.advance(10)", "p.advance(12)",
                   "q.advance(12)", "p.event(Bb1@12)", "q.event(Bb1@12)", "q.advance(12)",
                   "p.finish", "q.finish"});
  // The after-batch watermark 12 came with nothing due any more: recorded, not called.
  CHECK(p.recorded() == 12);
  CHECK(p.recordedWatermark());
}

TEST_CASE("engine: a step with no operator due calls none and records its time on every one",
          "[runtime][engine]") {
  // Driver::step's inline path: no operator due, nothing called, the time (and whether it was
  // the after-batch watermark) recorded on each; one operator due, every one goes through the
  // full step (p's time recorded, q called).
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0, 1}, log, s);
  FakeMatcher q("q", {0, 1}, log, s);
  p.due(30);
  q.due(11);
  TempFile in(R"({"@type":"A","k":"a1","t":8})"
              "\n"
              R"({"@watermark":10})"
              "\n"
              R"({"@type":"B","k":"b1","t":12})"
              "\n");
  RunOptions options;
  options.watermark = WatermarkMode::Explicit;
  // Each one's recorded time at each of its events, times 10, plus 1 for the watermark.
  std::vector<std::int64_t> p_seen, q_seen;
  p.on_event = [&](const EventRef &, std::vector<MatchOutput> &) {
    p_seen.push_back(p.recorded() * 10 + (p.recordedWatermark() ? 1 : 0));
  };
  q.on_event = [&](const EventRef &, std::vector<MatchOutput> &) {
    q_seen.push_back(q.recorded() * 10 + (q.recordedWatermark() ? 1 : 0));
  };
  q.on_advance = [&](std::int64_t, std::vector<MatchOutput> &) { q.due(kEndOfTime); };
  Run r = runOn(s, {&p, &q}, {{in.path(), ""}}, options);
  CHECK(r.result.status == RunStatus::Ok);
  // Steps 8 and 10 (the watermark): nobody due. Step 12: q due, called; p only recorded.
  CHECK(log == Log{"p.event(Aa1@8)", "q.event(Aa1@8)", "q.advance(12)", "p.event(Bb1@12)",
                   "q.event(Bb1@12)", "p.finish", "q.finish"});
  CHECK(p_seen == std::vector<std::int64_t>{80, 120});
  // q's record stays where the last step that did not call it left it: the watermark 10.
  CHECK(q_seen == std::vector<std::int64_t>{80, 101});
}

TEST_CASE("engine: explicit watermarks hold events until a watermark line or the end",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  TempFile in(R"({"@type":"A","k":"a1","t":100})"
              "\n"
              R"({"@type":"A","k":"a2","t":300})"
              "\n"
              R"({"@watermark":200})"
              "\n"
              R"({"@type":"A","k":"late","t":150})"
              "\n"
              R"({"@type":"A","k":"a3","t":250})"
              "\n");
  RunOptions options;
  options.watermark = WatermarkMode::Explicit;
  Run r = runOn(s, {&p}, {{in.path(), ""}}, options);
  CHECK(r.result.status == RunStatus::Ok);
  CHECK(log == Log{"p.advance(100)", "p.event(Aa1@100)", "p.advance(200)", "p.advance(250)",
                   "p.event(Aa3@250)", "p.advance(300)", "p.event(Aa2@300)", "p.finish"});
  CHECK(r.late == "{\"@type\":\"A\",\"k\":\"late\",\"t\":150}\n");
  CHECK(r.stats.records.inputs[0].late == 1);
  CHECK(r.stats.records.inputs[0].accepted == 3);
}

TEST_CASE("engine: auto watermarks also take explicit lines", "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  TempFile in(R"({"@type":"A","k":"a1","t":100})"
              "\n"
              R"({"@watermark":"1970-01-01T00:00:00.150Z"})"
              "\n"
              R"({"@type":"A","k":"a2","t":140})"
              "\n");
  RunOptions options;
  options.max_delay_ms = 1000;
  Run r = runOn(s, {&p}, {{in.path(), ""}}, options);
  // The first event sets W = 100 - 1000 - 1 (no event is ready); the line raises it to 150.
  CHECK(log ==
        Log{"p.advance(-901)", "p.advance(100)", "p.event(Aa1@100)", "p.advance(150)", "p.finish"});
  CHECK(r.late == "{\"@type\":\"A\",\"k\":\"a2\",\"t\":140}\n");
}

TEST_CASE("engine: events go only to the matchers whose stream has their type",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  FakeMatcher q("q", {1}, log, s);
  TempFile in(R"({"@type":"A","k":"a","t":1})"
              "\n"
              R"({"@type":"B","k":"b","t":2})"
              "\n");
  RunOptions options;
  options.watermark = WatermarkMode::Explicit;
  Run r = runOn(s, {&p, &q}, {{in.path(), ""}}, options);
  CHECK(log == Log{"p.advance(1)", "q.advance(1)", "p.event(Aa@1)", "p.advance(2)", "q.advance(2)",
                   "q.event(Bb@2)", "p.finish", "q.finish"});
  CHECK(p.stats_.events == 1);
  CHECK(q.stats_.events == 1);
}

TEST_CASE("engine: several inputs are read round-robin, the watermark is their minimum",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0, 1}, log, s);
  std::vector<std::uint64_t> seqs;
  p.on_event = [&](const EventRef &e, std::vector<MatchOutput> &) { seqs.push_back(e->seq); };
  // Input 0 is fast (times 10, 20, 30), input 1 slow (1, 2) and bound to type B (no @type).
  TempFile fast(R"({"@type":"A","k":"f1","t":10})"
                "\n"
                R"({"@type":"A","k":"f2","t":20})"
                "\n"
                R"({"@type":"A","k":"f3","t":30})"
                "\n");
  TempFile slow(R"({"k":"s1","t":1})"
                "\n"
                R"({"k":"s2","t":2})"
                "\n");
  Run r = runOn(s, {&p}, {{fast.path(), ""}, {slow.path(), "B"}});
  CHECK(r.result.status == RunStatus::Ok);
  // Arrival: f1 s1 f2 s2 f3. W = min(f, s) - 1: none until s1 (input 1 has no watermark yet);
  // after s1: min(9, 0) = 0; after s2: 1; when the slow input ends, W = 29; at the end, +inf.
  CHECK(log == Log{"p.advance(0)", "p.advance(1)", "p.event(Bs1@1)", "p.advance(1)", "p.advance(2)",
                   "p.event(Bs2@2)", "p.advance(10)", "p.event(Af1@10)", "p.advance(20)",
                   "p.event(Af2@20)", "p.advance(29)", "p.advance(30)", "p.event(Af3@30)",
                   "p.finish"});
  CHECK(seqs == std::vector<std::uint64_t>{1, 3, 0, 2, 4});
  REQUIRE(r.stats.records.inputs.size() == 2);
  CHECK(r.stats.records.inputs[0].accepted == 3);
  CHECK(r.stats.records.inputs[1].accepted == 2);
}

TEST_CASE("engine: rejected records go to the dead letters and the run goes on",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  TempFile in(R"({"@type":"A","k":"a1","t":1})"
              "\n"
              "not json\n"
              R"({"@type":"Nope","k":"x","t":2})"
              "\n"
              R"({"@type":"A","t":3})"
              "\n"
              R"({"@type":"A","k":"a2","t":4})"
              "\n");
  Run r = runOn(s, {&p}, {{in.path(), ""}});
  CHECK(r.result.status == RunStatus::Ok);
  CHECK(std::count(log.begin(), log.end(), "p.event(Aa1@1)") == 1);
  CHECK(std::count(log.begin(), log.end(), "p.event(Aa2@4)") == 1);
  CHECK(log.back() == "p.finish");
  std::vector<std::string> dead = lines(r.dead);
  REQUIRE(dead.size() == 3);
  CHECK(dead[0].find("\"line\":2,") != std::string::npos);
  CHECK(dead[1].find("\"line\":3,") != std::string::npos);
  CHECK(dead[2].find("\"line\":4,") != std::string::npos);
  CHECK(lines(r.report).size() == 3);
  CHECK(r.report.rfind(in.path() + ":2: rejected: ", 0) == 0);
  CHECK(r.stats.records.inputs[0].rejected == 3);
  CHECK(r.stats.records.inputs[0].accepted == 2);
}

TEST_CASE("engine: strict mode stops at the first rejected record", "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  p.on_event = [&](const EventRef &e, std::vector<MatchOutput> &out) {
    out.push_back(p.completion(e, "match " + eventText(s, e)));
  };
  TempFile in(R"({"@type":"A","k":"a1","t":1})"
              "\n"
              R"({"@type":"A","k":"a2","t":5})"
              "\n"
              "{oops\n"
              R"({"@type":"A","k":"a3","t":9})"
              "\n");
  RunOptions options;
  options.strict = true;
  Run r = runOn(s, {&p}, {{in.path(), ""}}, options);
  CHECK(r.result.status == RunStatus::Rejected);
  CHECK(r.result.message == in.path() + ":3: rejected record, stopping (--strict)");
  // What was released before the bad record is written; nothing is finished after it.
  CHECK(log == Log{"p.advance(0)", "p.advance(1)", "p.event(Aa1@1)", "p.advance(4)"});
  CHECK(r.out == "match Aa1@1\n");
  CHECK(lines(r.dead).size() == 1);
  CHECK(r.stats.records.inputs[0].read == 3);
}

TEST_CASE("engine: an input that cannot be read stops the run", "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  Run r = runOn(s, {&p}, {{"/nonexistent/cep/events.jsonl", ""}});
  CHECK(r.result.status == RunStatus::InputError);
  CHECK(r.result.message.find("cannot open \"/nonexistent/cep/events.jsonl\"") == 0);
  CHECK(log.empty());
}

TEST_CASE("engine: outputs of each step are sorted across matchers", "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  FakeMatcher q("q", {0}, log, s);
  // Both emit timeouts out of order when time advances past 100, and a completion per event.
  p.on_advance = [&](std::int64_t t, std::vector<MatchOutput> &out) {
    if (t == 100) {
      out.push_back(p.timeout(90, 5, "p timeout 90"));
      out.push_back(p.timeout(50, 7, "p timeout 50 start 7"));
      out.push_back(p.timeout(50, 3, "p timeout 50 start 3"));
    }
  };
  q.on_advance = [&](std::int64_t t, std::vector<MatchOutput> &out) {
    if (t == 100) {
      out.push_back(q.timeout(50, 1, "q timeout 50"));
      out.push_back(q.timeout(70, 1, "q timeout 70"));
    }
  };
  q.on_event = [&](const EventRef &e, std::vector<MatchOutput> &out) {
    out.push_back(q.completion(e, "q " + eventText(s, e)));
  };
  p.on_event = [&](const EventRef &e, std::vector<MatchOutput> &out) {
    out.push_back(p.completion(e, "p " + eventText(s, e)));
  };
  p.on_finish = [&](std::vector<MatchOutput> &out) {
    MatchOutput end = p.timeout(kEndOfTime, 0, R"({"p":"at the end"})");
    out.push_back(end);
  };
  TempFile in(R"({"@type":"A","k":"x","t":100})"
              "\n"
              R"({"@type":"A","k":"y","t":100})"
              "\n");
  Run r = runOn(s, {&p, &q}, {{in.path(), ""}});
  CHECK(lines(r.out) == std::vector<std::string>{"p timeout 50 start 3", "p timeout 50 start 7",
                                                 "q timeout 50", "q timeout 70", "p timeout 90",
                                                 "p Ax@100", "q Ax@100", "p Ay@100", "q Ay@100",
                                                 R"({"p":"at the end","@at_end":true})"});
  CHECK(r.stats.at_end_fired == 1);
  CHECK(r.stats.at_end_dropped == 0);

  // --at-end drop: what finish() settles is counted and left out; the rest is the same.
  log.clear();
  RunOptions drop;
  drop.at_end = AtEnd::Drop;
  Run d = runOn(s, {&p, &q}, {{in.path(), ""}}, drop);
  CHECK(lines(d.out) == std::vector<std::string>{"p timeout 50 start 3", "p timeout 50 start 7",
                                                 "q timeout 50", "q timeout 70", "p timeout 90",
                                                 "p Ax@100", "q Ax@100", "p Ay@100", "q Ay@100"});
  CHECK(d.stats.at_end_fired == 0);
  CHECK(d.stats.at_end_dropped == 1);
}

TEST_CASE("engine: records written directly at the end are marked @at_end and counted",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  bool wrote_directly = false;
  // What an aggregate does at the end: its records into the sink handed to it, in place, when
  // there is one; as MatchOutputs otherwise.
  p.on_finish = [&](std::vector<MatchOutput> &out) {
    for (const char *json : {R"({"w":1})", R"({"w":2,"v":[1]})"}) {
      if (OutputSink *sink = p.sink()) {
        sink->beginLine() += json;
        sink->endLine();
        wrote_directly = true;
      } else {
        out.push_back(p.timeout(kEndOfTime, 0, json));
      }
    }
  };
  TempFile in(R"({"@type":"A","k":"x","t":100})"
              "\n");
  const std::vector<std::string> want = {R"({"w":1,"@at_end":true})",
                                         R"({"w":2,"v":[1],"@at_end":true})"};
  Run r = runOn(s, {&p}, {{in.path(), ""}});
  CHECK(wrote_directly); // one operator: the sink is handed to it
  CHECK(lines(r.out) == want);
  CHECK(r.stats.at_end_fired == 2);

  // Beside another operator, or with --at-end drop, no sink: the same through MatchOutputs.
  wrote_directly = false;
  FakeMatcher q("q", {0}, log, s);
  Run two = runOn(s, {&p, &q}, {{in.path(), ""}});
  CHECK_FALSE(wrote_directly);
  CHECK(lines(two.out) == want);
  CHECK(two.stats.at_end_fired == 2);
  RunOptions drop;
  drop.at_end = AtEnd::Drop;
  Run dropped = runOn(s, {&p}, {{in.path(), ""}}, drop);
  CHECK_FALSE(wrote_directly);
  CHECK(dropped.out.empty());
  CHECK(dropped.stats.at_end_dropped == 2);
}

TEST_CASE("engine: processing time matches in arrival order at the clock's time",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0, 2}, log, s);
  std::vector<std::int64_t> ticks{1000, 1005, 1003, 1010};
  std::size_t tick = 0;
  RunOptions options;
  options.time = TimeMode::Processing;
  options.clock = [&] { return ticks[std::min(tick++, ticks.size() - 1)]; };
  TempFile in(R"({"@type":"A","k":"a1","t":99999})"
              "\n"
              R"({"@type":"C","k":"c1"})"
              "\n"
              R"({"@watermark":5000})"
              "\n"
              R"({"@type":"A","k":"a2","t":1})"
              "\n");
  Run r = runOn(s, {&p}, {{in.path(), ""}}, options);
  CHECK(r.result.status == RunStatus::Ok);
  // The clock never goes back (1003 reads as 1005); the record's own time is ignored; watermark
  // lines do nothing; nothing is late.
  CHECK(log == Log{"p.advance(1000)", "p.event(Aa1@1000)", "p.advance(1000)", "p.advance(1005)",
                   "p.event(Cc1@1005)", "p.advance(1005)", "p.advance(1010)", "p.event(Aa2@1010)",
                   "p.advance(1010)", "p.finish"});
  CHECK(r.stats.records.inputs[0].late == 0);
  CHECK(r.stats.records.inputs[0].watermarks == 1);
}

TEST_CASE("engine: events without a time field take their ingestion time", "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {2}, log, s);
  RunOptions options;
  options.clock = [] { return std::int64_t{42}; };
  TempFile in(R"({"@type":"C","k":"c1"})"
              "\n");
  Run r = runOn(s, {&p}, {{in.path(), ""}}, options);
  CHECK(log == Log{"p.advance(41)", "p.advance(42)", "p.event(Cc1@42)", "p.finish"});
}

TEST_CASE("engine: a RunLoop fed by hand, finish() only once", "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  std::string out;
  OutputSink sink(out);
  RunOptions options;
  RunLoop loop(s, {&p}, {"in"}, {-1}, sink, options);
  std::string text = R"({"@type":"A","k":"a","t":7})";
  text.append(kLinePadding, '\0');
  Line line{std::string_view(text.data(), text.size() - kLinePadding), text.size(), 1};
  CHECK(loop.onRecord(0, line));
  CHECK(loop.onInputEnd(0));
  CHECK(loop.finish());
  CHECK(loop.finish());
  CHECK(log == Log{"p.advance(6)", "p.advance(7)", "p.event(Aa@7)", "p.finish"});
}

TEST_CASE("engine: the output sink reports what it cannot write", "[runtime][engine]") {
  std::string error;
  CHECK(OutputSink::open("/nonexistent/cep/out.jsonl", error) == nullptr);
  CHECK(error.rfind("cannot open \"/nonexistent/cep/out.jsonl\" for writing: ", 0) == 0);
  if (std::filesystem::exists("/dev/full")) {
    auto sink = OutputSink::open("/dev/full", error);
    REQUIRE(sink != nullptr);
    sink->writeLine("x");
    CHECK_FALSE(sink->flush());
    CHECK(sink->failed());
    CHECK(sink->error() == "cannot write \"/dev/full\": No space left on device; it ends after 0 "
                           "whole records (0 bytes)");
  }
  TempFile file("");
  {
    auto sink = OutputSink::open(file.path(), error);
    REQUIRE(sink != nullptr);
    sink->writeLine("a");
    sink->writeLine("b");
  } // flushed by the destructor
  std::ifstream in(file.path());
  std::stringstream content;
  content << in.rdbuf();
  CHECK(content.str() == "a\nb\n");
}

TEST_CASE("engine: the output sink writes whole records only", "[runtime][engine]") {
  std::string captured;
  OutputSink sink(captured);
  SinkStream stream(sink);
  stream << "{\"a\":" << 1; // a record written in parts (as Rejects::late does)
  CHECK(sink.flush());
  CHECK(captured.empty()); // not complete yet
  stream << "}\n{\"b\":2}\n{\"c\"";
  CHECK(sink.flush());
  CHECK(captured == "{\"a\":1}\n{\"b\":2}\n");
  CHECK(sink.records() == 2);
  CHECK(sink.bytes() == captured.size());
  stream << ":3}\n";
  sink.flush();
  CHECK(captured == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
  CHECK(sink.records() == 3);
}

TEST_CASE("engine: a stop signal ends the run where it is, without finishing it",
          "[runtime][engine]") {
  Schema s = schema();
  Log log;
  FakeMatcher p("p", {0}, log, s);
  p.on_event = [&](const EventRef &e, std::vector<MatchOutput> &out) {
    out.push_back(p.completion(e, "{\"m\":\"" + eventText(s, e) + "\"}"));
    if (e->time == 20) {
      requestStop(SIGTERM); // as the handler does when the signal comes
    }
  };
  p.on_finish = [&](std::vector<MatchOutput> &out) {
    out.push_back(p.timeout(1000, 0, "{\"invented\":true}"));
  };
  TempFile in(R"({"@type":"A","k":"a","t":10})"
              "\n"
              R"({"@type":"A","k":"b","t":20})"
              "\n"
              R"({"@type":"A","k":"c","t":30})"
              "\n"
              R"({"@type":"A","k":"d","t":40})"
              "\n");
  Run r = runOn(s, {&p}, {{in.path(), ""}}); // written in blocks: the stop flushes them
  requestStop(0);
  CHECK(r.result.status == RunStatus::Interrupted);
  CHECK(r.result.message == "interrupted by SIGTERM");
  // a and b were matched (b released by c's watermark); d was never read; nothing finished.
  CHECK(r.out == "{\"m\":\"Aa@10\"}\n{\"m\":\"Ab@20\"}\n");
  CHECK(std::find(log.begin(), log.end(), "p.finish") == log.end());
  CHECK(r.stats.records.inputs[0].read == 3);
}

TEST_CASE("engine: the --stats table", "[runtime][engine]") {
  RunStats stats;
  stats.input_names = {"events.jsonl", "more.jsonl"};
  stats.records.inputs.resize(2);
  stats.records.inputs[0] = {1000, 990, 7, 3, 0};
  stats.records.inputs[1] = {5, 4, 0, 0, 1};
  MatcherStats a;
  a.events = 994;
  a.matches = 12;
  a.peak_runs = 30;
  a.peak_keys = 20;
  a.peak_bound_events = 45;
  a.peak_state_bytes = 4096;
  MatcherStats b;
  b.events = 10;
  b.timeouts = 2;
  b.peak_runs = 1;
  stats.patterns = {{"velocity", a}, {"unpaid", b}};
  stats.wall_seconds = 0.5;
  CHECK(cep::cli::formatRunStats(stats, false) ==
        "input         read  accepted  rejected  late  watermarks\n"
        "events.jsonl  1000       990         7     3           0\n"
        "more.jsonl       5         4         0     0           1\n"
        "total         1005       994         7     3           1\n"
        "\n"
        "pattern   events  matches  timeouts  peak runs  peak keys  peak bound  peak bytes\n"
        "velocity     994       12         0         30         20          45        4096\n"
        "unpaid        10        0         2          1          0           0           0\n"
        "total       1004       12         2         31         20          45        4096\n");
  CHECK(cep::cli::formatRunStats(stats) ==
        cep::cli::formatRunStats(stats, false) + "\nwall time 0.500 s, 2010 events/s\n");
}

TEST_CASE("engine: MatchOutput::before is docs/semantics.md §6", "[runtime][engine]") {
  auto make = [](std::int64_t time, bool time_driven, std::uint64_t seq, std::uint32_t op,
                 std::int64_t start, std::uint64_t start_seq,
                 std::vector<cep::runtime::EventPlace> events) {
    MatchOutput o;
    o.completion_time = time;
    o.time_driven = time_driven;
    o.completion_seq = seq;
    o.operator_id = op;
    o.start_time = start;
    o.start_seq = start_seq;
    o.events = std::move(events);
    return o;
  };
  // In the expected order.
  std::vector<MatchOutput> outputs{
      make(10, true, 0, 1, 0, 0, {}),                        // timeout at 10, pattern 1
      make(10, true, 0, 2, 0, 0, {}),                        // pattern 2
      make(10, false, 3, 2, 0, 0, {}),                       // event completion at 10, arrival 3
      make(10, false, 5, 0, 1, 0, {}),                       // arrival 5 beats pattern 0
      make(10, false, 5, 1, 2, 9, {}),                       // pattern 1, start 2
      make(10, false, 5, 1, 3, 1, {}),                       // start 3 (time before arrival)
      make(10, false, 5, 1, 3, 2, {{3, 2}, {4, 4}}),         // start arrival 2: {a1, b1}
      make(10, false, 5, 1, 3, 2, {{3, 2}, {4, 4}, {5, 5}}), // {a1, b1, b2}
      make(10, false, 5, 1, 3, 2, {{3, 2}, {5, 5}}),         // {a1, b2}
      // matched events by place, not arrival: b3 (time 6) arrived before b2 but comes after it
      make(10, false, 5, 1, 3, 2, {{3, 2}, {6, 1}}), make(11, true, 0, 0, 0, 0, {}), // a later time
      make(kEndOfTime, true, 0, 0, 0, 0, {}), // end of input last
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    CHECK_FALSE(MatchOutput::before(outputs[i], outputs[i]));
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      INFO(i << " vs " << j);
      CHECK(MatchOutput::before(outputs[i], outputs[j]));
      CHECK_FALSE(MatchOutput::before(outputs[j], outputs[i]));
    }
  }
}

TEST_CASE("engine: the schema and pattern streams of a checked program", "[runtime][engine]") {
  TempFile rules("event Pay { card: string, amount: float, note: string?, ok: bool, n: int,\n"
                 "            wait: duration, ts: time }\n"
                 "event Ping { id: string }\n"
                 "event Other { x: int }\n"
                 "pattern p { a: Ping() -> not Pay() -> b: Ping() }\n"
                 "emit P { id: a.id }\n"
                 "pattern q { c: Pay() }\n"
                 "emit Q { card: c.card }\n");
  std::string path = rules.path().substr(0, rules.path().size() - 6) + ".cep";
  std::filesystem::rename(rules.path(), path);
  cep::lang::SourceManager sources;
  cep::lang::DiagnosticEngine diags(sources);
  cep::lang::Frontend frontend = cep::lang::loadProgram({path}, sources, diags);
  std::filesystem::remove(path);
  REQUIRE(frontend.program);
  Schema schema = cep::compiler::schemaFromProgram(*frontend.program);
  REQUIRE(schema.types.size() == 3);
  const EventSchema &pay = schema.types[0];
  CHECK(pay.name == "Pay");
  CHECK(pay.time_field == 6);
  std::vector<FieldKind> kinds;
  for (const FieldSchema &field : pay.fields) {
    kinds.push_back(field.kind);
  }
  CHECK(kinds == std::vector<FieldKind>{FieldKind::String, FieldKind::Float, FieldKind::String,
                                        FieldKind::Bool, FieldKind::Int, FieldKind::Duration,
                                        FieldKind::Time});
  CHECK(pay.fields[2].name == "note");
  CHECK(pay.fields[2].nullable);
  CHECK_FALSE(pay.fields[0].nullable);
  CHECK(schema.types[1].time_field == -1);
  CHECK(schema.typeIndex("Other") == 2);
  // A negated step's type is part of the stream; each type once, ascending.
  CHECK(cep::compiler::patternEventTypes(*frontend.program, 0) == std::vector<std::uint32_t>{0, 1});
  CHECK(cep::compiler::patternEventTypes(*frontend.program, 1) == std::vector<std::uint32_t>{0});
}
