// The worker pool of `cep run --workers N` (runtime/engine/worker_pool.hpp) against the driver
// on one thread: the same steps, the records merged back into the same bytes. The operators
// here are small test matchers (TieMatcher) whose records tie in everything but their start (many
// keys time out at one deadline, two operators keyed by different fields read one event), so the
// merge order is what is tested; tests/run_golden --workers runs the real engines.
#include "runtime/engine/driver.hpp"
#include "runtime/engine/sharded_matcher.hpp"
#include "runtime/engine/worker_pool.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/migration.hpp"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace cep::runtime;

Schema tieSchema() {
  Schema schema;
  schema.types.push_back(
      {"E", {{"a", FieldKind::Int}, {"b", FieldKind::Int}, {"s", FieldKind::String}}, -1});
  return schema;
}

EventRef makeEvent(std::int64_t time, std::uint64_t seq, std::int64_t a, std::int64_t b,
                   const std::string &s) {
  std::size_t extra = offsetof(StringRef, data) + s.size() + 8;
  Event *e = allocateEvent(0, 3, extra);
  e->time = time;
  e->seq = seq;
  e->slots()[0].i = a;
  e->slots()[1].i = b;
  auto *ref = reinterpret_cast<StringRef *>(extraBegin(e));
  ref->size = static_cast<std::uint32_t>(s.size());
  std::memcpy(ref->data, s.data(), s.size());
  e->slots()[2].s = ref;
  e->nulls = 0;
  return EventRef(e);
}

// Keyed by field `field`: a record per event, and one per event `delay` ms after it (a timeout,
// fired by time), all timeouts of every key due at the same instants when events share times.
class TieMatcher final : public Matcher {
public:
  TieMatcher(std::uint32_t field, std::int64_t delay) : field_(field), delay_(delay) {}

  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override {
    std::int64_t key = event->slots()[field_].i;
    MatchOutput o = record(key, "event", event->time, event->seq, *event);
    o.completion_seq = event->seq;
    out.push_back(std::move(o));
    pending_[key].push_back({event->time + delay_, event});
    ++stats_.events;
  }
  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override {
    for (auto &[key, list] : pending_) {
      std::vector<Pending> left;
      for (Pending &p : list) {
        if (p.deadline <= time) {
          MatchOutput o = record(key, "timeout", p.deadline, p.event->seq, *p.event);
          o.time_driven = true;
          out.push_back(std::move(o));
        } else {
          left.push_back(std::move(p));
        }
      }
      list = std::move(left);
    }
  }
  void finish(std::vector<MatchOutput> &out) override { advanceTime(kEndOfTime - 1, out); }
  bool onLateEvent(const EventRef &event, std::vector<MatchOutput> &out) override {
    out.push_back(record(event->slots()[field_].i, "late", event->time, event->seq, *event));
    return field_ == 0;
  }
  std::uint64_t routeHash(const Event &event) const override {
    return static_cast<std::uint64_t>(event.slots()[field_].i);
  }
  MatcherStats stats() const override { return stats_; }
  std::int64_t nextTimer() const override { return kEndOfTime; }
  void snapshot(std::string &) const override {}
  void restore(std::string_view) override {}
  void exportState(MatcherState &) const override {}
  MigrationReport checkMigration(const MatcherState &) const override { return {}; }
  MigrationReport migrateFrom(const MatcherState &) override { return {}; }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return "tie"; }
  void drain() override {}
  bool draining() const override { return false; }
  bool drained() const override { return false; }
  std::uint64_t dropState() override { return 0; }

private:
  struct Pending {
    std::int64_t deadline;
    EventRef event;
  };
  MatchOutput record(std::int64_t key, const char *what, std::int64_t at, std::uint64_t seq,
                     const Event &e) const {
    MatchOutput o;
    o.completion_time = at;
    o.start_time = e.time;
    o.start_seq = seq;
    o.events = {{e.time, seq}};
    o.json = "{\"field\":" + std::to_string(field_) + ",\"key\":" + std::to_string(key) + ",\"" +
             what + "\":" + std::to_string(seq) + ",\"s\":\"" +
             std::string(e.slots()[2].s->view()) + "\"}";
    return o;
  }
  std::uint32_t field_;
  std::int64_t delay_;
  std::map<std::int64_t, std::vector<Pending>> pending_;
  std::vector<std::uint32_t> types_{0};
  MatcherStats stats_;
};

struct Outcome {
  std::string output;
  std::uint64_t fired = 0, dropped = 0, events = 0;
  bool late_taken = false;
};

// 400 events over 37 keys (field a) and 11 (field b), times in steps of 10 ms, some out of
// order within the 30 ms delay, a late event near the end; with `workers` > 1 through a pool.
Outcome runTies(std::uint32_t workers, AtEnd at_end) {
  Schema schema = tieSchema();
  std::vector<std::vector<std::unique_ptr<TieMatcher>>> owned(workers);
  std::vector<std::vector<Matcher *>> sets(workers);
  for (std::uint32_t w = 0; w < workers; ++w) {
    for (std::uint32_t op = 0; op < 2; ++op) {
      owned[w].push_back(std::make_unique<TieMatcher>(op, op == 0 ? 20 : 35));
      sets[w].push_back(owned[w].back().get());
    }
  }
  Outcome outcome;
  RunOptions options;
  options.at_end = at_end;
  {
    OutputSink sink(outcome.output);
    OperatorSet operators(1);
    operators.add(0, sets[0][0]);
    operators.add(1, sets[0][1]);
    Driver driver(operators, sink, options);
    std::unique_ptr<WorkerPool> pool;
    if (workers > 1) {
      pool = std::make_unique<WorkerPool>(schema, sets, sink, options);
      driver.useWorkers(pool.get());
    }
    std::int64_t max_time = 0;
    for (std::uint64_t seq = 0; seq < 400; ++seq) {
      std::int64_t time = static_cast<std::int64_t>(seq / 3) * 10 - (seq % 7 == 3 ? 20 : 0);
      EventRef event = makeEvent(time, seq, static_cast<std::int64_t>(seq % 37),
                                 static_cast<std::int64_t>(seq % 11), "v" + std::to_string(seq));
      max_time = std::max(max_time, time);
      driver.push(std::move(event));
      REQUIRE(driver.release(max_time - 30));
      if (seq == 350) {
        EventRef late = makeEvent(max_time - 100, 10000, 5, 7, "late");
        REQUIRE(driver.onLate(late, outcome.late_taken));
      }
    }
    REQUIRE(driver.finish());
    outcome.fired = driver.atEndFired();
    outcome.dropped = driver.atEndDropped();
    if (pool) {
      outcome.events = pool->stats(0).events + pool->stats(1).events;
    } else {
      outcome.events = sets[0][0]->stats().events + sets[0][1]->stats().events;
    }
    sink.flush();
  }
  return outcome;
}

// `cep serve --workers N`: the pool over an OperatorSet of ShardedMatchers. Operator 0 from the
// start; operator 1 added after event 200 and operator 0 replaced by a fresh one after event
// 300, both while the pool is synced (the barrier), as a deploy would; a late event at 350.
// With `workers` 1 the driver runs plain TieMatchers on its own thread.
std::string runServing(std::uint32_t workers) {
  Schema schema = tieSchema();
  auto make = [workers](std::uint32_t field, std::int64_t delay) -> std::unique_ptr<Matcher> {
    if (workers == 1) {
      return std::make_unique<TieMatcher>(field, delay);
    }
    std::vector<std::unique_ptr<Matcher>> shards;
    for (std::uint32_t w = 0; w < workers; ++w) {
      shards.push_back(std::make_unique<TieMatcher>(field, delay));
    }
    return std::make_unique<ShardedMatcher>(std::move(shards));
  };
  std::vector<std::unique_ptr<Matcher>> owned;
  owned.push_back(make(0, 20));
  std::string output;
  RunOptions options;
  {
    OutputSink sink(output);
    OperatorSet operators(1);
    operators.add(0, owned[0].get());
    Driver driver(operators, sink, options);
    std::unique_ptr<WorkerPool> pool;
    if (workers > 1) {
      pool = std::make_unique<WorkerPool>(schema, operators, workers, sink, options);
      driver.useWorkers(pool.get());
    }
    std::int64_t max_time = 0;
    for (std::uint64_t seq = 0; seq < 400; ++seq) {
      if (seq == 200 || seq == 300) {
        if (pool) {
          REQUIRE(pool->sync()); // every worker stopped at this step
        }
        owned.push_back(make(seq == 200 ? 1 : 0, seq == 200 ? 35 : 25));
        if (seq == 200) {
          operators.add(1, owned.back().get());
        } else {
          operators.replace(0, owned.back().get());
        }
      }
      std::int64_t time = static_cast<std::int64_t>(seq / 3) * 10 - (seq % 7 == 3 ? 20 : 0);
      EventRef event = makeEvent(time, seq, static_cast<std::int64_t>(seq % 37),
                                 static_cast<std::int64_t>(seq % 11), "v" + std::to_string(seq));
      max_time = std::max(max_time, time);
      driver.push(std::move(event));
      REQUIRE(driver.release(max_time - 30));
      if (seq == 350) {
        EventRef late = makeEvent(max_time - 100, 10000, 5, 7, "late");
        bool taken = false;
        REQUIRE(driver.onLate(late, taken));
      }
    }
    REQUIRE(driver.finish());
    sink.flush();
  }
  return output;
}

// `cep serve --workers N --rules-topic`: the same operators changed by the driver itself at an
// event time (TimedChanges): operator 1 added at 700, operator 0 replaced at 1000. The driver
// syncs the pool before each change (Driver::applyDue).
std::string runTimed(std::uint32_t workers) {
  Schema schema = tieSchema();
  auto make = [workers](std::uint32_t field, std::int64_t delay) -> std::unique_ptr<Matcher> {
    if (workers == 1) {
      return std::make_unique<TieMatcher>(field, delay);
    }
    std::vector<std::unique_ptr<Matcher>> shards;
    for (std::uint32_t w = 0; w < workers; ++w) {
      shards.push_back(std::make_unique<TieMatcher>(field, delay));
    }
    return std::make_unique<ShardedMatcher>(std::move(shards));
  };
  std::vector<std::unique_ptr<Matcher>> owned;
  owned.push_back(make(0, 20));
  owned.push_back(make(1, 35));
  owned.push_back(make(0, 25));
  struct Schedule final : TimedChanges {
    OperatorSet *set = nullptr;
    std::vector<std::unique_ptr<Matcher>> *owned = nullptr;
    std::vector<std::int64_t> due = {700, 1000};
    std::int64_t nextChange() const override { return due.empty() ? kEndOfTime : due.front(); }
    void applyNext(std::int64_t time) override {
      if (time == 700) {
        set->add(1, (*owned)[1].get());
      } else {
        set->replace(0, (*owned)[2].get());
      }
      due.erase(due.begin());
    }
  } schedule;
  std::string output;
  RunOptions options;
  {
    OutputSink sink(output);
    OperatorSet operators(1);
    operators.add(0, owned[0].get());
    schedule.set = &operators;
    schedule.owned = &owned;
    Driver driver(operators, sink, options);
    driver.setTimedChanges(&schedule);
    std::unique_ptr<WorkerPool> pool;
    if (workers > 1) {
      pool = std::make_unique<WorkerPool>(schema, operators, workers, sink, options);
      driver.useWorkers(pool.get());
    }
    std::int64_t max_time = 0;
    for (std::uint64_t seq = 0; seq < 400; ++seq) {
      std::int64_t time = static_cast<std::int64_t>(seq / 3) * 10 - (seq % 7 == 3 ? 20 : 0);
      EventRef event = makeEvent(time, seq, static_cast<std::int64_t>(seq % 37),
                                 static_cast<std::int64_t>(seq % 11), "v" + std::to_string(seq));
      max_time = std::max(max_time, time);
      driver.push(std::move(event));
      REQUIRE(driver.release(max_time - 30));
    }
    REQUIRE(driver.finish());
    sink.flush();
  }
  CHECK(schedule.due.empty());
  return output;
}

} // namespace

TEST_CASE("worker pool: serving over sharded operators changed at a synced step writes one "
          "thread's bytes",
          "[threads]") {
  std::string one = runServing(1);
  REQUIRE(one.size() > 10000);
  for (std::uint32_t workers : {2U, 3U}) {
    INFO("workers " << workers);
    CHECK(runServing(workers) == one);
  }
}

TEST_CASE("worker pool: operators changed at an event time by the driver write one thread's "
          "bytes",
          "[threads]") {
  std::string one = runTimed(1);
  REQUIRE(one.size() > 10000);
  for (std::uint32_t workers : {2U, 3U}) {
    INFO("workers " << workers);
    CHECK(runTimed(workers) == one);
  }
}

TEST_CASE("worker pool: records merged from 2, 3 and 4 workers are one thread's bytes",
          "[threads]") {
  for (AtEnd at_end : {AtEnd::Fire, AtEnd::Drop}) {
    Outcome one = runTies(1, at_end);
    REQUIRE(one.output.size() > 10000);
    REQUIRE(one.late_taken);
    REQUIRE(one.events == 800);
    for (std::uint32_t workers : {2U, 3U, 4U}) {
      INFO("workers " << workers << (at_end == AtEnd::Fire ? ", at end fire" : ", at end drop"));
      Outcome many = runTies(workers, at_end);
      CHECK(many.output == one.output);
      CHECK(many.fired == one.fired);
      CHECK(many.dropped == one.dropped);
      CHECK(many.late_taken == one.late_taken);
      CHECK(many.events == one.events);
    }
  }
}

TEST_CASE("worker pool: copyEvent copies fields, strings and the raw record into a new block",
          "[threads]") {
  Schema schema = tieSchema();
  EventRef event = makeEvent(42, 7, -3, 9, "hello");
  std::string raw = R"({"a":-3})";
  event->raw = raw.data();
  event->raw_size = static_cast<std::uint32_t>(raw.size());
  EventRef copy = copyEvent(*event, schema.types[0]);
  REQUIRE(copy.get() != event.get());
  CHECK(copy->time == 42);
  CHECK(copy->seq == 7);
  CHECK(copy->nulls == 0);
  CHECK(copy->slots()[0].i == -3);
  CHECK(copy->slots()[1].i == 9);
  CHECK(copy->slots()[2].s->view() == "hello");
  CHECK(copy->slots()[2].s != event->slots()[2].s);
  CHECK(copy->rawRecord() == raw);
  CHECK(copy->raw != event->raw);
  CHECK(copy->refs == 1);
}

TEST_CASE("worker pool: workerOf spreads consecutive hashes over the workers", "[threads]") {
  std::vector<int> counts(4, 0);
  for (std::uint64_t h = 0; h < 4000; ++h) {
    ++counts[workerOf(h, 4)];
  }
  for (int count : counts) {
    CHECK(count > 800);
    CHECK(count < 1200);
  }
}
