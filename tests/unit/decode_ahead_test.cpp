// Decoding on the workers (runtime/engine/decode_ahead.hpp): `run` with worker sets over a file
// decodes blocks of records on as many threads ahead of the reading thread; what it writes
// (records, dead letters with their line numbers, late events, the reports, the counts) must be
// the bytes of one thread, whatever the block size, and a --strict stop must stop at the same
// record. The matcher here writes one record per event and one per timeout, keyed by a string
// field, so the steps' order and every event's arrival number and line show in the output;
// tests/run_golden --workers runs the real engines (one block: the inputs are small).
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/matcher.hpp"
#include "runtime/state/migration.hpp"
#include "temp_file_test.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace cep::runtime;

namespace {

// A temp input file named for this test.
struct TempInput : cep_test::TempFile {
  explicit TempInput(const std::string &content)
      : cep_test::TempFile("cep_decode_ahead", content) {}
};

// E: {k: string, t: time, n: int?}
Schema schema() {
  Schema s;
  EventSchema type;
  type.name = "E";
  type.fields = {
      {"k", FieldKind::String, false}, {"t", FieldKind::Time, false}, {"n", FieldKind::Int, true}};
  type.time_field = 1;
  s.types.push_back(type);
  return s;
}

// Keyed by `k`: a record per event (its key, seq, line, time), and one `delay` ms later.
class KeyedMatcher final : public Matcher {
public:
  explicit KeyedMatcher(std::int64_t delay) : delay_(delay) {}

  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override {
    std::string key(event->slots()[0].s->view());
    out.push_back(record(key, "event", event->time, *event));
    pending_[key].push_back({event->time + delay_, event});
    ++stats_.events;
  }
  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override {
    for (auto &[key, list] : pending_) {
      std::vector<Pending> left;
      for (Pending &p : list) {
        if (p.deadline <= time) {
          MatchOutput o = record(key, "timeout", p.deadline, *p.event);
          o.time_driven = true;
          out.push_back(std::move(o));
          ++stats_.matches;
        } else {
          left.push_back(std::move(p));
        }
      }
      list = std::move(left);
    }
  }
  void finish(std::vector<MatchOutput> &out) override { advanceTime(kEndOfTime - 1, out); }
  std::uint64_t routeHash(const Event &event) const override {
    std::uint64_t h = 1469598103934665603ULL;
    for (char c : event.slots()[0].s->view()) {
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    return h;
  }
  MatcherStats stats() const override { return stats_; }
  std::int64_t nextTimer() const override { return kEndOfTime; }
  void snapshot(std::string &) const override {}
  void restore(std::string_view) override {}
  void exportState(MatcherState &) const override {}
  MigrationReport checkMigration(const MatcherState &) const override { return {}; }
  MigrationReport migrateFrom(const MatcherState &) override { return {}; }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return "keyed"; }
  void drain() override {}
  bool draining() const override { return false; }
  bool drained() const override { return false; }
  std::uint64_t dropState() override { return 0; }

private:
  struct Pending {
    std::int64_t deadline;
    EventRef event;
  };
  static MatchOutput record(const std::string &key, const char *what, std::int64_t at,
                            const Event &e) {
    MatchOutput o;
    o.completion_time = at;
    o.start_time = e.time;
    o.start_seq = e.seq;
    o.completion_seq = e.seq;
    o.events = {{e.time, e.seq}};
    o.json = "{\"k\":\"" + key + "\",\"" + what + "\":" + std::to_string(e.seq) +
             ",\"line\":" + std::to_string(e.line) + ",\"t\":" + std::to_string(e.time) +
             ",\"n\":" + (e.isNull(2) ? std::string("null") : std::to_string(e.slots()[2].i)) + "}";
    return o;
  }
  std::int64_t delay_;
  std::map<std::string, std::vector<Pending>> pending_;
  std::vector<std::uint32_t> types_{0};
  MatcherStats stats_;
};

// 600 records over 7 keys, out of order by up to 5 ms (some beyond --max-delay: late), with
// bad JSON, a missing field, a time out of range, an oversized record, `@watermark` lines and
// a blank line among them.
std::string input() {
  std::string text;
  for (int i = 0; i < 600; ++i) {
    int t = 1000 + i * 3 - (i % 5 == 0 ? 14 : (i % 3) * 2);
    std::string key = "k" + std::to_string(i * 7919 % 7);
    if (i % 97 == 13) {
      text += "{\"k\":\"" + key + "\",\"t\":\n"; // not JSON
    } else if (i % 89 == 5) {
      text += "{\"k\":\"" + key + "\"}\n"; // no time
    } else if (i % 151 == 7) {
      text += "{\"k\":\"" + key + "\",\"t\":-99999999999999999}\n"; // out of range
    } else if (i % 211 == 100) {
      text += "{\"k\":\"" + std::string(300, 'x') + "\",\"t\":" + std::to_string(t) + "}\n";
    } else if (i % 53 == 20) {
      text += "{\"@watermark\":" + std::to_string(t - 20) + "}\n";
    } else if (i % 71 == 3) {
      text += "\n";
    } else {
      text += "{\"k\":\"" + key + "\",\"t\":" + std::to_string(t) +
              (i % 4 == 0 ? std::string() : ",\"n\":" + std::to_string(i)) + "}\n";
    }
  }
  return text;
}

struct Outcome {
  RunResult result;
  std::string out, report, dead, late;
  std::string counts; // the per-input record counts and the matcher's
};

Outcome runWith(const std::string &path, std::uint32_t workers, std::size_t block, bool strict) {
  Schema s = schema();
  std::vector<std::unique_ptr<KeyedMatcher>> owned;
  for (std::uint32_t w = 0; w < workers; ++w) {
    owned.push_back(std::make_unique<KeyedMatcher>(4));
  }
  RunOptions options;
  options.max_delay_ms = 6;
  options.max_record_bytes = 200;
  options.strict = strict;
  options.decode_threads = workers > 1 ? workers : 0;
  options.decode_block = block;
  for (std::uint32_t w = 1; w < workers; ++w) {
    options.worker_sets.push_back({owned[w].get()});
  }
  std::ostringstream report, dead, late;
  options.report = &report;
  options.dead_letter = &dead;
  options.late_output = &late;
  Outcome o;
  RunStats stats;
  {
    OutputSink sink(o.out);
    o.result = run(s, {owned[0].get()}, {{path, ""}}, sink, options, &stats);
  }
  o.report = report.str();
  o.dead = dead.str();
  o.late = late.str();
  const RecordCounts &c = stats.records.inputs.at(0);
  o.counts = std::to_string(c.read) + " read, " + std::to_string(c.accepted) + " accepted, " +
             std::to_string(c.watermarks) + " watermarks; " +
             std::to_string(stats.patterns.at(0).stats.events) + " events, " +
             std::to_string(stats.patterns.at(0).stats.matches) + " matches";
  return o;
}

void requireSame(const Outcome &one, const Outcome &many) {
  REQUIRE(many.result.status == one.result.status);
  REQUIRE(many.result.message == one.result.message);
  REQUIRE(many.out == one.out);
  REQUIRE(many.dead == one.dead);
  REQUIRE(many.late == one.late);
  REQUIRE(many.report == one.report);
  REQUIRE(many.counts == one.counts);
}

} // namespace

TEST_CASE("decode ahead: records, dead letters, late events and counts are one thread's bytes "
          "for every block size and worker count",
          "[threads]") {
  TempInput in(input());
  Outcome one = runWith(in.path(), 1, 2048, false);
  REQUIRE(one.result.status == RunStatus::Ok);
  // The input has every kind of record: the comparison below is not over empty outputs.
  REQUIRE(one.out.find("\"timeout\"") != std::string::npos);
  REQUIRE(one.report.find("longer than --max-record-bytes") != std::string::npos);
  REQUIRE(one.report.find("outside the accepted range") != std::string::npos);
  REQUIRE(one.out.find(",\"n\":null}") != std::string::npos);
  REQUIRE(!one.dead.empty());
  REQUIRE(!one.late.empty());
  for (std::uint32_t workers : {2U, 3U}) {
    for (std::size_t block : {std::size_t{1}, std::size_t{3}, std::size_t{64}, std::size_t{2048}}) {
      INFO("workers " << workers << ", block " << block);
      requireSame(one, runWith(in.path(), workers, block, false));
    }
  }
}

TEST_CASE("decode ahead: --strict stops at the first rejected record as one thread does",
          "[threads]") {
  TempInput in(input());
  Outcome one = runWith(in.path(), 1, 2048, true);
  REQUIRE(one.result.status == RunStatus::Rejected);
  for (std::size_t block : {std::size_t{1}, std::size_t{5}, std::size_t{2048}}) {
    INFO("block " << block);
    requireSame(one, runWith(in.path(), 2, block, true));
  }
}

TEST_CASE("decode ahead: not where decoding needs the clock or without workers", "[threads]") {
  Schema s = schema();
  s.types[0].time_field = -1; // every event's time is its ingestion time
  KeyedMatcher a(4), b(4);
  std::string out;
  OutputSink sink(out);
  RunOptions options;
  options.worker_sets.push_back({&b});
  RunLoop clocked(s, {&a}, {"in"}, {-1}, sink, options);
  REQUIRE_FALSE(clocked.decodeAhead(2));
  Schema timed = schema();
  KeyedMatcher c(4);
  RunLoop alone(timed, {&c}, {"in"}, {-1}, sink, RunOptions{});
  REQUIRE_FALSE(alone.decodeAhead(2));
}
