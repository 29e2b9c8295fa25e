// The reference interpreter: executes one pattern's NFA (compiler/nfa/ir.hpp) over a keyed event
// stream, with the semantics of docs/semantics.md (Flink CEP 1.17's NFA: doProcess,
// computeNextStates, advanceTime, processMatchesAccordingToSkipStrategy). It is the oracle the
// JIT must agree with byte for byte, so it is written to be clear rather than fast; still, the
// work per event is proportional to the runs of the event's key only, and the work per time
// advance to the keys that have a deadline due.
//
// State, per key value (a hash map entry, erased when its last run and held match go):
//   runs   partial matches (Flink's computation states): NFA state, loop counter, bound events
//          (a shared, refcounted list: bindings.hpp), first and last bound event, deadline
//   held   complete matches waiting for an earlier partial match (docs/semantics.md §5)
// and, over all keys, an ordered set of (earliest deadline, key) so advanceTime(t) visits only
// the keys with a deadline <= t, in deadline order. With --key-ttl, a key also holds its last
// event (time, arrival) and an ordered set of (expiry, last arrival, key) drops the keys whose
// expiry is <= t, interleaved with the deadlines in time order (a deadline first at equal times).
#pragma once

#include "compiler/interp/bindings.hpp"
#include "compiler/interp/eval.hpp"
#include "compiler/interp/trace.hpp"
#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"
#include "runtime/state/migration.hpp"
#include "support/time_arith.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cep::compiler::interp {

constexpr std::int64_t kNoDeadline = INT64_MAX;

// A partial match (Flink's ComputationState).
struct Run {
  nfa::StateId state = 0;
  std::uint32_t counter = 0;
  NodeRef bound;               // last bound event (the list runs back to the first)
  std::int64_t start_time = 0; // first bound event
  std::uint64_t start_seq = 0;
  std::int64_t prev_time = 0; // last bound event
  std::int64_t deadline = kNoDeadline;
};

// A complete match not yet released.
struct HeldMatch {
  NodeRef bound;
  std::int64_t start_time = 0;
  std::uint64_t start_seq = 0;
  std::vector<runtime::EventPlace> places; // the matched events', in match order
};

struct KeyState {
  std::string key_json;             // "@key" as written: value, array or null
  std::vector<Run> runs;            // ordered by start (first bound event)
  std::vector<HeldMatch> held;      // ordered by start, then matched events (§6 rule 5)
  std::int64_t timer = kNoDeadline; // the entry this key has in the timer set
  // --key-ttl only: the key's last event seen by the pattern (INT64_MIN: not tracked).
  std::int64_t last_time = INT64_MIN;
  std::uint64_t last_seq = 0;
};

class InterpMatcher : public runtime::Matcher {
public:
  // `program` must outlive the matcher (the NFA's guards point into it). Event type indices of
  // the runtime Schema are those of `program.event_types`.
  InterpMatcher(const lang::typed::Program &program, std::int32_t pattern_index, nfa::Nfa nfa,
                runtime::MatcherOptions options);
  ~InterpMatcher() override;

  void advanceTime(std::int64_t time, std::vector<runtime::MatchOutput> &out) override;
  void onEvent(const runtime::EventRef &event, std::vector<runtime::MatchOutput> &out) override;
  // Patterns take no late event; a traced key's late event is reported (trace.hpp).
  bool onLateEvent(const runtime::EventRef &event, std::vector<runtime::MatchOutput> &out) override;
  void finish(std::vector<runtime::MatchOutput> &out) override;
  runtime::MatcherStats stats() const override;
  void snapshot(std::string &out) const override;              // snapshot.cpp
  void restore(std::string_view in) override;                  // snapshot.cpp
  void exportState(runtime::MatcherState &out) const override; // snapshot.cpp
  runtime::MigrationReport checkMigration(const runtime::MatcherState &from) const override;
  runtime::MigrationReport migrateFrom(const runtime::MatcherState &from) override; // snapshot.cpp
  const std::vector<std::uint32_t> &eventTypes() const override { return event_types_; }
  std::string_view patternName() const override { return pattern_.name; }
  std::uint64_t routeHash(const runtime::Event &event) const override {
    return std::hash<std::string>{}(keyOf(event));
  }
  void drain() override { draining_ = true; }
  bool draining() const override { return draining_; }
  bool drained() const override { return draining_ && keys_.empty() && timers_.empty(); }
  std::uint64_t dropState() override;
  std::int64_t nextTimer() const override {
    std::int64_t next = timers_.empty() ? runtime::kEndOfTime : timers_.begin()->first;
    return expiry_.empty() ? next : std::min(next, std::get<0>(*expiry_.begin()));
  }

  // From now on, what the runs of `target.keys` do goes to `target.sink` (trace.hpp,
  // nfa_trace.cpp); with `only_traced`, events of every other key are ignored (a shadow).
  void setTrace(TraceTarget target);

  const nfa::Nfa &nfa() const { return nfa_; }
  // The pattern's time: the last advance, or the time the driver recorded without a call
  // (runtime::Matcher::advanceTo: nothing was due then).
  std::int64_t currentTime() const { return std::max(time_, deferredTime()); }
  std::uint64_t liveNodes() const { return nodes_.live; }

private:
  // runtime::Matcher::setDue: the earliest deadline or key expiry. After every public call that
  // may add one (DueRefresh).
  void refreshDue() { setDue(InterpMatcher::nextTimer()); }
  struct DueRefresh {
    InterpMatcher &m;
    ~DueRefresh() { m.refreshDue(); }
  };

  // When a match completes or is released: the completing event, or a time.
  struct Completion {
    std::int64_t time = 0;
    bool time_driven = false;
    std::uint64_t seq = 0;
  };

  // What one run's step did, for the trace (null when the key is not traced): the states it
  // looked at, the negated steps it tested, the runs it made, why it made none.
  struct RunTrace {
    struct Made {
      nfa::EdgeKind kind;
      std::int32_t step; // Take: the step that bound the event
      nfa::StateId target;
      nfa::StateId landed; // Take: the Final state it also completes in (-1: none)
    };
    std::vector<nfa::StateId> visited;
    std::vector<std::int32_t> negations; // negated steps with a stop edge looked at
    std::int32_t stopped_by = -1;        // the negated step that matched (discarded)
    std::int32_t within_blocked = -1;    // a step whose own within had passed
    bool ignore_edge = false;            // some visited state had an IGNORE edge
    std::vector<Made> made;
  };

  // One step of Flink's computeNextStates: the runs `run` becomes on `event`.
  void nextRuns(const Run &run, bool is_start, const runtime::EventRef &event,
                std::vector<Run> &retained, std::vector<Run> &completed, RunTrace *trace = nullptr);
  // nfa_trace.cpp: the actions of a traced key.
  bool traced(const std::string &key_json) const { return tracing_ && trace_.traces(key_json); }
  TraceAction traceAction(TraceKind kind, const std::string &key_json) const;
  TraceRun traceRun(const Run &run) const;
  void traceEvent(const std::string &key_json, const runtime::Event &e, TraceKind kind);
  void traceStep(const std::string &key_json, const Run &run, bool is_start,
                 const runtime::EventRef &event, const RunTrace &rt);
  std::vector<TraceCheck> traceChecks(const RunTrace &rt, const Run &run, const runtime::Event &e);
  TraceCheck traceCheck(std::int32_t step, const Run &run, const runtime::Event &e);
  std::string conditionLabel(const lang::typed::Expr &expr) const;
  void noteEdge(RunTrace &rt, const nfa::Edge &edge) const;
  std::int32_t stopStep(nfa::StateId stop) const; // the negated step of a $stop state
  bool passes(const nfa::Guard *g, const runtime::Event &event, std::uint32_t counter,
              const BoundEvents &bound);
  nfa::StateId finalAfterProceed(nfa::StateId state, std::uint32_t counter,
                                 const runtime::Event &event, const BoundEvents &bound);
  std::int64_t deadlineOf(const Run &run) const;

  // Deadlines <= time, and with --key-ttl the keys whose expiry is <= time, in time order.
  void fireUntil(std::int64_t time, std::vector<runtime::MatchOutput> &out);
  void expire(KeyState &key, std::int64_t deadline, std::vector<runtime::MatchOutput> &out);
  void processMatches(KeyState &key, std::vector<Run> &completed, const Completion &when,
                      std::vector<runtime::MatchOutput> &out);
  void prune(KeyState &key, const HeldMatch &released);
  void reschedule(KeyState &key); // timer entry; erases the key when it holds nothing
  void setRuns(KeyState &key, std::vector<Run> runs);

  std::string keyOf(const runtime::Event &e) const;
  KeyState &keyState(const std::string &key);
  void emitMatch(const KeyState &key, const HeldMatch &m, const Completion &when,
                 std::vector<runtime::MatchOutput> &out);
  void emitTimeout(const KeyState &key, const Run &run, std::vector<runtime::MatchOutput> &out);
  void updatePeaks();
  const std::shared_ptr<const runtime::Schema> &snapshotSchema() const; // snapshot.cpp
  // snapshot.cpp: the keys of `from` built over `events` (this matcher's schema, parallel to
  // from.events), nodes counted in `counter`. Restoring (reasons == nullptr), a name this
  // matcher lacks throws; migrating, names were checked, and a key whose text differs under this
  // version is a reason.
  std::vector<std::unique_ptr<KeyState>> stageKeys(const runtime::MatcherState &from,
                                                   const std::vector<runtime::EventRef> &events,
                                                   NodeCounter *counter,
                                                   std::vector<std::string> *reasons) const;
  void commitKeys(const runtime::MatcherState &from,
                  std::vector<std::unique_ptr<KeyState>> keys); // snapshot.cpp

  // State bounds (docs/semantics.md §9): the oldest `count` runs of `key` (by start, then
  // creation order) go; then the pattern's oldest runs while its accounted bytes exceed the
  // limit. Held matches the evicted runs held back are released at `when`.
  void evictOldest(KeyState &key, std::size_t count, runtime::EvictReason reason);
  void boundStateBytes(const Completion &when, std::vector<runtime::MatchOutput> &out);
  void evict(const KeyState &key, Run &run, runtime::EvictReason reason, std::int64_t at);
  // --key-ttl (docs/semantics.md §9): `key` saw an event (its expiry moves), or its expiry
  // `at` was reached: every run is evicted (reason ttl), what they held back is released at
  // `at` and the key goes.
  void touch(KeyState &key, const runtime::Event &e);
  void untrack(KeyState &key);
  void ttlDrop(KeyState &key, std::int64_t at, std::vector<runtime::MatchOutput> &out);
  std::int64_t expiryOf(std::int64_t last_time) const {
    return cep::time::deadlineAfter(last_time, options_.bounds.key_ttl_ms);
  }
  std::uint64_t accountedBytes() const {
    return live_runs_ * runtime::kRunAccountedBytes + distinct_.bytes();
  }

  const lang::typed::Program &program_;
  const lang::typed::Pattern &pattern_;
  nfa::Nfa nfa_;
  runtime::MatcherOptions options_;
  std::vector<std::uint32_t> event_types_;
  mutable std::shared_ptr<const runtime::Schema> schema_; // the program's; built on first use
  std::vector<bool> uses_type_;                           // by event type index
  std::vector<bool> completes_at_end_; // by state: a run waiting there completes at end of input
  Evaluator evaluator_;
  runtime::DistinctEventBytes distinct_; // counted only with a --max-state-bytes bound
  NodeCounter nodes_;

  std::unordered_map<std::string, std::unique_ptr<KeyState>> keys_;
  std::set<std::pair<std::int64_t, KeyState *>> timers_;
  // --key-ttl: (expiry, last event's arrival, key), one entry per key; empty without it.
  std::set<std::tuple<std::int64_t, std::uint64_t, KeyState *>> expiry_;
  std::int64_t time_ = INT64_MIN;
  std::uint64_t live_runs_ = 0;
  std::uint64_t held_ = 0;
  std::uint64_t key_bytes_ = 0;
  bool draining_ = false; // Matcher::drain: the start state is no longer consulted
  bool tracing_ = false;  // setTrace was called
  TraceTarget trace_;
  std::uint64_t trace_event_ = 0; // the traced event being matched (arrival number), else 0
  runtime::MatcherStats stats_;
};

std::unique_ptr<runtime::Matcher> makeInterpMatcher(const lang::typed::Program &program,
                                                    std::int32_t pattern_index, nfa::Nfa nfa,
                                                    runtime::MatcherOptions options);

} // namespace cep::compiler::interp
