// The native matcher's driver: runs, keys, timers, held matches and skip pruning over the
// compact layout of native_matcher_impl.hpp, a faithful port of the reference interpreter's
// algorithm (compiler/interp/nfa_matcher.cpp) with the transitions of every state computed by
// the pattern's generated step function.
#include "runtime/native/native_matcher.hpp"

#include "runtime/native/native_matcher_impl.hpp"
#include "runtime/native/native_record.hpp"
#include "support/internal_error.hpp"
#include "support/time_arith.hpp"

#include <algorithm>
#include <optional>

namespace cep::runtime::native {

namespace {

// Key expiries: the earliest (expiry, last arrival) first.
struct ExpiryLater {
  template <typename T> bool operator()(const T &a, const T &b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

// A pattern without `partition by` has one key (image.hpp): these stand in when the code
// leaves its key functions out.
std::uint64_t oneKeyHash(const Event *) {
  return 0;
}
std::uint8_t oneKeyEq(const Event *, const Event *) {
  return 1;
}

} // namespace

std::unique_ptr<Matcher> makeNativeMatcher(std::shared_ptr<const Schema> schema,
                                           std::shared_ptr<const PatternImage> image,
                                           PatternCode code, MatcherOptions options) {
  return std::make_unique<NativeMatcher>(std::move(schema), std::move(image), std::move(code),
                                         options);
}

NativeMatcher::NativeMatcher(std::shared_ptr<const Schema> schema,
                             std::shared_ptr<const PatternImage> image, PatternCode code,
                             MatcherOptions options)
    : schema_(std::move(schema)), image_(std::move(image)), code_(std::move(code)),
      options_(options), view_(nodes_, image_ ? image_->steps.size() : 0) {
  CEP_ASSERT(schema_ && image_, "native matcher without a schema or image");
  const PatternImage &img = *image_;
  CEP_ASSERT(img.start >= 0 && static_cast<std::size_t>(img.start) < img.states.size(),
             "pattern image without a start state: " + img.name);
  if (!img.keyed && code_.key_hash == nullptr && code_.key_eq == nullptr) {
    code_.key_hash = &oneKeyHash;
    code_.key_eq = &oneKeyEq;
  }
  CEP_ASSERT(code_.step && code_.key_hash && code_.key_eq,
             "pattern code without step or key functions: " + img.name);
  CEP_ASSERT(
      code_.emit.size() == img.emit.fields.size() &&
          (!img.has_timeout_emit || code_.timeout_emit.size() == img.timeout_emit.fields.size()),
      "pattern code without its emit functions: " + img.name);
  for (std::uint32_t t : img.event_types) {
    if (t >= uses_type_.size()) {
      uses_type_.resize(t + 1, false);
    }
    uses_type_[t] = true;
  }
  for (const StateInfo &s : img.states) {
    completes_at_end_.push_back(s.completes_at_end || s.kind == StateKind::Pending);
    kinds_.push_back(s.kind);
    within_.push_back(s.within_ms);
    state_bounds_ = state_bounds_ || s.within_ms != kNoBound;
    CEP_ASSERT(s.step < static_cast<std::int32_t>(img.steps.size()),
               "state of an unknown step: " + s.name);
  }
  branches_.resize(std::max<std::uint32_t>(img.max_branches, 1));
  if (options_.bounds.max_state_bytes != 0) {
    nodes_.trackDistinct(&distinct_);
  }
  match_writer_.emplace(schema_, image_, img.emit, code_.emit, options_.with_events,
                        options_.version);
  if (img.has_timeout_emit) {
    timeout_writer_.emplace(schema_, image_, img.timeout_emit, code_.timeout_emit,
                            options_.with_events, options_.version);
  }
}

NativeMatcher::~NativeMatcher() {
  clear();
  releaseFreed();
}

void NativeMatcher::clear() {
  for (std::uint32_t k = 0; k < keys_.size(); ++k) {
    Key &key = keys_[k];
    if (key.rep == nullptr) {
      continue;
    }
    releaseRuns(key.runs);
    for (Held &m : key.held) {
      nodes_.release(m.last);
    }
    key.held.clear();
    if (track_) {
      freed_.push_back(key.rep); // the reference moves: exportChanges reports it erased
    } else {
      release(key.rep);
    }
    key.rep = nullptr;
  }
  keys_.clear();
  last_.clear();
  dirty_.clear(); // the slots are gone
  free_keys_.clear();
  table_ = KeyTable();
  timers_.clear();
  ttl_.clear();
  live_runs_ = 0;
  live_keys_ = 0;
  held_ = 0;
}

// --- transitions (Flink: computeNextStates) ---------------------------------------------------

std::int64_t NativeMatcher::deadlineOf(const Run &r) const {
  std::int64_t deadline = kNoDeadline;
  if (image_->within_ms != kNoBound) {
    deadline = cep::time::deadlineAfter(startOf(r.first).first, image_->within_ms);
  }
  std::int64_t within = within_[r.state];
  if (within != kNoBound) {
    deadline = std::min(deadline, cep::time::deadlineAfter(prevTime(r), within));
  }
  return deadline;
}

inline void NativeMatcher::addRun(Run r, std::int64_t match_deadline, std::int64_t prev_time,
                                  bool &discard) {
  // deadlineOf(r), from times the caller has at hand (no read of the run's first or last event).
  r.deadline = match_deadline;
  std::int64_t within = within_[r.state];
  if (within != kNoBound) {
    r.deadline = std::min(r.deadline, cep::time::deadlineAfter(prev_time, within));
  }
  switch (kinds_[r.state]) {
  case StateKind::Final:
    completed_.push_back(r);
    break;
  case StateKind::Stop:
    discard = true;
    nodes_.release(r.last);
    break;
  default:
    retained_.push_back(r);
    break;
  }
}

bool NativeMatcher::nextRuns(const Run &run, bool is_start, const Event &e, bool keep_in_place) {
  view_.reset(run.last);
  std::uint8_t discard_flag = 0;
  std::uint32_t n = code_.step(&e, &view_, run.state, run.counter, branches_.data(), &discard_flag);
  if (n == 0) {
    return false; // no run follows (and a discard has nothing to drop)
  }
  if (n == 1 && !is_start && discard_flag == 0 && branches_[0].take == 0 &&
      branches_[0].target == static_cast<std::int32_t>(run.state) &&
      branches_[0].counter == run.counter) {
    // The state's IGNORE self-loop, the usual step of a waiting run: it stays exactly as it is
    // (same nodes, state and counter, so the same deadline).
    if (keep_in_place) {
      return true; // the caller leaves it in the key's list
    }
    nodes_.retain(run.last);
    retained_.push_back(run);
    return false;
  }
  CEP_ASSERT(n <= branches_.size(), "step function wrote too many branches: " + image_->name);
  bool discard = discard_flag != 0;
  // Every run that follows shares `run`'s first event (or starts at `e`), so the pattern's
  // whole-match deadline (its start plus `within`) is the same for all: without a state bound
  // of its own it is exactly `run`'s deadline (deadlineOf), so the first event, usually long
  // out of the cache, is not read.
  std::int64_t match_deadline = kNoDeadline;
  if (image_->within_ms != kNoBound) {
    if (is_start) {
      match_deadline = cep::time::deadlineAfter(e.time, image_->within_ms);
    } else if (!state_bounds_) {
      match_deadline = run.deadline;
    } else {
      match_deadline = cep::time::deadlineAfter(startOf(run.first).first, image_->within_ms);
    }
  }
  // The runs that follow go straight to retained_ (completed ones to completed_); they are
  // dropped again from `mark` on when a Stop state discards them.
  const std::size_t mark = retained_.size();
  const std::size_t state_count = kinds_.size();
  for (std::uint32_t i = 0; i < n; ++i) {
    const CepBranch &b = branches_[i];
    CEP_ASSERT(b.target >= 0 && static_cast<std::size_t>(b.target) < state_count && b.source >= 0 &&
                   static_cast<std::size_t>(b.source) < state_count,
               "branch to an unknown state in " + image_->name);
    if (b.take == 0) {
      if (is_start) {
        continue; // the start state never ignores: a new run starts at every event anyway
      }
      nodes_.retain(run.last);
      addRun(Run{kNoDeadline, static_cast<std::uint32_t>(b.target), b.counter, run.last, run.first},
             match_deadline, prevTime(run), discard);
      continue;
    }
    // TAKE: bind the event to the source state's step, within that step's own time bound.
    const auto source = static_cast<std::size_t>(b.source);
    std::int64_t within = within_[source];
    if (!is_start && within != kNoBound &&
        e.time >= cep::time::deadlineAfter(prevTime(run), within)) {
      continue;
    }
    std::int32_t step = image_->states[source].step;
    CEP_ASSERT(step >= 0, "TAKE edge in a state without a step: " + image_->states[source].name);
    std::uint32_t node = nodes_.bind(&e, step, run.last);
    Run r{kNoDeadline, static_cast<std::uint32_t>(b.target), b.counter, node,
          is_start ? node : run.first};
    if (b.final_state >= 0) {
      CEP_ASSERT(static_cast<std::size_t>(b.final_state) < state_count,
                 "branch to an unknown final state in " + image_->name);
      Run f = r;
      f.state = static_cast<std::uint32_t>(b.final_state);
      nodes_.retain(node);
      addRun(f, match_deadline, e.time, discard);
    }
    addRun(r, match_deadline, e.time, discard);
  }
  if (discard) {
    for (std::size_t i = mark; i < retained_.size(); ++i) {
      nodes_.release(retained_[i].last);
    }
    retained_.resize(mark);
  }
  return false;
}

void NativeMatcher::chainPlaces(std::uint32_t last, std::vector<EventPlace> &places) const {
  std::size_t n = 0;
  for (std::uint32_t i = last; i != kNoNode; i = nodes_[i].prev) {
    ++n;
  }
  places.resize(n);
  for (std::uint32_t i = last; i != kNoNode; i = nodes_[i].prev) {
    const Event &e = *nodes_[i].event;
    places[--n] = {e.time, e.seq};
  }
}

void NativeMatcher::releaseRuns(RunList &runs) {
  for (const Run &r : runs) {
    nodes_.release(r.last);
  }
  runs.clear();
}

// --- keys and timers --------------------------------------------------------------------------

std::uint32_t NativeMatcher::newKey(std::uint64_t hash, const Event *rep) {
  std::uint32_t k;
  if (!free_keys_.empty()) {
    k = free_keys_.back();
    free_keys_.pop_back();
  } else {
    k = static_cast<std::uint32_t>(keys_.size());
    keys_.emplace_back();
  }
  Key &key = keys_[k];
  retain(rep);
  key.rep = rep;
  key.timer = kNoDeadline;
  if (k < last_.size()) {
    last_[k] = LastEvent{}; // a reused slot
  }
  table_.insert(hash, k);
  ++live_keys_;
  markChanged(k);
  stats_.peak_keys = std::max(stats_.peak_keys, live_keys_);
  return k;
}

void NativeMatcher::freeKey(std::uint32_t k) {
  Key &key = keys_[k];
  table_.erase(code_.key_hash(key.rep), k); // the slot keeps no hash: recomputed
  if (track_) {
    freed_.push_back(key.rep); // the reference moves: exportChanges reports it erased
  } else {
    release(key.rep);
  }
  key.rep = nullptr;
  key.runs.reset(); // a heap block (two or more runs once) goes back
  ++key.gen;
  --live_keys_;
  free_keys_.push_back(k);
}

std::string NativeMatcher::keyJson(const Key &key) const {
  std::string s;
  appendKeyJson(s, *schema_, *image_, *key.rep);
  return s;
}

void NativeMatcher::setRuns(Key &key, const std::vector<Run> &runs) {
  live_runs_ -= key.runs.size();
  releaseRuns(key.runs);
  key.runs.assign(runs.data(), runs.size());
  live_runs_ += key.runs.size();
}

void NativeMatcher::pushTimer(std::uint32_t k) {
  timers_.push(Timer{keys_[k].timer, k, keys_[k].gen});
  // Stale entries pile up as timers move: drop them once they outnumber the live keys.
  if (timers_.size() > 64 && timers_.size() > 4 * live_keys_) {
    timers_.removeIf([&](const Timer &t) { return !timerValid(t); });
  }
}

std::int64_t NativeMatcher::earliestDeadline(const Key &key) const {
  std::int64_t next = kNoDeadline;
  for (const Run &r : key.runs) {
    next = std::min(next, r.deadline);
  }
  return next;
}

void NativeMatcher::reschedule(std::uint32_t k) {
  Key &key = keys_[k];
  if (key.runs.empty() && key.held.empty()) {
    key.timer = kNoDeadline; // its entry, if any, is stale once the slot is freed
    freeKey(k);
    return;
  }
  // Only an earlier deadline needs a new entry: when the earliest moved later (its run ended),
  // the key's entry stays and is moved when it comes due (settle), usually never (the key's
  // runs end before, or the key is freed).
  std::int64_t next = earliestDeadline(key);
  if (next < key.timer) {
    key.timer = next;
    pushTimer(k);
  }
}

bool NativeMatcher::settle(const Timer &t) {
  Key &key = keys_[t.key];
  key.timer = kNoDeadline; // the entry is gone: expire's reschedule pushes the next one
  std::int64_t next = earliestDeadline(key);
  if (next <= t.deadline) {
    return true; // next == t.deadline: an entry is never later than the key's earliest deadline
  }
  key.timer = next;
  if (next != kNoDeadline) {
    pushTimer(t.key);
  }
  return false;
}

// --- time (Flink: advanceTime) ----------------------------------------------------------------

void NativeMatcher::advanceTime(std::int64_t time, std::vector<MatchOutput> &out) {
  advance(time, out);
  refreshDue();
}

std::int64_t NativeMatcher::nextTimer() const {
  // --key-ttl: the earliest expiry entry (a key that saw an event since expires later: waking
  // at this time only moves its entry).
  std::int64_t expiry = ttl_.empty() ? kEndOfTime : ttl_.front().at;
  if (timers_.empty()) {
    return expiry;
  }
  const Timer &top = timers_.top();
  if (timerValid(top) && earliestDeadline(keys_[top.key]) == top.deadline) {
    return std::min(expiry, top.deadline); // the usual case
  }
  // The top is stale (its key was rescheduled or freed; fireDue drops such entries) or earlier
  // than its key's earliest deadline (settle moves it): the earliest deadline of the keys with
  // a live entry (every key with runs has exactly one).
  std::int64_t next = kEndOfTime;
  timers_.forEach([&](const Timer &t) {
    if (timerValid(t)) {
      next = std::min(next, earliestDeadline(keys_[t.key]));
    }
  });
  return std::min(expiry, next);
}

bool NativeMatcher::fireDue(std::int64_t time, std::vector<MatchOutput> &out) {
  // Deadlines fire in order, each at its own time (ties across keys in any order). Key expiries
  // (--key-ttl) take their turn among them: at equal times the deadlines first, expiries by the
  // keys' last arrival (the interpreter's order).
  bool fired = false;
  for (;;) {
    while (!timers_.empty() && !timerValid(timers_.top())) {
      timers_.pop();
    }
    const Expiry *due = ttl_.empty() ? nullptr : dueExpiry(time);
    bool timer_due = !timers_.empty() && timers_.top().deadline <= time;
    if (timer_due && (due == nullptr || timers_.top().deadline <= due->at)) {
      Timer t = timers_.top();
      timers_.pop();
      if (!settle(t)) {
        continue; // the key's entry moved to its earliest deadline
      }
      expire(t.key, t.deadline, out);
    } else if (due != nullptr) {
      Expiry x = *due;
      std::pop_heap(ttl_.begin(), ttl_.end(), ExpiryLater());
      ttl_.pop_back();
      ttlDrop(x.key, x.at, out);
    } else {
      break;
    }
    fired = true;
  }
  return fired;
}

// --- key TTL (docs/semantics.md §9) -----------------------------------------------------------

void NativeMatcher::touch(std::uint32_t k, const Event &e) {
  LastEvent &last = lastRef(k);
  bool fresh = last.time == INT64_MIN;
  last.time = std::max(last.time, e.time);
  last.seq = e.seq;
  markChanged(k); // the record holds the last event
  if (fresh) {
    pushExpiry(k);
  }
}

void NativeMatcher::pushExpiry(std::uint32_t k) {
  const LastEvent last = lastOf(k);
  ttl_.push_back(Expiry{expiryOf(last.time), last.seq, k, keys_[k].gen});
  std::push_heap(ttl_.begin(), ttl_.end(), ExpiryLater());
  // Entries of freed keys pile up: drop them once they outnumber the live keys.
  if (ttl_.size() > 64 && ttl_.size() > 4 * live_keys_) {
    ttl_.erase(std::remove_if(ttl_.begin(), ttl_.end(),
                              [&](const Expiry &x) {
                                const Key &o = keys_[x.key];
                                return o.rep == nullptr || o.gen != x.gen;
                              }),
               ttl_.end());
    std::make_heap(ttl_.begin(), ttl_.end(), ExpiryLater());
  }
}

const NativeMatcher::Expiry *NativeMatcher::dueExpiry(std::int64_t time) {
  while (!ttl_.empty() && ttl_.front().at <= time) {
    const Expiry &top = ttl_.front();
    const Key &key = keys_[top.key];
    if (key.rep != nullptr && key.gen == top.gen && lastOf(top.key).seq == top.seq) {
      return &top; // the key's current last event: due
    }
    Expiry x = top;
    std::pop_heap(ttl_.begin(), ttl_.end(), ExpiryLater());
    ttl_.pop_back();
    if (key.rep != nullptr && key.gen == x.gen) {
      pushExpiry(x.key); // the key saw an event since: its entry moves to its current expiry
    }
  }
  return nullptr;
}

void NativeMatcher::ttlDrop(std::uint32_t k, std::int64_t at, std::vector<MatchOutput> &out) {
  markChanged(k);
  Key &key = keys_[k];
  for (const Run &r : key.runs) { // in start order, as the other bounds evict
    evict(key, r, EvictReason::Ttl, at);
  }
  live_runs_ -= key.runs.size();
  key.runs.clear();
  expired_.clear();
  processMatches(k, expired_, Completion{at, true, 0}, out); // releases every held match
  reschedule(k);                                             // frees the key
}

void NativeMatcher::rebuildExpiries() {
  ttl_.clear();
  if (options_.bounds.key_ttl_ms == 0) {
    return;
  }
  for (std::uint32_t k = 0; k < keys_.size(); ++k) {
    const LastEvent last = lastOf(k);
    if (keys_[k].rep != nullptr && last.time != INT64_MIN) {
      ttl_.push_back(Expiry{expiryOf(last.time), last.seq, k, keys_[k].gen});
    }
  }
  std::make_heap(ttl_.begin(), ttl_.end(), ExpiryLater());
}

void NativeMatcher::expire(std::uint32_t k, std::int64_t deadline, std::vector<MatchOutput> &out) {
  markChanged(k); // at least the run whose deadline this is ends
  Key &key = keys_[k];
  expired_.clear();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < key.runs.size(); ++i) {
    Run r = key.runs[i];
    if (r.deadline > deadline) {
      key.runs[kept++] = r;
    } else if (kinds_[r.state] == StateKind::Pending) {
      expired_.push_back(r); // absence: the window passed without the event
    } else {
      emitTimeout(key, r, out);
      nodes_.release(r.last);
    }
  }
  live_runs_ -= key.runs.size() - kept;
  key.runs.truncate(kept);
  processMatches(k, expired_, Completion{deadline, true, 0}, out);
  reschedule(k);
}

// --- events (Flink: doProcess) ----------------------------------------------------------------

void NativeMatcher::onEvent(const EventRef &event, std::vector<MatchOutput> &out) {
  DueRefresh due{*this};
  const Event &e = *event;
  if (e.type >= uses_type_.size() || !uses_type_[e.type]) {
    return; // not in this pattern's stream (docs/semantics.md §1)
  }
  advance(e.time, out);
  ++stats_.events;
  const bool ttl = options_.bounds.key_ttl_ms != 0;
  // 0: nothing changes; 2: the start state takes nothing (image.hpp CepPrefilterFn).
  const std::uint8_t filter = code_.prefilter != nullptr ? code_.prefilter(&e) : 1;
  if (filter == 0) {
    if (ttl) { // the event still keeps its key alive
      std::uint32_t k = table_.find(code_.key_hash(&e), [&](std::uint32_t slot) {
        return code_.key_eq(&e, keys_[slot].rep);
      });
      if (k != KeyTable::kNone) {
        touch(k, e);
      }
    }
    return; // no run changes and none starts (advanceTime sampled the peaks)
  }
  std::uint64_t hash = code_.key_hash(&e);
  std::uint32_t k =
      table_.find(hash, [&](std::uint32_t slot) { return code_.key_eq(&e, keys_[slot].rep); });
  const bool starts = !draining_ && filter != 2; // a draining matcher starts no run (§10)
  if (k == KeyTable::kNone && !starts) {
    return; // no run of this key, and the event starts none
  }
  retained_.clear();
  completed_.clear();
  // The key's runs that the event leaves exactly as they are (their IGNORE self-loop) stay in
  // the key's list: `kept` counts the leading ones; once a run changes, they are copied to
  // retained_ ahead of its successors and the rest go through retained_ as before.
  std::size_t kept = 0;
  bool all_kept = true;
  if (k != KeyTable::kNone) {
    // nextRuns never touches keys_, so the reference stays valid.
    const RunList &runs = keys_[k].runs;
    for (const Run &r : runs) {
      if (!all_kept) {
        nextRuns(r, false, e, false);
      } else if (nextRuns(r, false, e, true)) {
        ++kept;
      } else {
        all_kept = false;
        for (std::size_t i = 0; i < kept; ++i) {
          nodes_.retain(runs[i].last);
        }
        retained_.insert(retained_.begin(), runs.begin(),
                         runs.begin() + static_cast<std::ptrdiff_t>(kept));
      }
    }
  }
  if (starts) {
    nextRuns(Run{kNoDeadline, static_cast<std::uint32_t>(image_->start), 0, kNoNode, kNoNode}, true,
             e, false);
  }
  if (k == KeyTable::kNone && retained_.empty() && completed_.empty()) {
    return; // nothing changed (runs that were started and discarded left nothing behind)
  }
  if (k != KeyTable::kNone && all_kept && retained_.empty() && completed_.empty() &&
      keys_[k].held.empty()) {
    // Every run stays as it is and none starts or completes: the key's state is unchanged.
    if (ttl) {
      touch(k, e);
    }
    return;
  }
  if (k == KeyTable::kNone) {
    k = newKey(hash, &e); // marked changed when tracking
  } else if (track_ && (!completed_.empty() || !keys_[k].held.empty() ||
                        (all_kept ? !retained_.empty() : !sameRuns(keys_[k].runs, retained_)))) {
    markChanged(k);
  }
  if (ttl) {
    touch(k, e);
  }
  if (all_kept) {
    // The key's runs (if any) stay; the new ones follow them.
    Key &key = keys_[k];
    key.runs.append(retained_.data(), retained_.size());
    live_runs_ += retained_.size();
  } else {
    setRuns(keys_[k], retained_);
  }
  retained_.clear();
  const std::uint64_t max_runs = options_.bounds.max_runs_per_key;
  if (max_runs != 0 && keys_[k].runs.size() > max_runs) {
    markChanged(k);
    evictOldest(keys_[k], keys_[k].runs.size() - max_runs, EvictReason::RunsPerKey);
  }
  processMatches(k, completed_, Completion{e.time, false, e.seq}, out);
  reschedule(k);
  // A run can reach a state whose step bound has already passed: it ends now.
  fireUntil(e.time, out);
  if (options_.bounds.max_state_bytes != 0 && accountedBytes() > options_.bounds.max_state_bytes) {
    boundStateBytes(Completion{e.time, false, e.seq}, out);
  }
  updatePeaks();
}

// --- state bounds (docs/semantics.md §9) ------------------------------------------------------

void NativeMatcher::evict(const Key &key, const Run &run, EvictReason reason, std::int64_t at) {
  ++stats_.evicted;
  ++stats_.evicted_by[static_cast<std::size_t>(reason)];
  if (options_.evictions != nullptr) {
    std::string record;
    std::string key_json = keyJson(key);
    if (options_.evictions->wantsRecords()) {
      std::vector<std::string_view> steps;
      std::vector<bool> negated;
      for (const StepInfo &step : image_->steps) {
        steps.push_back(step.name);
        negated.push_back(step.negated);
      }
      std::vector<EvictedEvent> events;
      for (std::uint32_t n = run.last; n != kNoNode; n = nodes_[n].prev) {
        events.push_back({nodes_[n].step, nodes_[n].event});
      }
      std::reverse(events.begin(), events.end());
      appendEvictedRecord(record, image_->name, key_json, reason, image_->states[run.state].name,
                          startOf(run.first).first, at, steps, negated, events);
    }
    options_.evictions->evicted(image_->name, reason, key_json, record);
  }
  nodes_.release(run.last);
}

void NativeMatcher::evictOldest(Key &key, std::size_t count, EvictReason reason) {
  // Runs are kept in start order; the stable sort only makes "oldest" explicit (ties keep
  // their creation order).
  auto before = [&](const Run &a, const Run &b) { return startsBefore(a, b); };
  if (!std::is_sorted(key.runs.begin(), key.runs.end(), before)) {
    std::stable_sort(key.runs.begin(), key.runs.end(), before);
  }
  count = std::min(count, key.runs.size());
  for (std::size_t i = 0; i < count; ++i) {
    evict(key, key.runs[i], reason, currentTime());
  }
  key.runs.erasePrefix(count);
  live_runs_ -= count;
}

void NativeMatcher::boundStateBytes(const Completion &when, std::vector<MatchOutput> &out) {
  // The pattern's runs oldest first: by (start time, start arrival), then creation order within
  // a key (runs of different keys never share a start event), merged from each key's runs in
  // start order through a heap of the keys' next candidates.
  struct Next {
    Pos start;
    std::uint32_t key;
    std::size_t index;   // of the key's next run to evict
    std::size_t touched; // the key's entry in `touched` (once it has one)
  };
  auto later = [](const Next &a, const Next &b) { return a.start > b.start; };
  auto before = [&](const Run &a, const Run &b) { return startsBefore(a, b); };
  std::vector<Next> heap;
  for (std::uint32_t k = 0; k < keys_.size(); ++k) {
    Key &key = keys_[k];
    if (key.rep == nullptr || key.runs.empty()) {
      continue;
    }
    if (!std::is_sorted(key.runs.begin(), key.runs.end(), before)) {
      std::stable_sort(key.runs.begin(), key.runs.end(), before);
      markChanged(k); // the order of its runs is part of its state
    }
    heap.push_back({startOf(key.runs.front().first), k, 0, 0});
  }
  std::make_heap(heap.begin(), heap.end(), later);
  // Evicted runs are a prefix of each key's runs; keys in order of their first eviction.
  std::vector<std::pair<std::uint32_t, std::size_t>> touched;
  while (!heap.empty() && accountedBytes() > options_.bounds.max_state_bytes) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Next n = heap.back();
    heap.pop_back();
    Key &key = keys_[n.key];
    evict(key, key.runs[n.index], EvictReason::StateBytes, currentTime());
    --live_runs_; // the run is erased below
    if (n.index == 0) {
      n.touched = touched.size();
      touched.emplace_back(n.key, 0);
    }
    touched[n.touched].second = ++n.index;
    if (n.index < key.runs.size()) {
      n.start = startOf(key.runs[n.index].first);
      heap.push_back(n);
      std::push_heap(heap.begin(), heap.end(), later);
    }
  }
  for (auto &[k, evicted] : touched) {
    markChanged(k);
    Key &key = keys_[k];
    key.runs.erasePrefix(evicted);
    completed_.clear();
    processMatches(k, completed_, when, out);
    reschedule(k); // may free the key
  }
}

// --- completed matches (Flink: processMatchesAccordingToSkipStrategy) ------------------------

bool NativeMatcher::heldBefore(const Held &a, const Held &b) const {
  Pos pa = startOf(a.first), pb = startOf(b.first);
  if (pa != pb) {
    return pa < pb;
  }
  return a.places < b.places;
}

void NativeMatcher::processHeld(std::uint32_t k, std::vector<Run> &completed,
                                const Completion &when, std::vector<MatchOutput> &out) {
  Key &key = keys_[k];
  if (image_->skip == Skip::None && key.held.empty() && completed.size() == 1) {
    // Without a skip strategy nothing is held: the one completed run is its match at once
    // (no Held, no list to insert into and erase from).
    const Run &r = completed.front();
    MatchOutput &o = emitMatch(key, r.first, r.last, when, out);
    chainPlaces(r.last, o.events);
    nodes_.release(r.last);
    completed.clear();
    return;
  }
  for (const Run &r : completed) {
    Held m;
    m.last = r.last; // the reference moves over
    m.first = r.first;
    chainPlaces(r.last, m.places);
    auto at = std::upper_bound(key.held.begin(), key.held.end(), m,
                               [&](const Held &a, const Held &b) { return heldBefore(a, b); });
    key.held.insert(at, std::move(m));
    ++held_;
  }
  completed.clear();
  bool skips = image_->skip != Skip::None;
  while (!key.held.empty()) {
    if (skips && !key.runs.empty()) {
      // Held while a live partial match started strictly earlier.
      Pos earliest{INT64_MAX, UINT64_MAX};
      for (const Run &r : key.runs) {
        earliest = std::min(earliest, startOf(r.first));
      }
      if (startOf(key.held.front().first) > earliest) {
        break;
      }
    }
    Held m = std::move(key.held.front());
    key.held.erase(key.held.begin());
    --held_;
    if (skips) {
      prune(key, m);
    }
    emitMatch(key, m.first, m.last, when, out).events = std::move(m.places);
    nodes_.release(m.last);
  }
}

void NativeMatcher::prune(Key &key, const Held &released) {
  // Flink's AfterMatchSkipStrategy.prune: the pruning event of the match, and which starts it
  // discards (at or before it: past last, to next; strictly before it: to first/last s).
  std::optional<Pos> id;
  bool inclusive = true;
  auto posOf = [&](std::uint32_t n) {
    const Event *e = nodes_[n].event;
    return Pos{e->time, e->seq};
  };
  switch (image_->skip) {
  case Skip::None:
    return;
  case Skip::PastLast:
    id = posOf(released.last);
    break;
  case Skip::ToNext:
    id = posOf(released.first);
    break;
  case Skip::ToFirst:
  case Skip::ToLast:
    inclusive = false;
    // Walking back: the first node of the step found is its last event, the final one its first.
    for (std::uint32_t n = released.last; n != kNoNode; n = nodes_[n].prev) {
      if (nodes_[n].step == image_->skip_step) {
        if (image_->skip == Skip::ToFirst || !id) {
          id = posOf(n);
        }
      }
    }
    break;
  }
  if (!id) {
    return; // the step bound nothing: nothing is discarded
  }
  auto discarded = [&](std::uint32_t first) {
    Pos start = startOf(first);
    return inclusive ? start <= *id : start < *id;
  };
  std::size_t kept = 0;
  for (std::size_t i = 0; i < key.runs.size(); ++i) {
    const Run r = key.runs[i];
    if (discarded(r.first)) {
      nodes_.release(r.last);
    } else {
      key.runs[kept++] = r;
    }
  }
  live_runs_ -= key.runs.size() - kept;
  key.runs.truncate(kept);
  std::size_t before = key.held.size();
  key.held.erase(std::remove_if(key.held.begin(), key.held.end(),
                                [&](const Held &m) {
                                  if (!discarded(m.first)) {
                                    return false;
                                  }
                                  nodes_.release(m.last);
                                  return true;
                                }),
                 key.held.end());
  held_ -= before - key.held.size();
}

// --- end of input -----------------------------------------------------------------------------

void NativeMatcher::finish(std::vector<MatchOutput> &out) {
  DueRefresh due{*this};
  // Time advances to +infinity: every deadline fires in order.
  while (!timers_.empty()) {
    Timer t = timers_.top();
    timers_.pop();
    if (timerValid(t) && settle(t)) {
      expire(t.key, t.deadline, out);
    }
  }
  // Every other partial match ends: silently, or as a match when it waits for "no next event";
  // then every held match is released.
  for (std::uint32_t k = 0; k < keys_.size(); ++k) {
    if (keys_[k].rep == nullptr) {
      continue;
    }
    markChanged(k);
    Key &key = keys_[k];
    expired_.clear();
    for (const Run &r : key.runs) {
      if (completes_at_end_[r.state]) {
        expired_.push_back(r);
      } else {
        nodes_.release(r.last);
      }
    }
    live_runs_ -= key.runs.size();
    key.runs.clear();
    processMatches(k, expired_, Completion{kEndOfTime, true, 0}, out);
    reschedule(k);
  }
  time_ = kEndOfTime;
  updatePeaks();
}

// --- serving (docs/semantics.md §10) ----------------------------------------------------------

std::uint64_t NativeMatcher::dropState() {
  const std::uint64_t dropped = live_runs_ + held_;
  clear();
  refreshDue();
  stats_.dropped += dropped;
  return dropped;
}

// --- output -----------------------------------------------------------------------------------

MatchOutput &NativeMatcher::emitMatch(const Key &key, std::uint32_t first, std::uint32_t last,
                                      const Completion &when, std::vector<MatchOutput> &out) {
  MatchOutput o;
  o.completion_time = when.time;
  o.time_driven = when.time_driven;
  o.completion_seq = when.seq;
  Pos start = startOf(first);
  o.start_time = start.first;
  o.start_seq = start.second;
  view_.reset(last);
  match_writer_->append(o.json, *key.rep, start.first, nodes_[last].event->time, false, view_);
  out.push_back(std::move(o));
  ++stats_.matches;
  return out.back();
}

void NativeMatcher::emitTimeout(const Key &key, const Run &run, std::vector<MatchOutput> &out) {
  if (!image_->has_timeout_emit) {
    return; // discarded silently
  }
  MatchOutput o;
  o.completion_time = run.deadline;
  o.time_driven = true;
  Pos start = startOf(run.first);
  o.start_time = start.first;
  o.start_seq = start.second;
  chainPlaces(run.last, o.events);
  view_.reset(run.last);
  timeout_writer_->append(o.json, *key.rep, start.first, run.deadline, true, view_);
  out.push_back(std::move(o));
  ++stats_.timeouts;
}

// --- statistics -------------------------------------------------------------------------------

std::uint64_t NativeMatcher::stateBytes() const {
  // A run counts its 24 bytes wherever it lives (inline in its key's slot or in the key's heap
  // block); a key the rest of its slot.
  return live_runs_ * sizeof(Run) + held_ * sizeof(Held) + nodes_.live() * sizeof(Node) +
         nodes_.eventBytes() + timers_.size() * sizeof(Timer) + ttl_.size() * sizeof(Expiry) +
         live_keys_ * (sizeof(Key) - sizeof(Run)) + table_.bytes() +
         last_.size() * sizeof(LastEvent);
}

MatcherStats NativeMatcher::stats() const {
  MatcherStats s = stats_;
  s.live_runs = live_runs_;
  s.live_keys = live_keys_;
  s.bound_events = nodes_.live();
  std::uint64_t bytes = stateBytes();
  s.state_bytes = bytes;
  s.bound_event_bytes = nodes_.eventBytes();
  s.peak_state_bytes = std::max(s.peak_state_bytes, bytes);
  return s;
}

} // namespace cep::runtime::native
