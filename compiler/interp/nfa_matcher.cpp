#include "compiler/interp/nfa_matcher.hpp"

#include "compiler/interp/record.hpp"
#include "runtime/io/json_writer.hpp"
#include "support/internal_error.hpp"
#include "support/time_arith.hpp"

#include <algorithm>
#include <optional>
#include <tuple>

namespace cep::compiler::interp {

using nfa::EdgeKind;
using nfa::Guard;
using nfa::StateKind;
using runtime::MatchOutput;

namespace {

// Loop counter after following `edge` from a state whose run had `counter`.
std::uint32_t counterAfter(const nfa::Edge &edge, std::uint32_t counter) {
  if (edge.counts) {
    ++counter;
  }
  if (edge.resets_counter) {
    counter = 0;
  }
  return counter;
}

// Events compare by (time, arrival): the order in which the matcher sees them.
using EventPos = std::pair<std::int64_t, std::uint64_t>;

EventPos posOf(const runtime::Event &e) {
  return {e.time, e.seq};
}

// The map entry of a key: its node, the KeyState and the key text (twice).
std::uint64_t keyBytes(const std::string &key) {
  return sizeof(KeyState) + 2 * key.size() + 48;
}

bool heldBefore(const HeldMatch &a, const HeldMatch &b) {
  return std::tie(a.start_time, a.start_seq, a.places) <
         std::tie(b.start_time, b.start_seq, b.places);
}

} // namespace

InterpMatcher::InterpMatcher(const lang::typed::Program &program, std::int32_t pattern_index,
                             nfa::Nfa nfa, runtime::MatcherOptions options)
    : program_(program), pattern_(program.patterns.at(static_cast<std::size_t>(pattern_index))),
      nfa_(std::move(nfa)), options_(options), evaluator_(program) {
  CEP_ASSERT(nfa_.start >= 0 && static_cast<std::size_t>(nfa_.start) < nfa_.states.size(),
             "NFA without a start state");
  CEP_ASSERT(nfa_.program == nullptr || nfa_.program == &program_,
             "NFA of another program (its guards point into that one)");
  uses_type_.assign(program_.event_types.size(), false);
  for (const auto &step : pattern_.steps) {
    if (step.event_type >= 0 && !uses_type_[static_cast<std::size_t>(step.event_type)]) {
      uses_type_[static_cast<std::size_t>(step.event_type)] = true;
    }
  }
  for (std::size_t t = 0; t < uses_type_.size(); ++t) {
    if (uses_type_[t]) {
      event_types_.push_back(static_cast<std::uint32_t>(t));
    }
  }
  // A run completes at end of input when it waits in a pending (absence) state or in the
  // NOT_NEXT state of a `, not n` at the end (docs/semantics.md §4).
  completes_at_end_.assign(nfa_.states.size(), false);
  for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
    const nfa::State &state = nfa_.states[s];
    for (const auto &edge : state.edges) {
      CEP_ASSERT(edge.target >= 0 && static_cast<std::size_t>(edge.target) < nfa_.states.size(),
                 "edge to an unknown state in " + state.name);
    }
    completes_at_end_[s] = state.completes_at_end || state.kind == StateKind::Pending;
  }
  if (options_.bounds.max_state_bytes != 0) {
    nodes_.distinct = &distinct_;
  }
}

InterpMatcher::~InterpMatcher() = default;

std::unique_ptr<runtime::Matcher> makeInterpMatcher(const lang::typed::Program &program,
                                                    std::int32_t pattern_index, nfa::Nfa nfa,
                                                    runtime::MatcherOptions options) {
  return std::make_unique<InterpMatcher>(program, pattern_index, std::move(nfa), options);
}

// --- transitions (Flink: createDecisionGraph, computeNextStates) ------------------------------

bool InterpMatcher::passes(const Guard *g, const runtime::Event &event, std::uint32_t counter,
                           const BoundEvents &bound) {
  if (g == nullptr) {
    return true;
  }
  switch (g->kind) {
  case Guard::Kind::True:
    return true;
  case Guard::Kind::False:
    return false;
  case Guard::Kind::TypeIs:
    return event.type == static_cast<std::uint32_t>(g->event_type);
  case Guard::Kind::Cond:
    CEP_ASSERT(g->expr != nullptr, "condition guard without an expression");
    return evaluator_.test(*g->expr, &event, &bound);
  case Guard::Kind::CountBelow:
    return counter < g->count;
  case Guard::Kind::CountAtLeast:
    return counter >= g->count;
  case Guard::Kind::Not:
    CEP_ASSERT(g->args.size() == 1, "`not` guard needs one argument");
    return !passes(g->args[0].get(), event, counter, bound);
  case Guard::Kind::And:
    for (const auto &a : g->args) {
      if (!passes(a.get(), event, counter, bound)) {
        return false;
      }
    }
    return true;
  case Guard::Kind::Or:
    for (const auto &a : g->args) {
      if (passes(a.get(), event, counter, bound)) {
        return true;
      }
    }
    return false;
  }
  return false;
}

nfa::StateId InterpMatcher::finalAfterProceed(nfa::StateId state, std::uint32_t counter,
                                              const runtime::Event &event,
                                              const BoundEvents &bound) {
  // Flink's findFinalStateAfterProceed: follow PROCEED edges whose guards pass on this event.
  std::vector<std::pair<nfa::StateId, std::uint32_t>> stack{{state, counter}};
  std::size_t visits = 0;
  while (!stack.empty()) {
    auto [s, c] = stack.back();
    stack.pop_back();
    CEP_ASSERT(++visits <= 64 * nfa_.states.size() + 64, "PROCEED cycle in " + nfa_.pattern);
    for (const auto &edge : nfa_.states[static_cast<std::size_t>(s)].edges) {
      if (edge.kind != EdgeKind::Proceed || !passes(edge.guard.get(), event, c, bound)) {
        continue;
      }
      if (nfa_.states[static_cast<std::size_t>(edge.target)].kind == StateKind::Final) {
        return edge.target;
      }
      stack.emplace_back(edge.target, counterAfter(edge, c));
    }
  }
  return -1;
}

std::int64_t InterpMatcher::deadlineOf(const Run &run) const {
  std::int64_t deadline = kNoDeadline;
  if (nfa_.within_ms) {
    deadline = cep::time::deadlineAfter(run.start_time, *nfa_.within_ms);
  }
  const auto &within = nfa_.states[static_cast<std::size_t>(run.state)].within_ms;
  if (within) {
    deadline = std::min(deadline, cep::time::deadlineAfter(run.prev_time, *within));
  }
  return deadline;
}

void InterpMatcher::nextRuns(const Run &run, bool is_start, const runtime::EventRef &event,
                             std::vector<Run> &retained, std::vector<Run> &completed,
                             RunTrace *trace) {
  const runtime::Event &e = *event;
  BoundEvents bound(run.bound.get(), pattern_.steps.size());

  // The decision graph: every TAKE/IGNORE edge reachable through PROCEED edges whose guards
  // pass, with the loop counter the run has at the edge's source.
  struct Branch {
    const nfa::Edge *edge;
    nfa::StateId source;
    std::uint32_t counter;
  };
  std::vector<Branch> branches;
  bool discard = false;
  std::vector<std::pair<nfa::StateId, std::uint32_t>> stack{{run.state, run.counter}};
  std::size_t visits = 0;
  while (!stack.empty()) {
    auto [s, c] = stack.back();
    stack.pop_back();
    CEP_ASSERT(++visits <= 64 * nfa_.states.size() + 64, "PROCEED cycle in " + nfa_.pattern);
    if (trace != nullptr) {
      trace->visited.push_back(s);
    }
    for (const auto &edge : nfa_.states[static_cast<std::size_t>(s)].edges) {
      if (trace != nullptr) {
        noteEdge(*trace, edge);
      }
      if (!passes(edge.guard.get(), e, c, bound)) {
        continue;
      }
      if (edge.kind == EdgeKind::Proceed) {
        if (nfa_.states[static_cast<std::size_t>(edge.target)].kind == StateKind::Stop) {
          discard = true; // the negated event occurred (Flink: a TAKE into the stop state)
          if (trace != nullptr) {
            trace->stopped_by = stopStep(edge.target);
          }
        } else {
          stack.emplace_back(edge.target, counterAfter(edge, c));
        }
      } else {
        branches.push_back({&edge, s, c});
      }
    }
  }

  // The runs this one becomes. A stop state reached on any branch discards all of them (the
  // negated event occurred), but not the matches completed on this event.
  std::vector<Run> next;
  auto add = [&](Run r) {
    r.deadline = deadlineOf(r);
    switch (nfa_.states[static_cast<std::size_t>(r.state)].kind) {
    case StateKind::Final:
      completed.push_back(std::move(r));
      break;
    case StateKind::Stop:
      discard = true;
      if (trace != nullptr) {
        trace->stopped_by = stopStep(r.state);
      }
      break;
    default:
      next.push_back(std::move(r));
      break;
    }
  };
  for (const Branch &b : branches) {
    std::uint32_t counter = counterAfter(*b.edge, b.counter);
    if (b.edge->kind == EdgeKind::Ignore) {
      if (is_start) {
        continue; // the start state never ignores: a new run starts at every event anyway
      }
      Run r;
      r.state = b.edge->target;
      r.counter = counter;
      r.bound = run.bound;
      r.start_time = run.start_time;
      r.start_seq = run.start_seq;
      r.prev_time = run.prev_time;
      if (trace != nullptr) {
        trace->made.push_back({EdgeKind::Ignore, -1, r.state, -1});
      }
      add(std::move(r));
      continue;
    }
    // TAKE: bind the event to the source state's step, within that step's own time bound (the
    // run may have reached the step through PROCEED edges on this very event).
    const auto &step_within = nfa_.states[static_cast<std::size_t>(b.source)].within_ms;
    if (!is_start && step_within &&
        e.time >= cep::time::deadlineAfter(run.prev_time, *step_within)) {
      if (trace != nullptr) {
        trace->within_blocked = nfa_.states[static_cast<std::size_t>(b.source)].step;
      }
      continue;
    }
    std::int32_t step = nfa_.states[static_cast<std::size_t>(b.source)].step;
    CEP_ASSERT(step >= 0, "TAKE edge in a state without a step: " +
                              nfa_.states[static_cast<std::size_t>(b.source)].name);
    Run r;
    r.state = b.edge->target;
    r.counter = counter;
    r.bound = NodeRef::bind(event, step, run.bound, &nodes_);
    r.start_time = is_start ? e.time : run.start_time;
    r.start_seq = is_start ? e.seq : run.start_seq;
    r.prev_time = e.time;
    nfa::StateId final_state = finalAfterProceed(r.state, r.counter, e, bound);
    if (trace != nullptr) {
      trace->made.push_back({EdgeKind::Take, step, r.state, final_state});
    }
    if (final_state >= 0) {
      Run f = r;
      f.state = final_state;
      add(std::move(f));
    }
    add(std::move(r));
  }
  if (!discard) {
    for (Run &r : next) {
      retained.push_back(std::move(r));
    }
  }
}

// --- keys and timers --------------------------------------------------------------------------

std::string InterpMatcher::keyOf(const runtime::Event &e) const {
  std::string key;
  if (pattern_.key_fields.empty()) {
    key = "null";
    return key;
  }
  CEP_ASSERT(e.type < pattern_.key_index.size() && !pattern_.key_index[e.type].empty(),
             "event type without key fields in pattern " + pattern_.name);
  const auto &fields = pattern_.key_index[e.type];
  runtime::JsonWriter w(key);
  bool composite = fields.size() > 1;
  if (composite) {
    w.beginArray();
  }
  for (std::int32_t f : fields) {
    writeValue(w, readField(program_, e, f));
  }
  if (composite) {
    w.endArray();
  }
  return key;
}

KeyState &InterpMatcher::keyState(const std::string &key) {
  auto &slot = keys_[key];
  if (!slot) {
    slot = std::make_unique<KeyState>();
    slot->key_json = key;
    key_bytes_ += keyBytes(key);
    stats_.peak_keys = std::max<std::uint64_t>(stats_.peak_keys, keys_.size());
  }
  return *slot;
}

void InterpMatcher::setRuns(KeyState &key, std::vector<Run> runs) {
  live_runs_ -= key.runs.size();
  key.runs = std::move(runs);
  live_runs_ += key.runs.size();
}

void InterpMatcher::reschedule(KeyState &key) {
  std::int64_t next = kNoDeadline;
  for (const Run &r : key.runs) {
    next = std::min(next, r.deadline);
  }
  if (next != key.timer) {
    if (key.timer != kNoDeadline) {
      timers_.erase({key.timer, &key});
    }
    key.timer = next;
    if (next != kNoDeadline) {
      timers_.insert({next, &key});
    }
  }
  if (key.runs.empty() && key.held.empty()) {
    CEP_ASSERT(key.timer == kNoDeadline, "a key without runs has a timer");
    untrack(key);
    std::string name = key.key_json;
    key_bytes_ -= keyBytes(name);
    keys_.erase(name); // destroys `key`
  }
}

// --- time (Flink: advanceTime) ----------------------------------------------------------------

void InterpMatcher::advanceTime(std::int64_t time, std::vector<MatchOutput> &out) {
  fireUntil(time, out);
  time_ = std::max(time_, time);
  updatePeaks();
  refreshDue();
}

void InterpMatcher::fireUntil(std::int64_t time, std::vector<MatchOutput> &out) {
  // Deadlines fire in order, each at its own time, so the result does not depend on how the
  // driver batches time advances. Key expiries (--key-ttl) take their turn among them: at equal
  // times the deadlines first, expiries by the keys' last arrival.
  for (;;) {
    bool timer_due = !timers_.empty() && timers_.begin()->first <= time;
    bool expiry_due = !expiry_.empty() && std::get<0>(*expiry_.begin()) <= time;
    if (timer_due && (!expiry_due || timers_.begin()->first <= std::get<0>(*expiry_.begin()))) {
      auto [deadline, key] = *timers_.begin();
      expire(*key, deadline, out);
    } else if (expiry_due) {
      auto [at, seq, key] = *expiry_.begin();
      ttlDrop(*key, at, out);
    } else {
      break;
    }
  }
}

// --- key TTL (docs/semantics.md §9) -----------------------------------------------------------

void InterpMatcher::touch(KeyState &key, const runtime::Event &e) {
  if (options_.bounds.key_ttl_ms == 0) {
    return;
  }
  untrack(key);
  key.last_time = std::max(key.last_time, e.time);
  key.last_seq = e.seq;
  expiry_.insert({expiryOf(key.last_time), key.last_seq, &key});
}

void InterpMatcher::untrack(KeyState &key) {
  if (key.last_time != INT64_MIN && options_.bounds.key_ttl_ms != 0) {
    expiry_.erase({expiryOf(key.last_time), key.last_seq, &key});
  }
}

void InterpMatcher::ttlDrop(KeyState &key, std::int64_t at, std::vector<MatchOutput> &out) {
  untrack(key);
  key.last_time = INT64_MIN; // no longer in expiry_
  std::vector<Run> runs = std::move(key.runs);
  key.runs.clear();
  live_runs_ -= runs.size();
  for (Run &r : runs) { // in start order, as the other bounds evict
    evict(key, r, runtime::EvictReason::Ttl, at);
  }
  std::vector<Run> none;
  processMatches(key, none, Completion{at, true, 0}, out); // releases every held match
  reschedule(key);                                         // erases the key
}

void InterpMatcher::expire(KeyState &key, std::int64_t deadline, std::vector<MatchOutput> &out) {
  std::vector<Run> alive;
  std::vector<Run> completed;
  for (Run &r : key.runs) {
    if (r.deadline > deadline) {
      alive.push_back(std::move(r));
    } else if (nfa_.states[static_cast<std::size_t>(r.state)].kind == StateKind::Pending) {
      if (tracing_ && traced(key.key_json)) {
        TraceAction a = traceAction(TraceKind::Complete, key.key_json);
        a.time = deadline;
        a.time_driven = true;
        a.has_run = true;
        a.run = traceRun(r);
        a.reason = "absence";
        a.detail = "its window passed without the negated event";
        trace_.sink->action(a);
      }
      completed.push_back(std::move(r)); // absence: the window passed without the event
    } else {
      std::size_t before = out.size();
      emitTimeout(key, r, out);
      if (tracing_ && traced(key.key_json)) {
        TraceAction a = traceAction(TraceKind::Timeout, key.key_json);
        a.time = deadline;
        a.time_driven = true;
        a.has_run = true;
        a.run = traceRun(r);
        a.reason = "within";
        bool whole =
            nfa_.within_ms && cep::time::deadlineAfter(r.start_time, *nfa_.within_ms) == r.deadline;
        a.detail = whole ? "the pattern's within passed (counted from its first event)"
                         : "the step's within passed (counted from its last bound event)";
        if (out.size() > before) {
          a.record = out.back().json;
        }
        trace_.sink->action(a);
      }
    }
  }
  setRuns(key, std::move(alive));
  processMatches(key, completed, Completion{deadline, true, 0}, out);
  reschedule(key);
}

// --- events (Flink: doProcess) ----------------------------------------------------------------

void InterpMatcher::onEvent(const runtime::EventRef &event, std::vector<MatchOutput> &out) {
  DueRefresh due{*this};
  const runtime::Event &e = *event;
  if (e.type >= uses_type_.size() || !uses_type_[e.type]) {
    return; // not in this pattern's stream (docs/semantics.md §1)
  }
  advanceTime(e.time, out); // the driver does it before; harmless when it did
  std::string key = keyOf(e);
  const bool tracing = traced(key);
  if (!tracing && tracing_ && trace_.only_traced) {
    return; // a shadow (runtime/engine/shadow_matcher.hpp) follows its traced key only
  }
  ++stats_.events;
  auto it = keys_.find(key);
  std::vector<Run> retained;
  std::vector<Run> completed;
  if (tracing) {
    traceEvent(key, e, TraceKind::Event);
    trace_event_ = e.seq + 1;
  }
  if (it != keys_.end()) {
    for (const Run &r : it->second->runs) {
      if (tracing) {
        RunTrace rt;
        nextRuns(r, false, event, retained, completed, &rt);
        traceStep(key, r, false, event, rt);
      } else {
        nextRuns(r, false, event, retained, completed);
      }
    }
  }
  if (!draining_) { // a draining matcher starts no run (docs/semantics.md §10)
    Run start;
    start.state = nfa_.start;
    if (tracing) {
      RunTrace rt;
      nextRuns(start, true, event, retained, completed, &rt);
      traceStep(key, start, true, event, rt);
    } else {
      nextRuns(start, true, event, retained, completed);
    }
  }
  if (it == keys_.end() && retained.empty() && completed.empty()) {
    trace_event_ = 0;
    updatePeaks();
    return;
  }
  KeyState &ks = it != keys_.end() ? *it->second : keyState(key);
  touch(ks, e);
  setRuns(ks, std::move(retained));
  const std::uint64_t max_runs = options_.bounds.max_runs_per_key;
  if (max_runs != 0 && ks.runs.size() > max_runs) {
    evictOldest(ks, ks.runs.size() - max_runs, runtime::EvictReason::RunsPerKey);
  }
  processMatches(ks, completed, Completion{e.time, false, e.seq}, out);
  reschedule(ks);
  // A run can reach a state whose step bound has already passed (an optional step skipped on
  // this event): it can no longer complete, and ends now rather than at the next time advance.
  fireUntil(e.time, out);
  if (options_.bounds.max_state_bytes != 0 && accountedBytes() > options_.bounds.max_state_bytes) {
    boundStateBytes(Completion{e.time, false, e.seq}, out);
  }
  trace_event_ = 0;
  updatePeaks(); // after the bounds, where the native matcher samples them too
}

// --- state bounds (docs/semantics.md §9) ------------------------------------------------------

namespace {

bool startsBefore(const Run &a, const Run &b) {
  return EventPos{a.start_time, a.start_seq} < EventPos{b.start_time, b.start_seq};
}

} // namespace

void InterpMatcher::evict(const KeyState &key, Run &run, runtime::EvictReason reason,
                          std::int64_t at) {
  ++stats_.evicted;
  ++stats_.evicted_by[static_cast<std::size_t>(reason)];
  if (tracing_ && traced(key.key_json)) {
    TraceAction a = traceAction(TraceKind::Evict, key.key_json);
    a.time = at;
    // A bound checked after the key's event, or a key's TTL reached by time.
    a.time_driven = reason == runtime::EvictReason::Ttl || trace_event_ == 0;
    a.seq = a.time_driven ? 0 : trace_event_;
    a.has_run = true;
    a.run = traceRun(run);
    a.reason = std::string(runtime::evictReasonName(reason));
    a.detail = "a state bound (docs/semantics.md §9) evicted it";
    trace_.sink->action(a);
  }
  if (options_.evictions != nullptr) {
    std::string record;
    if (options_.evictions->wantsRecords()) {
      std::vector<std::string_view> steps;
      std::vector<bool> negated;
      for (const auto &step : pattern_.steps) {
        steps.push_back(step.name);
        negated.push_back(step.negated);
      }
      std::vector<runtime::EvictedEvent> events;
      BoundEvents bound(run.bound.get(), pattern_.steps.size());
      for (const Node *n : bound.nodes()) {
        events.push_back({n->step, n->event.get()});
      }
      runtime::appendEvictedRecord(record, pattern_.name, key.key_json, reason,
                                   nfa_.states[static_cast<std::size_t>(run.state)].name,
                                   run.start_time, at, steps, negated, events);
    }
    options_.evictions->evicted(pattern_.name, reason, key.key_json, record);
  }
  run.bound.reset();
}

void InterpMatcher::evictOldest(KeyState &key, std::size_t count, runtime::EvictReason reason) {
  // Runs are kept in start order; the stable sort only makes "oldest" explicit (ties keep
  // their creation order).
  std::vector<Run> runs = std::move(key.runs);
  key.runs.clear();
  live_runs_ -= runs.size();
  if (!std::is_sorted(runs.begin(), runs.end(), startsBefore)) {
    std::stable_sort(runs.begin(), runs.end(), startsBefore);
  }
  count = std::min(count, runs.size());
  for (std::size_t i = 0; i < count; ++i) {
    evict(key, runs[i], reason, currentTime());
  }
  runs.erase(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(count));
  live_runs_ += runs.size();
  key.runs = std::move(runs);
}

void InterpMatcher::boundStateBytes(const Completion &when, std::vector<MatchOutput> &out) {
  // The pattern's runs oldest first: by (start time, start arrival), then creation order within
  // a key (runs of different keys never share a start event), merged from each key's runs in
  // start order through a heap of the keys' next candidates.
  struct Next {
    EventPos start;
    KeyState *key;
    std::size_t index;   // of the key's next run to evict
    std::size_t touched; // the key's entry in `touched` (once it has one)
  };
  auto later = [](const Next &a, const Next &b) { return a.start > b.start; };
  std::vector<Next> heap;
  for (auto &[name, ks] : keys_) {
    if (ks->runs.empty()) {
      continue;
    }
    if (!std::is_sorted(ks->runs.begin(), ks->runs.end(), startsBefore)) {
      std::stable_sort(ks->runs.begin(), ks->runs.end(), startsBefore);
    }
    const Run &r = ks->runs.front();
    heap.push_back({EventPos{r.start_time, r.start_seq}, ks.get(), 0, 0});
  }
  std::make_heap(heap.begin(), heap.end(), later);
  // Evicted runs are a prefix of each key's runs; keys in order of their first eviction.
  std::vector<std::pair<KeyState *, std::size_t>> touched;
  while (!heap.empty() && accountedBytes() > options_.bounds.max_state_bytes) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Next n = heap.back();
    heap.pop_back();
    evict(*n.key, n.key->runs[n.index], runtime::EvictReason::StateBytes, currentTime());
    --live_runs_; // the run is erased below
    if (n.index == 0) {
      n.touched = touched.size();
      touched.emplace_back(n.key, 0);
    }
    touched[n.touched].second = ++n.index;
    if (n.index < n.key->runs.size()) {
      const Run &r = n.key->runs[n.index];
      n.start = EventPos{r.start_time, r.start_seq};
      heap.push_back(n);
      std::push_heap(heap.begin(), heap.end(), later);
    }
  }
  for (auto &[ks, evicted] : touched) {
    ks->runs.erase(ks->runs.begin(), ks->runs.begin() + static_cast<std::ptrdiff_t>(evicted));
    std::vector<Run> none;
    processMatches(*ks, none, when, out);
    reschedule(*ks); // may erase the key
  }
}

// --- completed matches (Flink: processMatchesAccordingToSkipStrategy) ------------------------

void InterpMatcher::processMatches(KeyState &key, std::vector<Run> &completed,
                                   const Completion &when, std::vector<MatchOutput> &out) {
  for (Run &r : completed) {
    HeldMatch m;
    m.start_time = r.start_time;
    m.start_seq = r.start_seq;
    for (const Node *n = r.bound.get(); n != nullptr; n = n->prev) {
      m.places.push_back({n->event->time, n->event->seq});
    }
    std::reverse(m.places.begin(), m.places.end());
    m.bound = std::move(r.bound);
    auto at = std::upper_bound(key.held.begin(), key.held.end(), m, heldBefore);
    key.held.insert(at, std::move(m));
    ++held_;
  }
  completed.clear();
  bool skips = nfa_.skip != lang::typed::SkipStrategy::None;
  while (!key.held.empty()) {
    if (skips && !key.runs.empty()) {
      // Held while a live partial match started strictly earlier.
      EventPos earliest{INT64_MAX, UINT64_MAX};
      for (const Run &r : key.runs) {
        earliest = std::min(earliest, EventPos{r.start_time, r.start_seq});
      }
      const HeldMatch &first = key.held.front();
      if (EventPos{first.start_time, first.start_seq} > earliest) {
        break;
      }
    }
    HeldMatch m = std::move(key.held.front());
    key.held.erase(key.held.begin());
    --held_;
    if (skips) {
      prune(key, m);
    }
    emitMatch(key, m, when, out);
  }
}

void InterpMatcher::prune(KeyState &key, const HeldMatch &released) {
  // Flink's AfterMatchSkipStrategy.prune: the pruning event of the match, and which starts it
  // discards (at or before it: past last, to next; strictly before it: to first/last s).
  BoundEvents bound(released.bound.get(), pattern_.steps.size());
  const auto &nodes = bound.nodes();
  std::optional<EventPos> id;
  bool inclusive = true;
  switch (nfa_.skip) {
  case lang::typed::SkipStrategy::None:
    return;
  case lang::typed::SkipStrategy::PastLast:
    id = posOf(*nodes.back()->event);
    break;
  case lang::typed::SkipStrategy::ToNext:
    id = posOf(*nodes.front()->event);
    break;
  case lang::typed::SkipStrategy::ToFirst:
  case lang::typed::SkipStrategy::ToLast: {
    inclusive = false;
    const auto &events = bound.of(nfa_.skip_step);
    if (!events.empty()) {
      id =
          posOf(nfa_.skip == lang::typed::SkipStrategy::ToFirst ? *events.front() : *events.back());
    }
    break;
  }
  }
  if (!id) {
    return; // the step bound nothing: nothing is discarded
  }
  auto discarded = [&](std::int64_t time, std::uint64_t seq) {
    EventPos start{time, seq};
    return inclusive ? start <= *id : start < *id;
  };
  const bool tracing = tracing_ && traced(key.key_json);
  auto traceDiscard = [&](const TraceRun &run, const char *what) {
    TraceAction a = traceAction(TraceKind::Discard, key.key_json);
    a.time = released.bound->event->time;
    a.has_run = true;
    a.run = run;
    a.reason = "skip";
    a.detail = std::string(what) + " dropped by the skip strategy after the match ending at #" +
               std::to_string(released.places.back().seq + 1);
    trace_.sink->action(a);
  };
  std::vector<Run> runs;
  for (Run &r : key.runs) {
    if (!discarded(r.start_time, r.start_seq)) {
      runs.push_back(std::move(r));
    } else if (tracing) {
      traceDiscard(traceRun(r), "a partial match");
    }
  }
  setRuns(key, std::move(runs));
  std::size_t before = key.held.size();
  if (tracing) {
    for (const HeldMatch &m : key.held) {
      if (discarded(m.start_time, m.start_seq)) {
        TraceRun run;
        run.start_seq = m.start_seq + 1;
        run.start_time = m.start_time;
        run.state = "$final";
        for (const runtime::EventPlace &p : m.places) {
          run.events.push_back(p.seq + 1);
        }
        traceDiscard(run, "a complete match held back");
      }
    }
  }
  key.held.erase(
      std::remove_if(key.held.begin(), key.held.end(),
                     [&](const HeldMatch &m) { return discarded(m.start_time, m.start_seq); }),
      key.held.end());
  held_ -= before - key.held.size();
}

// --- end of input -----------------------------------------------------------------------------

void InterpMatcher::finish(std::vector<MatchOutput> &out) {
  DueRefresh due{*this};
  // Time advances to +infinity: every deadline fires in order (timeouts, absences, releases).
  while (!timers_.empty()) {
    auto [deadline, key] = *timers_.begin();
    expire(*key, deadline, out);
  }
  // Every other partial match ends: silently, or as a match when it waits for "no next event"
  // (`, not n` at the end); then every held match is released.
  std::vector<KeyState *> keys;
  keys.reserve(keys_.size());
  for (auto &[k, ks] : keys_) {
    keys.push_back(ks.get());
  }
  for (KeyState *ks : keys) {
    std::vector<Run> completed;
    const bool tracing = tracing_ && traced(ks->key_json);
    for (Run &r : ks->runs) {
      bool completes = completes_at_end_[static_cast<std::size_t>(r.state)];
      if (tracing) {
        TraceAction a = traceAction(completes ? TraceKind::Complete : TraceKind::End, ks->key_json);
        a.time = runtime::kEndOfTime;
        a.time_driven = true;
        a.has_run = true;
        a.run = traceRun(r);
        a.reason = "end";
        a.detail = completes ? "the input ended with no next event: it completes"
                             : "the input ended before it could complete";
        trace_.sink->action(a);
      }
      if (completes) {
        completed.push_back(std::move(r));
      }
    }
    setRuns(*ks, {});
    processMatches(*ks, completed, Completion{runtime::kEndOfTime, true, 0}, out);
    reschedule(*ks);
  }
  time_ = runtime::kEndOfTime;
  updatePeaks();
}

// --- serving (docs/semantics.md §10) ----------------------------------------------------------

std::uint64_t InterpMatcher::dropState() {
  const std::uint64_t dropped = live_runs_ + held_;
  timers_.clear();
  expiry_.clear();
  keys_.clear(); // releases every bound event
  live_runs_ = 0;
  held_ = 0;
  key_bytes_ = 0;
  refreshDue();
  stats_.dropped += dropped;
  return dropped;
}

// --- output -----------------------------------------------------------------------------------

void InterpMatcher::emitMatch(const KeyState &key, const HeldMatch &m, const Completion &when,
                              std::vector<MatchOutput> &out) {
  BoundEvents bound(m.bound.get(), pattern_.steps.size());
  MatchOutput o;
  o.completion_time = when.time;
  o.time_driven = when.time_driven;
  o.completion_seq = when.seq;
  o.start_time = m.start_time;
  o.start_seq = m.start_seq;
  o.events = m.places;
  RecordShape shape{&program_, &pattern_, options_.with_events, options_.version};
  buildRecord(o.json, shape, evaluator_, key.key_json, pattern_.emit, m.start_time,
              m.bound->event->time, false, bound);
  if (tracing_ && traced(key.key_json)) {
    TraceAction a = traceAction(TraceKind::Match, key.key_json);
    a.time = when.time;
    a.time_driven = when.time_driven;
    a.seq = when.time_driven ? 0 : when.seq + 1; // arrival numbers count from 1
    a.record = o.json;
    trace_.sink->action(a);
  }
  out.push_back(std::move(o));
  ++stats_.matches;
}

void InterpMatcher::emitTimeout(const KeyState &key, const Run &run,
                                std::vector<MatchOutput> &out) {
  if (!pattern_.timeout_emit) {
    return; // discarded silently
  }
  BoundEvents bound(run.bound.get(), pattern_.steps.size());
  MatchOutput o;
  o.completion_time = run.deadline;
  o.time_driven = true;
  o.start_time = run.start_time;
  o.start_seq = run.start_seq;
  for (const Node *n : bound.nodes()) {
    o.events.push_back({n->event->time, n->event->seq});
  }
  RecordShape shape{&program_, &pattern_, options_.with_events, options_.version};
  buildRecord(o.json, shape, evaluator_, key.key_json, *pattern_.timeout_emit, run.start_time,
              run.deadline, true, bound);
  out.push_back(std::move(o));
  ++stats_.timeouts;
}

// --- statistics -------------------------------------------------------------------------------

void InterpMatcher::updatePeaks() {
  stats_.peak_runs = std::max(stats_.peak_runs, live_runs_);
  stats_.peak_keys = std::max<std::uint64_t>(stats_.peak_keys, keys_.size());
  stats_.peak_bound_events = std::max(stats_.peak_bound_events, nodes_.live);
  stats_.peak_state_bytes = std::max(stats_.peak_state_bytes, stats().state_bytes);
}

runtime::MatcherStats InterpMatcher::stats() const {
  runtime::MatcherStats s = stats_;
  s.live_runs = live_runs_;
  s.live_keys = keys_.size();
  s.bound_events = nodes_.live;
  std::uint64_t bytes = live_runs_ * sizeof(Run) + held_ * sizeof(HeldMatch) +
                        nodes_.live * sizeof(Node) + nodes_.event_bytes +
                        (timers_.size() + expiry_.size()) * 48; // a set node
  bytes += key_bytes_;
  s.state_bytes = bytes;
  s.bound_event_bytes = nodes_.event_bytes;
  s.peak_state_bytes = std::max(s.peak_state_bytes, bytes);
  return s;
}

} // namespace cep::compiler::interp
