// The interface between the event-time driver (runtime/) and a pattern engine (the reference
// interpreter in compiler/interp, the JIT-compiled matcher later). One Matcher per pattern; it
// owns the keyed state of that pattern (runs, bound events, timers) and builds its own output
// records, so the driver never sees NFA details and never needs lang/.
//
// The driver calls, in event-time order (docs/semantics.md §3):
//   advanceTime(t)  before the events of time t (and with the watermark after a batch): every
//                   deadline <= t fires (timeouts, absence matches, matches released by them)
//   onEvent(e)      for each released event whose type the pattern uses, in (time, arrival) order
//   finish()        at end of input (time = +infinity): everything left is settled
// and asks nextTimer() when it would otherwise wait (processing time: it wakes at that time),
// and sorts what each call appends by MatchOutput::before (docs/semantics.md §6).
//
// A long-running server (`cep serve`) also retires versions of a pattern between two of those
// calls (docs/semantics.md §11):
//   drain()      no new partial match starts from then on; the ones in flight go on exactly as
//                before; drained() turns true once the last one is gone, and the caller removes
//                the matcher then
//   dropState()  every partial and held match goes at once, counted (`fresh`, `undeploy drop`)
// Example, replacing version `old` by `next` in drain mode between two released events:
//   old->drain();                       // `next` (built with options.version) takes new starts
//   ... both get advanceTime / onEvent / finish as usual ...
//   if (old->drained()) { remove it }   // after any call: no run, held match or timer left
#pragma once

#include "runtime/event.hpp"
#include "runtime/state_bounds.hpp"

#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::runtime {

struct MatcherState;    // runtime/state/matcher_state.hpp
struct MigrationReport; // runtime/state/migration.hpp
class OutputSink;       // runtime/engine/output_sink.hpp

constexpr std::int64_t kEndOfTime = INT64_MAX;

// Where an event stands in the order its partition processes events (spec §4: event time, then
// arrival). Matched events compare by it (docs/semantics.md §6 rule 5), so which of two matches
// sorts first does not depend on the arrival order of events of different times.
struct EventPlace {
  std::int64_t time = 0;
  std::uint64_t seq = 0; // arrival
  friend auto operator<=>(const EventPlace &, const EventPlace &) = default;
};

// One output record and where it sorts.
struct MatchOutput {
  std::int64_t completion_time = 0; // completing event's time; deadline; kEndOfTime at the end
  bool time_driven = false;         // fired by time (timeout, absence, release by a timeout)
  std::uint64_t completion_seq = 0; // arrival seq of the completing event (event-driven only)
  // The operator that wrote it (engine/operator_set.hpp), stamped by the driver: the pattern's
  // declaration index under `cep run`; stable across replacements under `cep serve`.
  std::uint32_t operator_id = 0;
  std::int64_t start_time = 0; // the match's first event
  std::uint64_t start_seq = 0;
  std::vector<EventPlace> events; // the matched events' places, in match order
  std::string json;               // the record, one line, no newline

  // docs/semantics.md §6: completion time; time-driven first; completing arrival; operator id;
  // start; matched events.
  static bool before(const MatchOutput &a, const MatchOutput &b);
};

struct MatcherOptions {
  bool with_events = false; // add "@events" with the raw records bound to each step
  // --max-runs-per-key, --max-state-bytes (runtime/state_bounds.hpp, docs/semantics.md §9):
  // the oldest partial matches are evicted, counted in MatcherStats::evicted and, when
  // `evictions` is set, reported there.
  StateBounds bounds;
  EvictionLog *evictions = nullptr;
  // The pattern version a server is running (`cep serve`: the artifact hash prefix). When not
  // empty, every output record (match and timeout) carries "@version":"<version>" right after
  // "@pattern" (docs/semantics.md §7); empty (`cep run`) writes no such member.
  std::string version;
};

struct MatcherStats {
  std::uint64_t events = 0;   // events this pattern looked at
  std::uint64_t matches = 0;  // complete matches written
  std::uint64_t timeouts = 0; // timeout records written
  std::uint64_t evicted = 0;  // partial matches evicted by StateBounds
  // Of them, by EvictReason (for `cep serve`'s metrics; not in snapshots: 0 after a restore).
  std::uint64_t evicted_by[kEvictReasons] = {0, 0, 0};
  std::uint64_t dropped = 0; // partial and held matches dropped by Matcher::dropState
  std::uint64_t live_runs = 0, peak_runs = 0;
  std::uint64_t live_keys = 0, peak_keys = 0;
  std::uint64_t bound_events = 0, peak_bound_events = 0; // events held by partial matches
  std::uint64_t state_bytes = 0, peak_state_bytes = 0;   // estimate of the keyed state
  // Of state_bytes now: the blocks of the bound events, which the runtime and other runs share
  // (not snapshotted; bench/ reports the state per run besides them).
  std::uint64_t bound_event_bytes = 0;
  // Aggregates only (spec §8; zero for patterns): open windows now (panes, sessions, running
  // cells, rolling entries: runtime/aggregate AggregateStats::windows), and the late events
  // handed to onLateEvent that passed the step's condition, split into those counted (a window
  // of theirs had not fired yet, or is open within `lateness`) and those too late for any (they
  // go to the late output unless another operator takes them). `matches` counts the records
  // written.
  std::uint64_t windows = 0;
  std::uint64_t late_counted = 0, late_missed = 0;

  // Adds another matcher's counters (the workers' or shards' sum; peaks are summed too, so a
  // sum's peak can exceed the peak of the whole).
  MatcherStats &operator+=(const MatcherStats &s);
};

// What changed in a matcher's state since the previous Matcher::exportChanges call, as the
// pieces of runtime/state/key_record.hpp: the header (always) and the records of the keys that
// changed. `full` is set on the first call (and on the first call after the matcher's tracking
// restarted, e.g. an old version whose state adoptFrom took): `put` then holds every key, and a
// receiver that kept records of this matcher drops every key `put` does not name. After any
// call, applying every call's `put` and `erased` in order to a map (from empty, or cleared when
// `full`) gives exactly the matcher's current keys and their records.
struct MatcherChanges {
  std::string header;                                   // encoded MatcherHeader
  std::vector<std::pair<std::string, std::string>> put; // key_json, key record (sorted by key)
  std::vector<std::string> erased;                      // key_json of keys now gone (sorted)
  bool full = false;                                    // `put` is the whole state
  void clear() {
    header.clear();
    put.clear();
    erased.clear();
    full = false;
  }
};

class Matcher {
public:
  Matcher();
  virtual ~Matcher();
  Matcher(const Matcher &) = delete;
  Matcher &operator=(const Matcher &) = delete;
  virtual void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) = 0;
  virtual void onEvent(const EventRef &event, std::vector<MatchOutput> &out) = 0;
  virtual void finish(std::vector<MatchOutput> &out) = 0;
  // The watermark W after a batch of released events (docs/semantics.md §3). Patterns take it
  // as advanceTime(W) (this default). An aggregate (spec §8, docs/semantics.md §12) tells the
  // two apart: advanceTime(t) before the events of time t means "the watermark is t - 1" (an
  // event at t is not late yet), advanceWatermark(W) means "the watermark is W" (a window whose
  // end - 1 is W fires).
  virtual void advanceWatermark(std::int64_t watermark, std::vector<MatchOutput> &out) {
    advanceTime(watermark, out);
  }
  // A hint that `event` reaches onEvent soon, a few events of this operator from now
  // (engine/driver.hpp "Prefetch"): the operator may start loading the state it will touch,
  // and the state of the events hinted before it one dependent load deeper. It changes nothing
  // a later call can observe, and reads only what the operator's own thread owns. Default:
  // nothing.
  virtual void prefetch(const Event &event) { (void)event; }
  // A late event (spec §4: its time is at or before the watermark) of a type this operator
  // reads, handed over before it goes to the late output. Patterns take no late event (false,
  // this default). An aggregate counts it for the windows still open within `lateness` (spec
  // §8.3), may write records (revisions) and returns true; the event then goes to the late
  // output only when no operator took it.
  virtual bool onLateEvent(const EventRef &event, std::vector<MatchOutput> &out) {
    (void)event;
    (void)out;
    return false;
  }
  // Lazy time advance (engine/driver.hpp, docs/ARCHITECTURE.md "Lazy time advance"): the
  // driver's advanceTime(time) (advanceWatermark when `watermark`), but without any call when
  // the operator has nothing due at `time` (time < dueTime()): then only the time is recorded
  // (deferredTime()), and the engine reads its time as if it had been advanced. Times never go
  // back (the driver's steps are in time order).
  void advanceTo(std::int64_t time, bool watermark, std::vector<MatchOutput> &out) {
    if (time < due_) {
      if (time > deferred_) {
        deferred_ = time;
        deferred_watermark_ = watermark;
      } else if (time == deferred_) {
        deferred_watermark_ = deferred_watermark_ || watermark;
      }
      return;
    }
    if (watermark) {
      advanceWatermark(time, out);
    } else {
      advanceTime(time, out);
    }
  }
  // The earliest time at which advanceTime / advanceWatermark may do more than record the time
  // (a deadline, a key expiry, a window to fire or state to drop), or earlier. The engine keeps
  // it (setDue); INT64_MIN, the default: every advance is due (an engine that does not keep it
  // is called at every step, as before).
  std::int64_t dueTime() const { return due_; }
  virtual MatcherStats stats() const = 0;
  // The earliest pending deadline (a `within` timeout, an absence, a match held back by one):
  // advanceTime(t) with t >= it writes or changes something. kEndOfTime when none is pending.
  // A driver on the wall clock (--time processing) wakes at this time instead of waiting for
  // the next event.
  virtual std::int64_t nextTimer() const = 0;
  // Versioned, self-describing serialisation of the whole keyed state (runs, bound events,
  // counters, timers, held matches), referring to NFA states by name. restore() on a fresh
  // matcher of the same pattern gives one that behaves exactly as the snapshotted one; a bad or
  // incompatible snapshot throws std::runtime_error with the reason.
  virtual void snapshot(std::string &out) const = 0;
  virtual void restore(std::string_view in) = 0;
  // The same state as the model both engines share (runtime/state/matcher_state.hpp): snapshot
  // is exportState + encodeMatcherState, restore is decodeMatcherState + the engine's import.
  virtual void exportState(MatcherState &out) const = 0;
  // restore() from the model itself (a state reassembled from key records: `cep serve
  // --state`). The default encodes it and calls restore(); the native matcher imports it
  // without the round trip through bytes.
  virtual void restoreState(const MatcherState &state);
  // Incremental checkpoints (issue #11): fills `out` (cleared first) with the header and the
  // records of the keys whose runs or held matches changed since the previous call; a key that
  // is gone is in `erased` (one created and removed in between may be there too, or not at
  // all; one removed and created again is in `put`). The first call puts every key (`full`).
  // Records are exactly encodeKeyRecord's of exportState, so the header and the accumulated
  // records reassemble to snapshot()'s bytes (runtime/state/key_record.hpp).
  //   MatcherChanges c;
  //   m.exportChanges(c);       // first call: c.full, every key in c.put
  //   ... events ...
  //   m.exportChanges(c);       // only the keys those events changed
  // This default works for every engine and costs O(state): it exports the whole state,
  // encodes every key's record and compares it with the previous call's (a 128-bit hash per
  // key). The native matcher overrides it with dirty-key tracking, O(changed keys), which
  // starts with the first call and costs nothing before; from then on call it regularly: the
  // keys freed since the previous call are kept (their first event) until the next one.
  virtual void exportChanges(MatcherChanges &out);
  // The receiver of exportChanges already holds exactly this matcher's current state (it was
  // just restored from those records): the next exportChanges reports only what changes from
  // here, as if a call had exported everything now. The default does that call (O(state)); the
  // native matcher only starts its tracking (O(1)), so a restart of `cep serve --state` does not
  // write the whole state again at its first checkpoint.
  virtual void assumeExported();
  // Moving the partial matches of ANOTHER VERSION of this pattern (same name; other conditions,
  // steps, NFA shape or schema) into this matcher, which must be fresh (runtime/state/
  // migration.hpp, docs/semantics.md "Moving partial matches to a new version"). checkMigration
  // only lists the reasons the move is refused; migrateFrom checks first and, when there is any
  // reason, changes nothing; otherwise it moves every key, run and held match and counts them.
  // Both engines give the same reasons and the same state for the same input.
  //   MatcherState old; v1.exportState(old);
  //   MigrationReport r = v2.migrateFrom(old); // r.reasons empty: v2 continues v1's matches
  virtual MigrationReport checkMigration(const MatcherState &from) const = 0;
  virtual MigrationReport migrateFrom(const MatcherState &from) = 0;
  // The same move without going through the model, for the common rule change (new
  // conditions, same steps and key): when canAdopt(old) holds, adoptFrom(old) takes over old's
  // keys, runs, held matches, timers and bound events where they lie (no copy; the cost is one
  // pass over the runs to re-map state indices and recompute deadlines), leaving `old` empty.
  // The result equals migrateFrom on old's exported state. canAdopt is false unless both are
  // of one engine with the same schema layout for the events they hold, the same key fields,
  // every old state and step name in the new pattern (a step taking the same type) and the
  // same state bounds; a matcher that cannot adopt falls back to export + migrateFrom.
  virtual bool canAdopt(const Matcher &old) const {
    (void)old;
    return false;
  }
  virtual MigrationReport adoptFrom(Matcher &old);
  // `cep run --workers N` (engine/worker_pool.hpp): a hash of `event`'s key for this operator
  // (its `partition by` or `group by` fields); two events of one key give one value. Called by
  // the reading thread while the matcher runs on its worker, so it reads only the event and the
  // operator's constants. The default, 0, puts every event of the operator on one worker.
  virtual std::uint64_t routeHash(const Event &event) const {
    (void)event;
    return 0;
  }
  // The event types (indices into the Schema) this pattern's stream is made of.
  virtual const std::vector<std::uint32_t> &eventTypes() const = 0;
  virtual std::string_view patternName() const = 0;

  // Draining (docs/semantics.md §11). After drain(), no event starts a partial match (the
  // pattern's start state is no longer consulted, whatever step an event would bind first);
  // the runs already there advance, complete, time out and release held matches exactly as
  // they would have. Idempotent; carried by snapshot()/restore().
  virtual void drain() = 0;
  // An aggregate's drain splits its windows at a switch time (runtime/native/native_aggregate.hpp
  // "Drain"): drainTime() is the one drain() would take now, drainAt(S) drains at S instead (the
  // latest of the workers' switch times: engine/sharded_matcher.hpp). A pattern has none:
  // INT64_MIN, and drainAt is drain().
  virtual std::int64_t drainTime() const { return INT64_MIN; }
  virtual void drainAt(std::int64_t switch_time) {
    (void)switch_time;
    drain();
  }
  virtual bool draining() const = 0;
  // True when draining and nothing is left: no partial match, no held match, no pending timer
  // (nothing more can be written). A matcher that is not draining is never drained.
  virtual bool drained() const = 0;
  // Drops every partial match and every held (complete, not yet released) match without
  // writing anything, and returns how many there were; MatcherStats::dropped adds them up.
  // The matcher stays usable: later events start new runs unless it is draining (a draining
  // matcher is drained() right after).
  virtual std::uint64_t dropState() = 0;

  // Records written directly (engine/driver.hpp "Records written directly"): for one call
  // (onEvent, advanceTime, advanceWatermark) the driver may hand the operator its output sink,
  // when no other operator writes in that step and nothing is pending in it. The operator may
  // then append its records' lines to the sink itself (OutputSink::beginLine/endLine), in the
  // order MatchOutput::before gives them, instead of MatchOutputs in `out`; records in `out`
  // are written as usual after the call (never both in one call: the order would be lost).
  // Null (the default, and outside such a call): every record goes to `out`. An operator that
  // never reads directOutput() is unaffected.
  void setDirectOutput(OutputSink *sink) { direct_ = sink; }

protected:
  OutputSink *directOutput() const { return direct_; }
  // For the engines (lazy time advance, above). setDue after every call that may bring a
  // deadline earlier (an event, a restore, a migration); a due time earlier than the truth is
  // safe (the advance is called and finds nothing to do), a later one loses a timer.
  void setDue(std::int64_t due) { due_ = due; }
  // The latest time advanceTo recorded without a call (INT64_MIN: none since the last
  // clearDeferred), and whether that was the after-batch watermark (advanceWatermark).
  std::int64_t deferredTime() const { return deferred_; }
  bool deferredWatermark() const { return deferred_watermark_; }
  // The engine applied the recorded time to its own (or replaced its time: restore, adopt).
  void clearDeferred() const {
    deferred_ = INT64_MIN;
    deferred_watermark_ = false;
  }

private:
  OutputSink *direct_ = nullptr;
  std::int64_t due_ = INT64_MIN;
  // Mutable: an engine may apply the recorded time in a const call that reads its state.
  mutable std::int64_t deferred_ = INT64_MIN;
  mutable bool deferred_watermark_ = false;
  struct ExportedKeys; // the default exportChanges' hashes of the records it exported last
  std::unique_ptr<ExportedKeys> exported_;
};

} // namespace cep::runtime
