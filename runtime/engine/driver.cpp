#include "runtime/engine/driver.hpp"

#include "runtime/engine/worker_pool.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace cep::runtime {

Driver::Driver(OperatorSet &operators, OutputSink &out, const RunOptions &options)
    : operators_(operators), out_(out), time_mode_(options.time),
      flush_each_step_(options.flush_each_step), at_end_(options.at_end), spill_(options.spill) {
  const char *prefetch = std::getenv("CEP_PREFETCH"); // "0": no hints (a diagnostic, above)
  prefetch_ = prefetch == nullptr || std::string_view(prefetch) != "0";
}

void Driver::pushSlow(EventRef &&event) {
  // Here `event` is still ours: push() buffers nothing before it comes here (a late event
  // stays with the caller of ReorderBuffer::push).
  if (!keep_unread_types_ && operators_.forType(event->type).empty()) {
    // No pattern reads it: nothing to keep it for but its time (finish()).
    unread_until_ = std::max(unread_until_, event->time);
    return;
  }
  bool spill = spill_ != nullptr && spill_->account(*event);
  PushResult pushed = buffer_.push(std::move(event));
  CEP_ASSERT(pushed == PushResult::Buffered, "the buffer's watermark is ahead of the inputs'");
  if (spill) {
    spill_->writeRun(buffer_.drain());
  }
}

std::size_t Driver::dropBuffered(const std::function<bool(const Event &)> &drop) {
  std::vector<EventRef> held = buffer_.drain(); // release order; the watermark is kept
  std::size_t dropped = 0;
  for (EventRef &event : held) {
    if (drop(*event)) {
      ++dropped;
    } else {
      buffer_.push(std::move(event)); // held: later than the watermark, so never late here
    }
  }
  return dropped;
}

bool Driver::releaseEvent(EventRef &event) {
  std::int64_t t = event->time;
  if (!applyChanges(t)) { // a change due at or before t goes before the event
    return false;
  }
  if (t > time_ && !step(t)) { // before the events of time t
    return false;
  }
  if (pool_ != nullptr) {
    events_since_advance_ = true;
    const std::vector<OperatorSet::Entry> &ops = operators_.forType(event->type);
    return pool_->event(std::move(event), ops);
  }
  dispatch(event);
  events_since_advance_ = true;
  return writeStep();
}

void Driver::prefetchAhead() {
  if (const Event *e = buffer_.ahead(kPrefetchAhead - 1); e != nullptr) {
    for (const OperatorSet::Entry &op : operators_.forType(e->type)) {
      op.matcher->prefetch(*e);
    }
  }
}

bool Driver::release(std::int64_t watermark) {
  if (watermark == kNoWatermark) {
    return true;
  }
  if (spill_ != nullptr && spill_->runs() > 0 && !spill_->merging()) {
    // --order sort with runs on disk: nothing is ready before the end of the inputs. Then the
    // rest held in memory is the last run, and every run is released merged in (time, seq)
    // order, which is the buffer's (time, arrival) order.
    if (watermark != kEndWatermark) {
      return true;
    }
    spill_->writeRun(buffer_.drain());
    EventRef event;
    while (spill_->next(event)) {
      if (!releaseEvent(event)) {
        return false;
      }
    }
  }
  buffer_.advanceTo(watermark);
  EventRef event;
  while (buffer_.pop(event)) {
    if (prefetch_ && pool_ == nullptr) { // with workers the operators' state is their threads'
      prefetchAhead();
    }
    if (!releaseEvent(event)) {
      return false;
    }
  }
  if (watermark == kEndWatermark) {
    return true; // +infinity is finish()'s
  }
  // Every event up to the watermark is released: a change due at watermark + 1 can go now.
  if (!applyChanges(watermark + 1)) {
    return false;
  }
  // After the batch, time advances to the watermark (docs/semantics.md §3).
  if ((watermark > time_ || events_since_advance_) && !step(watermark, true)) {
    return false;
  }
  return syncWorkers();
}

bool Driver::syncWorkers() {
  // Streaming: each record's matches are written before the next record is read.
  if (pool_ == nullptr || !flush_each_step_) {
    return !out_.failed();
  }
  return pool_->sync() && out_.flush();
}

bool Driver::onArrival(const EventRef &event) {
  CEP_ASSERT(pool_ == nullptr, "workers under processing time");
  std::int64_t t = event->time;
  if (!applyChanges(t)) {
    return false;
  }
  if (t > time_ && !step(t)) {
    return false;
  }
  dispatch(event);
  events_since_advance_ = true;
  return writeStep() && step(t); // the watermark is the arrival time
}

bool Driver::advanceTo(std::int64_t time) {
  if (!applyChanges(time)) {
    return false;
  }
  return time > time_ ? step(time) : writeStep();
}

bool Driver::applyDue(std::int64_t limit) {
  while (changes_ != nullptr) {
    std::int64_t at = changes_->nextChange();
    if (at == kEndOfTime || at > limit) {
      return true;
    }
    // The timers due before `at` fire on the operators as they are (unless time is past it: a
    // change scheduled late goes at once). As a watermark step: every event before `at` is
    // released, so the watermark is at least at - 1 here, and an aggregate's window ending at
    // `at` (its last instant at - 1) fires on the old version, as in `cep run` split at `at`;
    // a step to time at - 1 alone (an event at at - 1) only says at - 2 to an aggregate.
    if (at - 1 >= time_ && !step(at - 1, /*watermark=*/true)) {
      return false;
    }
    // With workers, the barrier: every step before the change matched and written, every
    // worker stopped at the same point of the stream, before the operators change.
    if (pool_ != nullptr && !pool_->sync()) {
      return false;
    }
    changes_->applyNext(at);
  }
  return true;
}

bool Driver::stepDue(std::int64_t time, bool watermark) {
  if (pool_ != nullptr) {
    time_ = time;
    events_since_advance_ = false;
    return pool_->advance(time, watermark);
  }
  {
    OperatorSet::StepScope scope(operators_);
    const std::vector<OperatorSet::Entry> &ops = operators_.entries();
    if (ops.size() == 1 && step_outputs_.empty()) { // the only operator: direct records
      callDirect(*ops[0].matcher, [&](Matcher &m) { m.advanceTo(time, watermark, step_outputs_); });
      stamp(0, ops[0].id);
    } else {
      for (const OperatorSet::Entry &op : ops) {
        std::size_t from = step_outputs_.size();
        op.matcher->advanceTo(time, watermark, step_outputs_); // no call when nothing is due
        stamp(from, op.id);
      }
    }
  }
  time_ = time;
  events_since_advance_ = false;
  return writeStep();
}

bool Driver::onLate(const EventRef &event, bool &taken) {
  taken = false;
  if (pool_ != nullptr) {
    return pool_->late(event, operators_.forType(event->type), taken);
  }
  {
    OperatorSet::StepScope scope(operators_);
    for (const OperatorSet::Entry &op : operators_.forType(event->type)) {
      std::size_t from = step_outputs_.size();
      taken = op.matcher->onLateEvent(event, step_outputs_) || taken;
      stamp(from, op.id);
    }
  }
  return writeStep();
}

bool Driver::finish() {
  buffer_.finish();
  if (time_mode_ == TimeMode::Event && !release(kEndWatermark)) {
    return false;
  }
  // An event no operator reads was dropped, not released; released, it would have advanced
  // time to its own before the end (docs/semantics.md §3), so what its time passes is not
  // settled by the end. (Earlier ones are covered by the later events' and watermarks' steps.)
  if (time_mode_ == TimeMode::Event && unread_until_ > time_ &&
      (!applyChanges(unread_until_) || !step(unread_until_))) {
    return false;
  }
  if (pool_ != nullptr) {
    bool ok = pool_->finish(at_end_) && pool_->sync();
    at_end_fired_ = pool_->atEndFired();
    at_end_dropped_ = pool_->atEndDropped();
    if (at_end_ == AtEnd::Fire) {
      time_ = kEndOfTime;
    }
    return ok;
  }
  std::size_t settled = step_outputs_.size(); // 0: release wrote its steps
  {
    OperatorSet::StepScope scope(operators_);
    // One operator with nothing pending: its records may be written directly, as in the steps,
    // the sink marking them "@at_end" (what it writes as MatchOutputs is marked below).
    const bool direct = at_end_ == AtEnd::Fire && settled == 0 && operators_.size() == 1;
    for (const OperatorSet::Entry &op : operators_.entries()) {
      std::size_t from = step_outputs_.size();
      if (direct) {
        std::uint64_t marked = out_.markedLines();
        out_.markLinesAtEnd(true);
        callDirect(*op.matcher, [&](Matcher &m) { m.finish(step_outputs_); });
        out_.markLinesAtEnd(false);
        at_end_fired_ += out_.markedLines() - marked;
      } else {
        op.matcher->finish(step_outputs_);
      }
      stamp(from, op.id);
    }
  }
  if (at_end_ == AtEnd::Drop) {
    at_end_dropped_ += step_outputs_.size() - settled;
    step_outputs_.resize(settled);
    return writeStep();
  }
  for (std::size_t i = settled; i < step_outputs_.size(); ++i) {
    std::string &json = step_outputs_[i].json;
    CEP_ASSERT(!json.empty() && json.back() == '}', "an output record is one JSON object");
    json.insert(json.size() - 1, R"(,"@at_end":true)");
    ++at_end_fired_;
  }
  time_ = kEndOfTime;
  return writeStep();
}

std::int64_t Driver::nextTimer() const {
  if (pool_ != nullptr) {
    return pool_->nextTimer(); // the caller synced it
  }
  std::int64_t next = kEndOfTime;
  for (const OperatorSet::Entry &op : operators_.entries()) {
    next = std::min(next, op.matcher->nextTimer());
  }
  return next;
}

bool Driver::writeOutputs() {
  if (!step_outputs_.empty()) {
    // Usually one record, or records already in order (one operator, one key): no sort, and
    // no temporary buffer for it.
    if (!std::is_sorted(step_outputs_.begin(), step_outputs_.end(), MatchOutput::before)) {
      std::stable_sort(step_outputs_.begin(), step_outputs_.end(), MatchOutput::before);
    }
    for (const MatchOutput &output : step_outputs_) {
      out_.writeLine(output.json);
    }
    step_outputs_.clear();
    if (flush_each_step_) {
      out_.flush();
    }
  }
  return !out_.failed();
}

} // namespace cep::runtime
