// The pieces of the run loop (runtime/engine): the operator set with stable ids, the driver's
// operator-id stamping, ingestion growing its schema, and the read loop that waits on several
// inputs, a wake fd and the wall-clock timers at once (serve_loop.hpp). Every wait is bounded:
// a watchdog thread writes the wake fd after kWatchdogMs, and the callback then stops the loop.
#include "runtime/engine/driver.hpp"
#include "runtime/engine/ingest.hpp"
#include "runtime/engine/operator_set.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/engine/serve_loop.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/io/record_source.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/matcher.hpp"
#include "runtime/state/migration.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace cep::runtime;

namespace {

constexpr int kWatchdogMs = 10000;

// A: {k: string, t: time}.
Schema schemaA() {
  Schema s;
  EventSchema a;
  a.name = "A";
  a.fields = {{"k", FieldKind::String, false}, {"t", FieldKind::Time, false}};
  a.time_field = 1;
  s.types.push_back(a);
  return s;
}

// Emits one output per event ("<name>:<k>") at the event's time; optionally a timer.
class Echo : public Matcher {
public:
  Echo(std::string name, std::vector<std::uint32_t> types)
      : name_(std::move(name)), types_(std::move(types)) {}

  std::function<void(std::int64_t, std::vector<MatchOutput> &)> on_advance;
  // advanceWatermark(W) (an aggregate's "the watermark is W"); unset: advanceTime(W), as Matcher.
  std::function<void(std::int64_t)> on_watermark;
  std::function<void(const EventRef &)> on_event;
  std::int64_t next_timer = kEndOfTime;
  std::vector<std::string> log;

  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override {
    if (on_advance) {
      on_advance(time, out);
    }
  }
  void advanceWatermark(std::int64_t watermark, std::vector<MatchOutput> &out) override {
    if (on_watermark) {
      on_watermark(watermark);
    }
    advanceTime(watermark, out);
  }
  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override {
    MatchOutput o;
    o.completion_time = event->time;
    o.completion_seq = event->seq;
    o.json = name_ + ":" + std::string(event->slots()[0].s->view());
    out.push_back(o);
    log.push_back("event");
    if (on_event) {
      on_event(event);
    }
  }
  void finish(std::vector<MatchOutput> &) override { log.push_back("finish"); }
  MatcherStats stats() const override { return {}; }
  std::int64_t nextTimer() const override { return next_timer; }
  void snapshot(std::string &) const override {}
  void restore(std::string_view) override {}
  void exportState(MatcherState &) const override {}
  MigrationReport checkMigration(const MatcherState &) const override { return {}; }
  MigrationReport migrateFrom(const MatcherState &) override { return {}; }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return name_; }
  void drain() override { draining_ = true; }
  bool draining() const override { return draining_; }
  bool drained() const override { return draining_; } // a fake holds no state
  std::uint64_t dropState() override { return 0; }

private:
  std::string name_;
  std::vector<std::uint32_t> types_;
  bool draining_ = false;
};

// One record of type A (key `k`, time `t`) read from input 0, pushed and released.
void feedA(Ingest &ingest, Driver &driver, std::int64_t t, const std::string &k) {
  std::string line = R"({"@type":"A","k":")" + k + R"(","t":)" + std::to_string(t) + "}";
  std::string padded = line + std::string(kLinePadding, '\0');
  Line l;
  l.text = std::string_view(padded.data(), line.size());
  l.capacity = padded.size();
  l.number = 1;
  EventRef event;
  REQUIRE(ingest.onRecord(0, l, event) == IngestStatus::Event);
  driver.push(std::move(event));
  REQUIRE(driver.release(ingest.watermark()));
}

std::string tempPath(const std::string &stem) {
  static int counter = 0;
  return (std::filesystem::temp_directory_path() /
          ("cep_serve_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + stem))
      .string();
}

// A FIFO with a writer held open (O_RDWR: opening it never waits), removed at the end.
class Fifo {
public:
  Fifo() : path_(tempPath(".fifo")) {
    REQUIRE(::mkfifo(path_.c_str(), 0600) == 0);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd_ >= 0);
  }
  ~Fifo() {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  void write(const std::string &text) {
    REQUIRE(::write(fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
};

// An eventfd written by a watchdog thread after kWatchdogMs unless the test ended first.
class Watchdog {
public:
  Watchdog() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    REQUIRE(fd_ >= 0);
    thread_ = std::thread([this] {
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWatchdogMs);
      while (!done_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!done_) {
        fired_ = true;
        wake();
      }
    });
  }
  ~Watchdog() {
    done_ = true;
    thread_.join();
    ::close(fd_);
  }
  void wake() const {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t ignored = ::write(fd_, &one, sizeof one);
  }
  void drain() const {
    std::uint64_t n = 0;
    [[maybe_unused]] ssize_t ignored = ::read(fd_, &n, sizeof n);
  }
  int fd() const { return fd_; }
  bool fired() const { return fired_; }

private:
  int fd_;
  std::atomic<bool> done_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

std::string record(const std::string &k, std::int64_t t) {
  return R"({"@type":"A","k":")" + k + R"(","t":)" + std::to_string(t) + "}\n";
}

// Two splits (a Kafka topic's partitions as inputs), neither counted in the watermark at first
// (not assigned); records queued by the test.
class TwoSplits final : public RecordSource {
public:
  std::deque<std::pair<std::uint32_t, std::string>> queue;
  bool counted[2] = {false, false};
  std::uint64_t version = 0;

  std::uint32_t splits() const override { return 2; }
  std::string splitName(std::uint32_t split) const override {
    return "topic[" + std::to_string(split) + "]";
  }
  std::optional<PartitionOrigin> origin(std::uint32_t split) const override {
    return PartitionOrigin{"topic", static_cast<std::int32_t>(split)};
  }
  ReadStatus next(std::uint32_t &split, Line &line) override {
    if (queue.empty()) {
      return ReadStatus::Pending;
    }
    split = queue.front().first;
    buffer_ = queue.front().second + std::string(kLinePadding, '\0');
    line.text = std::string_view(buffer_.data(), queue.front().second.size());
    line.capacity = buffer_.size();
    line.number = 1;
    queue.pop_front();
    return ReadStatus::Line;
  }
  int fd() const override { return -1; }
  int wakeWithinMs() const override { return 5; }
  bool counts(std::uint32_t split) const override { return counted[split]; }
  std::uint64_t countsVersion() const override { return version; }
  const std::string &error() const override { return error_; }

private:
  std::string buffer_;
  std::string error_;
};

} // namespace

TEST_CASE("operator set: stable ids, id order, dispatch by type", "[runtime][engine][serve]") {
  Echo a("a", {0}), b("b", {0, 1}), c("c", {1});
  OperatorSet set(2);
  CHECK(set.nextId() == 0);
  set.add(5, &a);
  set.add(2, &b);
  CHECK(set.nextId() == 6);
  REQUIRE(set.entries().size() == 2);
  CHECK(set.entries()[0].id == 2);
  CHECK(set.entries()[1].id == 5);
  CHECK(set.forType(0).size() == 2);
  CHECK(set.forType(1).size() == 1);
  CHECK(set.find(5) == &a);
  CHECK(set.find(3) == nullptr);

  CHECK(set.replace(2, &c) == &b); // keeps its id
  CHECK(set.entries()[0].id == 2);
  CHECK(set.entries()[0].matcher == &c);
  REQUIRE(set.forType(0).size() == 1);
  CHECK(set.forType(0)[0].matcher == &a);
  CHECK(set.forType(1)[0].id == 2);

  CHECK(set.remove(5) == &a);
  CHECK(set.size() == 1);
  CHECK(set.forType(0).empty());
  CHECK(set.nextId() == 6); // an id is never given twice
}

TEST_CASE("driver: outputs sort by operator id, which a replacement keeps",
          "[runtime][engine][serve]") {
  Schema s = schemaA();
  Echo late_declared("x", {0}), early("y", {0}), replacement("z", {0});
  OperatorSet set(s.types.size());
  set.add(7, &late_declared);
  set.add(3, &early);
  std::string text;
  RunOptions options;
  {
    OutputSink sink(text);
    Ingest ingest(s, {"in"}, {-1}, options);
    Driver driver(set, sink, options);
    auto feed = [&](const std::string &line, std::uint64_t number) {
      std::string padded = line + std::string(kLinePadding, '\0');
      Line l;
      l.text = std::string_view(padded.data(), line.size());
      l.capacity = padded.size();
      l.number = number;
      EventRef event;
      REQUIRE(ingest.onRecord(0, l, event) == IngestStatus::Event);
      driver.push(std::move(event));
      REQUIRE(driver.release(ingest.watermark()));
    };
    feed(R"({"@type":"A","k":"1","t":10})", 1);
    feed(R"({"@type":"A","k":"2","t":20})", 2); // releases 1
    CHECK(set.replace(3, &replacement) == &early);
    feed(R"({"@type":"A","k":"3","t":30})", 3); // releases 2
    ingest.finishAll();
    REQUIRE(driver.finish());
    sink.flush();
  }
  CHECK(text == "y:1\nx:1\nz:2\nx:2\nz:3\nx:3\n");
}

TEST_CASE("ingest: the schema grows between two records, old types unchanged",
          "[runtime][engine][serve]") {
  Schema small = schemaA();
  Schema larger = small;
  EventSchema b;
  b.name = "B";
  b.fields = {{"n", FieldKind::Int, false}, {"t", FieldKind::Time, false}};
  b.time_field = 1;
  larger.types.push_back(b);
  std::ostringstream report;
  RunOptions options;
  options.report = &report;
  Ingest ingest(small, {"in"}, {-1}, options);
  auto decode = [&](const std::string &line) {
    std::string padded = line + std::string(kLinePadding, '\0');
    Line l;
    l.text = std::string_view(padded.data(), line.size());
    l.capacity = padded.size();
    l.number = 1;
    EventRef event;
    IngestStatus status = ingest.onRecord(0, l, event);
    return std::make_pair(status, event ? static_cast<int>(event->type) : -1);
  };
  CHECK(decode(R"({"@type":"B","n":1,"t":5})").first == IngestStatus::Skipped); // unknown type
  ingest.extendSchema(larger);
  CHECK(decode(R"({"@type":"B","n":1,"t":6})") == std::make_pair(IngestStatus::Event, 1));
  CHECK(decode(R"({"@type":"A","k":"a","t":7})") == std::make_pair(IngestStatus::Event, 0));
  CHECK(ingest.records().inputs[0].rejected == 1);
  CHECK(ingest.records().inputs[0].accepted == 2);

  Schema changed = larger;
  changed.types[0].fields[0].kind = FieldKind::Int;
  CHECK_THROWS_WITH(ingest.extendSchema(changed),
                    Catch::Contains("changes a type in use") && Catch::Contains("field 1"));
  Schema fewer;
  CHECK_THROWS_WITH(ingest.extendSchema(fewer), Catch::Contains("fewer than the 2 in use"));
}

TEST_CASE("serve loop: a record on the second FIFO is matched while the first is silent",
          "[runtime][engine][serve]") {
  Schema s = schemaA();
  Fifo first, second;
  Watchdog watchdog;
  Echo echo("e", {0});
  echo.on_event = [](const EventRef &) { requestStop(SIGTERM); };
  second.write(record("b", 5));
  Inputs inputs;
  std::string error;
  RunOptions options;
  options.time = TimeMode::Processing; // matched on arrival
  REQUIRE(inputs.open({{first.path(), ""}, {second.path(), ""}}, s, error));
  std::string text;
  RunResult result;
  {
    OutputSink sink(text);
    RunLoop loop(s, {&echo}, inputs.names(), {-1, -1}, sink, options);
    ServeHooks hooks;
    hooks.wake_fd = watchdog.fd();
    hooks.on_wake = [&](RunLoop &) {
      watchdog.drain();
      requestStop(SIGTERM);
    };
    result = serveInputs(loop, inputs, hooks);
  }
  requestStop(0);
  CHECK_FALSE(watchdog.fired());
  CHECK(result.status == RunStatus::Interrupted);
  CHECK(echo.log == std::vector<std::string>{"event"});
  CHECK_FALSE(inputs.finished(0));
  CHECK(text == "e:b\n");
}

TEST_CASE("serve loop: processing-time timers fire on the wall clock while input is silent",
          "[runtime][engine][serve]") {
  Schema s = schemaA();
  Fifo fifo;
  Watchdog watchdog;
  Echo echo("e", {0});
  std::int64_t fired_at = 0;
  std::int64_t armed_at = 0;
  echo.on_event = [&](const EventRef &event) {
    armed_at = event->time;
    echo.next_timer = event->time + 40; // a `within 40ms` deadline
  };
  echo.on_advance = [&](std::int64_t time, std::vector<MatchOutput> &out) {
    if (time >= echo.next_timer) {
      fired_at = time;
      MatchOutput o;
      o.completion_time = echo.next_timer;
      o.time_driven = true;
      o.json = "timeout";
      out.push_back(o);
      echo.next_timer = kEndOfTime;
      requestStop(SIGTERM);
    }
  };
  fifo.write(record("a", 1));
  Inputs inputs;
  std::string error;
  RunOptions options;
  options.time = TimeMode::Processing;
  REQUIRE(inputs.open({{fifo.path(), ""}}, s, error));
  std::string text;
  RunResult result;
  {
    OutputSink sink(text);
    RunLoop loop(s, {&echo}, inputs.names(), {-1}, sink, options);
    ServeHooks hooks;
    hooks.wake_fd = watchdog.fd();
    hooks.on_wake = [&](RunLoop &) {
      watchdog.drain();
      requestStop(SIGTERM);
    };
    hooks.finish_at_end = true;
    result = serveInputs(loop, inputs, hooks);
  }
  requestStop(0);
  CHECK_FALSE(watchdog.fired());
  CHECK(result.status == RunStatus::Interrupted);
  CHECK(fired_at >= armed_at + 40);
  CHECK(text == "e:a\ntimeout\n");
  CHECK(echo.log == std::vector<std::string>{"event"}); // not finished
}

TEST_CASE("serve loop: inputs that end do not finish, the wake fd changes the operators",
          "[runtime][engine][serve]") {
  Schema s = schemaA();
  std::string path = tempPath(".jsonl");
  {
    std::ofstream out(path);
    out << record("a", 10) << R"({"@type":"B","k":"x","t":15})"
        << "\n"
        << record("b", 20);
  }
  Watchdog watchdog;
  Schema larger = s;
  larger.types.push_back(s.types[0]);
  larger.types[1].name = "B";
  Echo first("first", {0}), added("added", {0});
  // The last event wakes the loop again: once the input has ended, the callback stops it.
  added.on_event = [&](const EventRef &event) {
    if (event->slots()[0].s->view() == "b") {
      watchdog.wake();
    }
  };
  Inputs inputs;
  std::string error;
  RunOptions options;
  REQUIRE(inputs.open({{path, ""}}, s, error));
  std::string text;
  RunResult result;
  int wakes = 0;
  std::vector<OperatorId> ids;
  RunStats loop_stats;
  {
    OutputSink sink(text);
    RunLoop loop(s, {&first}, inputs.names(), {-1}, sink, options);
    ServeHooks hooks;
    hooks.wake_fd = watchdog.fd();
    hooks.on_wake = [&](RunLoop &l) {
      watchdog.drain();
      if (++wakes == 1) {
        l.extendSchema(larger); // a type no operator reads yet
        l.operators().add(l.operators().nextId(), &added);
        for (const OperatorSet::Entry &op : l.operators().entries()) {
          ids.push_back(op.id);
        }
      } else {
        requestStop(SIGTERM);
      }
    };
    hooks.check_every = 1; // look at the wake fd before every record
    watchdog.wake();       // before the first record
    result = serveInputs(loop, inputs, hooks);
    loop_stats = loop.stats();
  }
  requestStop(0);
  std::filesystem::remove(path);
  CHECK(result.status == RunStatus::Interrupted);
  CHECK_FALSE(watchdog.fired());
  CHECK(wakes == 2);
  CHECK(ids == std::vector<OperatorId>{0, 1});
  // The input ended: everything released (watermark +infinity), nothing finished.
  CHECK(text == "first:a\nadded:a\nfirst:b\nadded:b\n");
  CHECK(first.log == std::vector<std::string>{"event", "event"});
  CHECK(loop_stats.records.inputs[0].accepted == 3); // B decoded once the schema had it
}

TEST_CASE("serve loop: batched output is flushed before the loop waits for input",
          "[runtime][engine][serve]") {
  // With flush_each_step off, the captured sink sees records only when the loop flushes: with
  // flush_when_waiting they are there by the time the loop waits on the silent FIFO (when the
  // wake fd, written by the last event, is handled); without it only at the stop.
  bool batched = GENERATE(true, false);
  Schema s = schemaA();
  Fifo fifo;
  Watchdog watchdog;
  Echo echo("e", {0});
  echo.on_event = [&](const EventRef &event) {
    if (event->slots()[0].s->view() == "b") {
      watchdog.wake();
    }
  };
  fifo.write(record("a", 5) + record("b", 6));
  Inputs inputs;
  std::string error;
  RunOptions options;
  options.time = TimeMode::Processing; // matched on arrival
  options.flush_each_step = false;
  REQUIRE(inputs.open({{fifo.path(), ""}}, s, error));
  std::string text;
  std::string seen_while_waiting;
  RunResult result;
  {
    OutputSink sink(text);
    RunLoop loop(s, {&echo}, inputs.names(), {-1}, sink, options);
    ServeHooks hooks;
    hooks.wake_fd = watchdog.fd();
    hooks.check_every = 1000; // never reached: only the wait flushes
    hooks.flush_when_waiting = batched;
    hooks.on_wake = [&](RunLoop &) {
      watchdog.drain();
      seen_while_waiting = text;
      requestStop(SIGTERM);
    };
    result = serveInputs(loop, inputs, hooks);
  }
  requestStop(0);
  CHECK_FALSE(watchdog.fired());
  CHECK(result.status == RunStatus::Interrupted);
  CHECK(seen_while_waiting == (batched ? "e:a\ne:b\n" : ""));
  CHECK(text == "e:a\ne:b\n"); // the stop flushes in both cases
}

TEST_CASE("driver: a timed change goes between the last event before its time and the first at "
          "or after it",
          "[runtime][engine][serve]") {
  Schema s = schemaA();
  Echo old_version("x", {0}), new_version("z", {0});
  std::vector<std::int64_t> x_times;
  old_version.on_advance = [&](std::int64_t t, std::vector<MatchOutput> &) {
    x_times.push_back(t);
  };
  OperatorSet set(s.types.size());
  set.add(1, &old_version);
  // Two changes: at 25 the replacement, at 100 its removal.
  struct Schedule final : TimedChanges {
    OperatorSet *set = nullptr;
    Echo *replacement = nullptr;
    std::vector<std::int64_t> due = {25, 100};
    std::vector<std::int64_t> applied;
    std::int64_t nextChange() const override { return due.empty() ? kEndOfTime : due.front(); }
    void applyNext(std::int64_t time) override {
      applied.push_back(time);
      if (time == 25) {
        set->replace(1, replacement);
      } else {
        set->remove(1);
      }
      due.erase(due.begin());
    }
  } schedule;
  schedule.set = &set;
  schedule.replacement = &new_version;
  std::string text;
  RunOptions options;
  {
    OutputSink sink(text);
    Ingest ingest(s, {"in"}, {-1}, options);
    Driver driver(set, sink, options);
    driver.setTimedChanges(&schedule);
    auto feed = [&](std::int64_t t, const std::string &k) { feedA(ingest, driver, t, k); };
    feed(10, "a");
    feed(24, "b");
    CHECK(schedule.applied.empty()); // watermark 23: an event at 24 may still come
    feed(25, "c"); // watermark 24: every event before 25 is released (a later one is late)
    CHECK(schedule.applied == std::vector<std::int64_t>{25});
    // The old version was advanced to 24 (its timers before 25 fired) and saw nothing after.
    REQUIRE_FALSE(x_times.empty());
    CHECK(x_times.back() == 24);
    feed(25, "d");
    feed(40, "e"); // releases c and d: to the new version
    feed(99, "f"); // watermark 98: the change at 100 waits
    CHECK(schedule.applied.size() == 1);
    feed(101, "g"); // watermark 100 >= 100 - 1: every event before 100 is released; it goes
    CHECK(schedule.applied == std::vector<std::int64_t>{25, 100});
    CHECK(set.entries().empty());
    REQUIRE(driver.release(ingest.watermark()));
    sink.flush();
  }
  CHECK(text == "x:a\nx:b\nz:c\nz:d\nz:e\nz:f\n");
}

// An aggregate fires a window ending at T (its last instant T - 1) once the watermark is T - 1
// (advanceWatermark; advanceTime(T - 1) only says T - 2). A change at T goes once every event
// before T is released, i.e. the watermark is at least T - 1: the old version must see that
// watermark before it goes, even when an event at T - 1 already took time to T - 1 (a fresh
// deploy exactly at a window's end used to drop that window, unlike `cep run` split at T).
TEST_CASE("driver: the version a timed change replaces sees the watermark T - 1 first",
          "[runtime][engine][serve]") {
  Schema s = schemaA();
  Echo old_version("x", {0}), new_version("z", {0});
  std::int64_t old_watermark = kNoWatermark;
  old_version.on_watermark = [&](std::int64_t w) { old_watermark = std::max(old_watermark, w); };
  OperatorSet set(s.types.size());
  set.add(1, &old_version);
  struct Schedule final : TimedChanges {
    OperatorSet *set = nullptr;
    Echo *replacement = nullptr;
    std::int64_t watermark_seen = kNoWatermark;
    std::int64_t *old_watermark = nullptr;
    std::vector<std::int64_t> due = {25};
    std::int64_t nextChange() const override { return due.empty() ? kEndOfTime : due.front(); }
    void applyNext(std::int64_t) override {
      watermark_seen = *old_watermark;
      set->replace(1, replacement);
      due.clear();
    }
  } schedule;
  schedule.set = &set;
  schedule.replacement = &new_version;
  schedule.old_watermark = &old_watermark;
  std::string text;
  RunOptions options;
  {
    OutputSink sink(text);
    Ingest ingest(s, {"in"}, {-1}, options);
    Driver driver(set, sink, options);
    driver.setTimedChanges(&schedule);
    for (std::int64_t t : {10, 24, 30, 40}) { // 24: the last instant of a window [.., 25)
      feedA(ingest, driver, t, "k");
    }
    sink.flush();
  }
  CHECK(schedule.due.empty());
  CHECK(schedule.watermark_seen == 24);
  CHECK(text == "x:k\nx:k\nz:k\n");
}

TEST_CASE("driver: held events of a partition given up are dropped, the others keep their order",
          "[runtime][engine][serve][kafka]") {
  Schema s = schemaA();
  Echo echo("e", {0});
  OperatorSet set(s.types.size());
  set.add(0, &echo);
  std::string text;
  RunOptions options;
  options.max_delay_ms = 1000; // nothing is released before the end
  {
    OutputSink sink(text);
    Ingest ingest(s, {"p[0]", "p[1]"}, {-1, -1}, options);
    Driver driver(set, sink, options);
    std::uint64_t number = 0;
    auto feed = [&](std::uint32_t input, const std::string &line) {
      std::string padded = line + std::string(kLinePadding, '\0');
      Line l;
      l.text = std::string_view(padded.data(), line.size());
      l.capacity = padded.size();
      l.number = ++number;
      EventRef event;
      REQUIRE(ingest.onRecord(input, l, event) == IngestStatus::Event);
      driver.push(std::move(event));
      REQUIRE(driver.release(ingest.watermark()));
    };
    // Out of order across the inputs, all held (the watermark stays below 0).
    feed(0, R"({"@type":"A","k":"a","t":30})");
    feed(1, R"({"@type":"A","k":"b","t":10})");
    feed(0, R"({"@type":"A","k":"c","t":20})");
    feed(1, R"({"@type":"A","k":"d","t":25})");
    feed(0, R"({"@type":"A","k":"e","t":20})");
    REQUIRE(driver.buffered() == 5);
    CHECK(driver.dropBuffered([](const Event &e) { return e.input == 1; }) == 2);
    CHECK(driver.buffered() == 3);
    CHECK(driver.dropBuffered([](const Event &) { return false; }) == 0);
    ingest.finishAll();
    REQUIRE(driver.finish());
    sink.flush();
  }
  CHECK(text == "e:c\ne:e\ne:a\n"); // (time, arrival) order; b and d gone
}

TEST_CASE("serve loop: partitions assigned together count in the watermark as their minimum",
          "[runtime][engine][serve][kafka]") {
  // Two partitions restored from records at different watermarks (docs/kafka.md "Scale-out"),
  // the one at the later watermark first: once both count, the combined watermark is the lower
  // one, so an event of the other partition between the two is not late. Before, each was
  // counted in turn and the combined watermark, which never goes back, took the first's.
  Schema s = schemaA();
  Watchdog watchdog;
  Echo echo("echo", {0});
  Inputs inputs;
  std::string error;
  REQUIRE(inputs.open({}, s, error));
  auto owned = std::make_unique<TwoSplits>();
  TwoSplits &source = *owned;
  inputs.addSource(std::move(owned), -1);
  RunOptions options;
  std::string text;
  RunResult result;
  std::int64_t combined = 0;
  RunStats loop_stats;
  {
    OutputSink sink(text);
    RunLoop loop(s, {&echo}, inputs.names(), {-1, -1}, sink, options);
    REQUIRE(loop.setInputCounted(0, false)); // not assigned yet (a member's start)
    REQUIRE(loop.setInputCounted(1, false));
    loop.ingest().raiseWatermark(0, 2000); // the later record's, counted first before
    loop.ingest().raiseWatermark(1, 1000);
    source.counted[0] = source.counted[1] = true; // assigned together
    ++source.version;
    source.queue.push_back({1, record("b", 1500).substr(0, record("b", 1500).size() - 1)});
    int wakes = 0;
    ServeHooks hooks;
    hooks.wake_fd = watchdog.fd();
    hooks.on_wake = [&](RunLoop &l) {
      watchdog.drain();
      if (++wakes == 1) {
        watchdog.wake(); // again after the record
      } else {
        combined = l.ingest().watermark();
        requestStop(SIGTERM);
      }
    };
    hooks.check_every = 1;
    watchdog.wake();
    result = serveInputs(loop, inputs, hooks);
    loop_stats = loop.stats();
  }
  requestStop(0);
  CHECK(result.status == RunStatus::Interrupted);
  CHECK_FALSE(watchdog.fired());
  CHECK(combined == 1499); // the lower partition's, raised by its event (no --max-delay)
  CHECK(loop_stats.records.inputs[1].late == 0);
  CHECK(loop_stats.records.inputs[1].accepted == 1);
}
