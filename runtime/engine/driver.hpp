// The driver: drives a set of operators (engine/operator_set) through time in the order of
// docs/semantics.md §3, and writes what they output.
//
//   before the events of time t   advanceTime(t) on every operator
//   each released event e         onEvent(e) on the operators whose stream contains e's type
//   after each release batch      advanceTime(W) on every operator (W: the watermark)
//   at the end of time            everything is released, then finish() on every operator
//
// Under event time, accepted events wait in a reorder buffer (push) until the watermark passes
// them (release); under processing time each event is matched when it arrives, at its arrival
// time (onArrival). The outputs of each step, over all operators, are stamped with the id of the
// operator that made them (MatchOutput::operator_id), sorted with MatchOutput::before and
// written one line each. A false return means the output failed (OutputSink::error()).
//
//   OperatorSet operators(schema.types.size());
//   operators.add(0, matcher);
//   Driver driver(operators, sink, options);
//   driver.push(std::move(event));          // event time, after Ingest accepted it
//   driver.release(ingest.watermark());     // whenever the watermark may have moved
//   ...
//   driver.finish();                        // end of every input (`cep run` only)
//
// The set may change (add, replace, remove) between two calls, never during one.
//
// Lazy time advance: the steps call Matcher::advanceTo, which skips an operator whose due time
// (Matcher::dueTime) is later than the step's time and only records the time on it; the engine
// applies the recorded time before anything reads or exports its state (docs/ARCHITECTURE.md).
//
// Prefetch: before each released event, Matcher::prefetch(e) on the operators of the event e
// kPrefetchAhead places behind it in the reorder buffer, so that an operator can have the
// dependent loads of e's key state (a table entry, the key's slot, its state, its window's
// ring) in cache, one level at each of the next events, by the time e comes (what a
// hand-written program does with batches and prefetches). A hint only: nothing a prefetch does
// is observable. Not with workers (their threads own the operators' state). CEP_PREFETCH=0 in
// the environment turns the hints off: a diagnostic, to measure what they save and to check
// that they change nothing (tests/e2e/check_prefetch.py).
//
// Changes at an exact event time (`cep serve --rules-topic`, docs/kafka.md "Rules topic"): a
// TimedChanges given to setTimedChanges is asked for its earliest change time T before every
// released event and after every release batch; once every event with time < T is released
// (the next event's time is >= T, or the watermark is >= T - 1), the watermark advances to T - 1
// (the timers due before T fire on the old operators) and applyNext(T) changes the set. Events with
// time >= T, and timers at or after T, see the new set. With workers, the pool is synced first
// (every step before T matched and written): the set changes between two batches.
//
//   struct Schedule final : TimedChanges {
//     std::int64_t nextChange() const override { return pending.empty() ? kEndOfTime : pending[0];
//     } void applyNext(std::int64_t t) override { operators.add(7, v2); pending.erase(...); }
//   };
//   driver.setTimedChanges(&schedule);
#pragma once

#include "runtime/engine/operator_set.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_options.hpp"
#include "runtime/event.hpp"
#include "runtime/matcher.hpp"
#include "runtime/time/event_spill.hpp"
#include "runtime/time/reorder_buffer.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace cep::runtime {

class WorkerPool; // engine/worker_pool.hpp

// Changes of the operator set due at an event time (above). Called between two steps only.
class TimedChanges {
public:
  virtual ~TimedChanges() = default;
  // The event time of the earliest pending change; kEndOfTime when none.
  virtual std::int64_t nextChange() const = 0;
  // Applies the earliest pending change (due at `time`) and forgets it. It may add, replace or
  // remove operators; it must not call back into the driver.
  virtual void applyNext(std::int64_t time) = 0;
};

class Driver {
public:
  // `operators` and `out` must outlive the driver.
  Driver(OperatorSet &operators, OutputSink &out, const RunOptions &options);

  // Event time: an accepted event, into the reorder buffer. An event of a type no operator
  // reads is dropped, unless keepUnreadTypes() is set (an operator that reads it may be added
  // before it is released); its time still counts at the end (finish()).
  // Inline for the usual event (no spill, an operator reads its type); pushSlow the rest.
  void push(EventRef &&event) {
    if (spill_ == nullptr && (keep_unread_types_ || !operators_.forType(event->type).empty()) &&
        buffer_.push(std::move(event)) == PushResult::Buffered) {
      return;
    }
    pushSlow(std::move(event));
  }
  void keepUnreadTypes(bool keep) { keep_unread_types_ = keep; }
  // `cep run --order sort` beyond memory (runtime/time/event_spill.hpp): held events past the
  // spill's budget go to a sorted run on disk; finish() merges the runs. Null: all in memory.
  // Must outlive the driver. push() and finish() then throw SpillError on an I/O error.
  void spillTo(EventSpill *spill) { spill_ = spill; }
  // Changes applied at their exact event time (above); null: none. Must outlive the driver.
  void setTimedChanges(TimedChanges *changes) { changes_ = changes; }
  // `cep run --workers N` (engine/worker_pool.hpp): from here on the steps go to `pool`, which
  // matches them on its threads and writes their records; the driver's operators (worker 0's)
  // only say which operators read an event's type. Event time only. Timed changes are applied
  // with every worker stopped at the change (WorkerPool::sync, `cep serve --workers N
  // --rules-topic`). Null: the driver calls the operators itself. Must outlive the driver.
  void useWorkers(WorkerPool *pool) { pool_ = pool; }
  // Event time: the events `watermark` has passed, in (time, arrival) order, then time advances
  // to `watermark` (not to +infinity: that is finish()'s).
  bool release(std::int64_t watermark);
  // Processing time: `event` at its time (the arrival's wall-clock time): time advances to it,
  // the event is dispatched, time advances to it again.
  bool onArrival(const EventRef &event);
  // advanceTime(time) on every operator when `time` is later than time() (timers that are due).
  bool advanceTo(std::int64_t time);
  // End of time: everything buffered is released, time advances to the latest event dropped
  // for its type when that is later (as if it had been released), then finish() on every
  // operator: what it writes only the end settled ("@at_end").
  bool finish();
  // Event time: a late event (Ingest::setLateHandler), to the operators of its type
  // (Matcher::onLateEvent), their records written at once. `taken`: some operator counted it
  // (else it goes to the late output). False when the output failed.
  bool onLate(const EventRef &event, bool &taken);

  // The time the operators were last advanced to (kNoWatermark: never).
  std::int64_t time() const { return time_; }
  // Records finish() wrote marked "@at_end" (AtEnd::Fire) or left out (AtEnd::Drop).
  std::uint64_t atEndFired() const { return at_end_fired_; }
  std::uint64_t atEndDropped() const { return at_end_dropped_; }
  std::size_t buffered() const { return buffer_.size(); }
  // The events held for reordering, in no particular order (a checkpoint per input partition
  // resumes each partition before its own: docs/kafka.md "The changelog topic").
  std::vector<EventRef> bufferedEvents() const { return buffer_.events(); }
  // Takes out of the reorder buffer the held events `drop` picks (a Kafka partition given up in
  // a rebalance: its next owner reads them again, docs/kafka.md "Scale-out"); the others stay in
  // their release order. Returns how many went.
  std::size_t dropBuffered(const std::function<bool(const Event &)> &drop);
  // The earliest pending timer over the operators (Matcher::nextTimer); kEndOfTime when none.
  std::int64_t nextTimer() const;

private:
  friend struct RunSnapshotAccess; // run_snapshot.cpp reads and sets the state below

  // advanceTime(time) on every operator (advanceWatermark when `watermark`: the after-batch
  // step), then write. Inline for the usual step, where no operator is due at `time`
  // (time < Matcher::dueTime()): the time is only recorded on each (Matcher::advanceTo), and
  // nothing is called. An operator due (or workers): stepDue, which calls them.
  bool step(std::int64_t time, bool watermark = false) {
    if (pool_ != nullptr) {
      return stepDue(time, watermark);
    }
    for (const OperatorSet::Entry &op : operators_.entries()) {
      if (time >= op.matcher->dueTime()) {
        // The operators before it recorded the time already; stepDue's advanceTo records the
        // same time on them again, which changes nothing.
        return stepDue(time, watermark);
      }
      op.matcher->advanceTo(time, watermark, step_outputs_); // records only: not due
    }
    time_ = time;
    events_since_advance_ = false;
    return writeStep();
  }
  bool stepDue(std::int64_t time, bool watermark);
  // Prefetch (above): Matcher::prefetch on the operators of the event kPrefetchAhead places
  // behind the one about to be released.
  void prefetchAhead();
  static constexpr std::size_t kPrefetchAhead = 8;
  bool prefetch_ = true; // CEP_PREFETCH=0 in the environment: false
  // Applies the timed changes due at or before `limit` (time first advanced to each one's T-1).
  // Inline: without timed changes (every `cep run`) there is nothing to do.
  bool applyChanges(std::int64_t limit) { return changes_ == nullptr || applyDue(limit); }
  bool applyDue(std::int64_t limit);
  void pushSlow(EventRef &&event); // push() with a spill, or of a type nobody reads
  // onEvent on the operators of its type. Inline: once per released event.
  void dispatch(const EventRef &event) {
    OperatorSet::StepScope scope(operators_);
    const std::vector<OperatorSet::Entry> &ops = operators_.forType(event->type);
    if (ops.size() == 1 && step_outputs_.empty()) { // the step's only writer: direct records
      callDirect(*ops[0].matcher, [&](Matcher &m) { m.onEvent(event, step_outputs_); });
      stamp(0, ops[0].id);
      return;
    }
    for (const OperatorSet::Entry &op : ops) {
      std::size_t from = step_outputs_.size();
      op.matcher->onEvent(event, step_outputs_);
      stamp(from, op.id);
    }
  }
  // One event the watermark has passed: the changes due before it, time advanced to it, the
  // event dispatched and its records written. False once the output failed.
  bool releaseEvent(EventRef &event); // moved out of `event` to the worker pool, if any
  // Sort and write step_outputs_; false once the output failed.
  bool writeStep() {
    if (step_outputs_.empty() && !out_.failed()) {
      return true; // the usual step: nothing to write
    }
    return writeOutputs();
  }
  bool writeOutputs();
  // Records written directly (docs/ARCHITECTURE.md): `call` on `m` with the sink handed to it
  // (Matcher::setDirectOutput), for a step in which `m` alone writes and nothing is pending.
  template <class Call> void callDirect(Matcher &m, Call &&call) {
    m.setDirectOutput(&out_);
    call(m);
    m.setDirectOutput(nullptr);
    if (flush_each_step_) {
      out_.flush(); // writeStep flushes only the records it writes itself
    }
  }
  bool syncWorkers(); // with workers and flush_each_step: every step so far written out
  void stamp(std::size_t from, OperatorId id) { // operator_id of step_outputs_[from..]
    for (std::size_t i = from; i < step_outputs_.size(); ++i) {
      step_outputs_[i].operator_id = id;
    }
  }

  OperatorSet &operators_;
  OutputSink &out_;
  TimeMode time_mode_;
  bool flush_each_step_;
  AtEnd at_end_;
  std::uint64_t at_end_fired_ = 0, at_end_dropped_ = 0;
  bool keep_unread_types_ = false;
  // The latest time of an event dropped because no operator reads its type (pushSlow): not
  // kept, but its time is the stream's, so finish() advances time to it before +infinity
  // (docs/semantics.md §3). kNoWatermark: none.
  std::int64_t unread_until_ = kNoWatermark;
  TimedChanges *changes_ = nullptr;
  WorkerPool *pool_ = nullptr;
  EventSpill *spill_ = nullptr;
  ReorderBuffer buffer_;
  std::vector<MatchOutput> step_outputs_;
  std::int64_t time_ = kNoWatermark; // the time the operators were last advanced to
  bool events_since_advance_ = false;
};

} // namespace cep::runtime
