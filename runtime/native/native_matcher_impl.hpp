// The native matcher's class (shared by native_matcher.cpp, the driver, and native_snapshot.cpp).
//
// Layout, per pattern:
//   nodes_   every bound event of every run and held match: a pooled, free-listed, refcounted
//            prefix-shared list (bound_view.hpp); a run points at its first and last node
//   keys_    key slots (reused when freed, 64 bytes): representative event, runs (24 bytes each,
//            ordered by start; the first inline in the slot, run_list.hpp), held matches, timer;
//            found through table_ by the generated key hash
//   timers_  (deadline, key slot, generation) entries, earliest first (timer_queue.hpp: a FIFO for
//            the entries that come in deadline order, a heap for the rest); an entry is stale
//            once the key's timer changed or the slot was freed/reused (lazy invalidation)
//   ttl_     --key-ttl only: (expiry, last arrival, key slot, generation) min-heap, one entry
//            per key, corrected lazily: an event only moves the key's last event; an entry that
//            comes due with an older last event is pushed again with the key's current one
// and scratch vectors reused across events, so an event that changes nothing allocates nothing.
//
// The algorithm is the reference interpreter's (compiler/interp/nfa_matcher.cpp), line by line.
#pragma once

#include "runtime/matcher.hpp"
#include "runtime/native/bound_view.hpp"
#include "runtime/native/image.hpp"
#include "runtime/native/key_table.hpp"
#include "runtime/native/native_record.hpp"
#include "runtime/native/run_list.hpp"
#include "runtime/native/timer_queue.hpp"
#include "runtime/schema.hpp"
#include "runtime/snapshot_codec.hpp"
#include "runtime/state/migration.hpp"
#include "support/time_arith.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::native {

constexpr std::int64_t kNoDeadline = INT64_MAX;

class NativeMatcher final : public Matcher {
public:
  NativeMatcher(std::shared_ptr<const Schema> schema, std::shared_ptr<const PatternImage> image,
                PatternCode code, MatcherOptions options);
  ~NativeMatcher() override;

  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override;
  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override;
  void finish(std::vector<MatchOutput> &out) override;
  MatcherStats stats() const override;
  void snapshot(std::string &out) const override; // native_snapshot.cpp
  void restore(std::string_view in) override;
  void
  restoreState(const MatcherState &state) override;   // native_snapshot.cpp // native_snapshot.cpp
  void exportState(MatcherState &out) const override; // native_snapshot.cpp
  MigrationReport checkMigration(const MatcherState &from) const override; // native_snapshot.cpp
  MigrationReport migrateFrom(const MatcherState &from) override;          // native_snapshot.cpp
  bool canAdopt(const Matcher &old) const override;                        // native_adopt.cpp
  MigrationReport adoptFrom(Matcher &old) override;                        // native_adopt.cpp
  void exportChanges(MatcherChanges &out) override;                        // native_changes.cpp
  void assumeExported() override;                                          // native_changes.cpp
  const std::vector<std::uint32_t> &eventTypes() const override { return image_->event_types; }
  std::string_view patternName() const override { return image_->name; }
  std::uint64_t routeHash(const Event &event) const override { return code_.key_hash(&event); }
  void drain() override { draining_ = true; }
  bool draining() const override { return draining_; }
  // A key exists while it holds a run or a held match; timers belong to keys.
  bool drained() const override { return draining_ && live_keys_ == 0; }
  std::uint64_t dropState() override;
  std::int64_t nextTimer() const override;

  // The pattern's time: the last advance, or the time the driver recorded without a call
  // (Matcher::advanceTo: nothing was due then).
  std::int64_t currentTime() const { return std::max(time_, deferredTime()); }
  std::uint64_t liveNodes() const { return nodes_.live(); }

private:
  // A partial match (Flink's ComputationState). start = first node's event, prev_time = last
  // node's event time.
  struct Run {
    std::int64_t deadline = kNoDeadline;
    std::uint32_t state = 0;
    std::uint32_t counter = 0;
    std::uint32_t last = kNoNode;  // owns one reference
    std::uint32_t first = kNoNode; // reached through `last`
  };
  static_assert(sizeof(Run) == 24);
  using RunList = InlineList<Run>; // the first run inline in the key slot
  static_assert(sizeof(RunList) == 32);

  struct Held {
    std::uint32_t last = kNoNode; // owns one reference
    std::uint32_t first = kNoNode;
    std::vector<EventPlace> places; // the matched events', in match order
  };

  // A key's held matches: rare (only with a skip strategy, between a completion and the
  // release), so a key slot holds one pointer, null while there are none.
  class HeldList {
  public:
    bool empty() const { return list_ == nullptr || list_->empty(); }
    std::size_t size() const { return list_ == nullptr ? 0 : list_->size(); }
    Held *begin() { return list_ == nullptr ? nullptr : list_->data(); }
    Held *end() { return list_ == nullptr ? nullptr : list_->data() + list_->size(); }
    const Held *begin() const { return list_ == nullptr ? nullptr : list_->data(); }
    const Held *end() const { return list_ == nullptr ? nullptr : list_->data() + list_->size(); }
    Held &front() { return list_->front(); }
    const Held &front() const { return list_->front(); }
    void push_back(Held m) { own().push_back(std::move(m)); }
    void insert(Held *at, Held m) {
      std::ptrdiff_t i = at - begin();
      own().insert(list_->begin() + i, std::move(m));
    }
    void erase(Held *first, Held *last) {
      if (first != last) {
        list_->erase(list_->begin() + (first - begin()), list_->begin() + (last - begin()));
      }
      if (list_ != nullptr && list_->empty()) {
        list_.reset();
      }
    }
    void erase(Held *at) { erase(at, at + 1); }
    void clear() { list_.reset(); }
    void assign(std::vector<Held> list) {
      list_ = list.empty() ? nullptr : std::make_unique<std::vector<Held>>(std::move(list));
    }

  private:
    std::vector<Held> &own() {
      if (list_ == nullptr) {
        list_ = std::make_unique<std::vector<Held>>();
      }
      return *list_;
    }
    std::unique_ptr<std::vector<Held>> list_;
  };

  // A key slot (found through table_ by the generated key hash of `rep`).
  struct Key {
    const Event *rep = nullptr; // one counted reference; null: the slot is free
    RunList runs;
    HeldList held;
    std::int64_t timer = kNoDeadline; // its live entry's deadline (reschedule), kNoDeadline: none
    std::uint32_t gen = 0;            // bumped when the slot is freed
    bool dirty = false;               // in dirty_ (tracking changes: runs or held matches changed)
  };
  static_assert(sizeof(Key) == 64);

  // --key-ttl only: a key's last event seen by the pattern (time INT64_MIN: not tracked), kept
  // beside the key slots (last_, by slot) so that a slot without a TTL does not carry it.
  struct LastEvent {
    std::int64_t time = INT64_MIN;
    std::uint64_t seq = 0;
  };
  LastEvent lastOf(std::uint32_t k) const { return k < last_.size() ? last_[k] : LastEvent{}; }
  LastEvent &lastRef(std::uint32_t k) {
    if (last_.size() <= k) {
      last_.resize(keys_.size());
    }
    return last_[k];
  }

  struct Expiry {
    std::int64_t at; // the expiry of the key's last event when pushed (a lower bound)
    std::uint64_t seq;
    std::uint32_t key;
    std::uint32_t gen;
  };

  struct Timer {
    std::int64_t deadline;
    std::uint32_t key;
    std::uint32_t gen;
  };

  struct Completion {
    std::int64_t time = 0;
    bool time_driven = false;
    std::uint64_t seq = 0;
  };

  using Pos = std::pair<std::int64_t, std::uint64_t>; // (time, arrival)

  Pos startOf(std::uint32_t first) const {
    const Event *e = nodes_[first].event;
    return {e->time, e->seq};
  }
  std::int64_t prevTime(const Run &r) const { return nodes_[r.last].event->time; }
  std::int64_t deadlineOf(const Run &r) const;
  bool heldBefore(const Held &a, const Held &b) const;

  // The runs that follow `run` on `e` into retained_ (completed ones into completed_). With
  // `keep_in_place`, a run that only takes its state's IGNORE self-loop is not copied: true says
  // so and nothing was added.
  bool nextRuns(const Run &run, bool is_start, const Event &e, bool keep_in_place);
  // Into retained_ (or completed_), its deadline that of deadlineOf from the pattern's
  // whole-match deadline for the run's first event and the time of its last event.
  void addRun(Run r, std::int64_t match_deadline, std::int64_t prev_time, bool &discard);
  void expire(std::uint32_t key, std::int64_t deadline, std::vector<MatchOutput> &out);
  // Most calls have nothing to do: no run completed and nothing is held.
  void processMatches(std::uint32_t key, std::vector<Run> &completed, const Completion &when,
                      std::vector<MatchOutput> &out) {
    if (!completed.empty() || !keys_[key].held.empty()) {
      processHeld(key, completed, when, out);
    }
  }
  void processHeld(std::uint32_t key, std::vector<Run> &completed, const Completion &when,
                   std::vector<MatchOutput> &out);
  void prune(Key &key, const Held &released);
  // The key's timer entry when its earliest deadline moved earlier; frees the key when it holds
  // nothing. Key::timer is the deadline of the key's live entry: never later than its earliest
  // run deadline, earlier after that run ended (moved lazily by settle).
  void reschedule(std::uint32_t key);
  std::int64_t earliestDeadline(const Key &key) const; // kNoDeadline: no run
  // A live entry that came due: true when a run of its key is due at its deadline; otherwise
  // the key's entry moves to its earliest deadline (none without runs) and false.
  bool settle(const Timer &t);
  void setRuns(Key &key, const std::vector<Run> &runs); // copied; the references move over
  void releaseRuns(RunList &runs);
  // Places of the chain ending at `last`, in match order (one allocation).
  void chainPlaces(std::uint32_t last, std::vector<EventPlace> &places) const;
  bool timerValid(const Timer &t) const {
    const Key &key = keys_[t.key];
    return key.rep != nullptr && key.gen == t.gen && key.timer == t.deadline;
  }
  void pushTimer(std::uint32_t key);

  // Change tracking (exportChanges; off until its first call): a key slot whose runs or held
  // matches changed goes into dirty_ once; a freed key's representative event goes into freed_
  // with its counted reference (its text is computed at export).
  void markChanged(std::uint32_t k) {
    if (track_ && !keys_[k].dirty) {
      keys_[k].dirty = true;
      dirty_.push_back(k);
    }
  }
  bool sameRuns(const RunList &a, const std::vector<Run> &b) const;
  void releaseFreed();
  // native_changes.cpp: `key`'s record (runtime/state/key_record.hpp's layout, byte-equal to
  // encodeKeyRecord of exportState) written straight from the slot into `w`, its nodes and
  // events numbered in record_ (reset after each record).
  void encodeKeyRecord(std::string_view key_json, std::uint32_t k, SnapshotBuffer &w);
  struct RecordScratch {
    std::vector<std::uint32_t> node_ids; // by pool index: the record's node number + 1 (0: none)
    std::vector<std::uint32_t> order;    // pool indices in the record's node order
    std::vector<std::uint32_t> chain;
    std::vector<std::uint32_t> node_events; // by record node: its record event number
    std::vector<const Event *> events;      // in the record's event order
    std::vector<std::pair<const Event *, std::uint32_t>> table; // open addressing: event, number
  };
  // native_snapshot.cpp: the model's header fields (no keys), and `keys` (text, slot; in this
  // order) appended with every node and event they reach, each once; `dense` numbers the nodes
  // through a vector over the whole pool (a whole export), otherwise through a map.
  void exportHeader(MatcherState &st) const;
  void exportKeys(MatcherState &st, std::vector<std::pair<std::string, std::uint32_t>> &keys,
                  bool dense) const;

  std::uint32_t newKey(std::uint64_t hash, const Event *rep);
  void freeKey(std::uint32_t key);
  std::string keyJson(const Key &key) const;

  // native_snapshot.cpp: `from` (its events as `events`, of this matcher's schema) into this
  // fresh matcher; a bad state throws and changes nothing.
  void importState(const MatcherState &from, const std::vector<EventRef> &events);
  PatternShape shape() const;
  // native_adopt.cpp: every run's state re-mapped (old index -> new) and its deadline and every
  // key's timer recomputed under this version's `within`s.
  void retime(const std::vector<std::int32_t> &states);
  void keyReasons(const MatcherState &from, const std::vector<EventRef> &events,
                  std::vector<std::string> &reasons) const;

  // The match of the nodes first..last appended to `out` (its events left to the caller).
  MatchOutput &emitMatch(const Key &key, std::uint32_t first, std::uint32_t last,
                         const Completion &when, std::vector<MatchOutput> &out);
  void emitTimeout(const Key &key, const Run &run, std::vector<MatchOutput> &out);
  // Peaks are sampled at the end of every public call that may change state (and nowhere else),
  // so a call that changed nothing need not sample.
  void updatePeaks() {
    stats_.peak_runs = std::max(stats_.peak_runs, live_runs_);
    stats_.peak_keys = std::max(stats_.peak_keys, live_keys_);
    stats_.peak_bound_events = std::max(stats_.peak_bound_events, nodes_.live());
    stats_.peak_state_bytes = std::max(stats_.peak_state_bytes, stateBytes());
  }
  std::uint64_t stateBytes() const;
  // Fires the deadlines up to `time`; false when none fired. Inline: usually the earliest timer
  // is live and later than `time`.
  bool fireUntil(std::int64_t time, std::vector<MatchOutput> &out) {
    if ((timers_.empty() || (timers_.top().deadline > time && timerValid(timers_.top()))) &&
        (ttl_.empty() || ttl_.front().at > time)) {
      return false;
    }
    return fireDue(time, out);
  }
  bool fireDue(std::int64_t time, std::vector<MatchOutput> &out);
  // Matcher::setDue: the earliest timer entry and key expiry (a stale entry is earlier than the
  // truth, which is safe). After every public call that may add a deadline (DueRefresh).
  void refreshDue() {
    std::int64_t due = timers_.empty() ? kEndOfTime : timers_.top().deadline;
    setDue(ttl_.empty() ? due : std::min(due, ttl_.front().at));
  }
  struct DueRefresh {
    NativeMatcher &m;
    ~DueRefresh() { m.refreshDue(); }
  };
  // advanceTime, inline for onEvent.
  void advance(std::int64_t time, std::vector<MatchOutput> &out) {
    time_ = std::max(time_, time);
    // Nothing changed since the last public call sampled the peaks unless a deadline fired
    // (dropping stale timer entries only shrinks the state).
    if (fireUntil(time, out)) {
      updatePeaks();
    }
  }
  void clear(); // drops every key, run, held match and timer

  // State bounds (docs/semantics.md §9), exactly as the interpreter: the oldest `count` runs of
  // `key` (by start, then creation order) go; then the pattern's oldest runs while its
  // accounted bytes exceed the limit, releasing what they held back at `when`.
  void evictOldest(Key &key, std::size_t count, EvictReason reason);
  void boundStateBytes(const Completion &when, std::vector<MatchOutput> &out);
  // Releases the run's nodes; `at` is the record's "@at".
  void evict(const Key &key, const Run &run, EvictReason reason, std::int64_t at);
  // --key-ttl (docs/semantics.md §9), exactly as the interpreter: an event of key `k` moves its
  // last event (and marks it changed); the due expiry first in (expiry, last arrival) order,
  // after correcting entries whose key saw an event since; the drop of key `k` at `at`.
  void touch(std::uint32_t k, const Event &e);
  void pushExpiry(std::uint32_t k);
  const Expiry *dueExpiry(std::int64_t time);
  void ttlDrop(std::uint32_t k, std::int64_t at, std::vector<MatchOutput> &out);
  void rebuildExpiries(); // one entry per live key (after an import or an adoption)
  std::int64_t expiryOf(std::int64_t last_time) const {
    return cep::time::deadlineAfter(last_time, options_.bounds.key_ttl_ms);
  }
  bool startsBefore(const Run &a, const Run &b) const {
    return startOf(a.first) < startOf(b.first);
  }
  std::uint64_t accountedBytes() const {
    return live_runs_ * kRunAccountedBytes + distinct_.bytes();
  }

  std::shared_ptr<const Schema> schema_;
  std::shared_ptr<const PatternImage> image_;
  PatternCode code_;
  MatcherOptions options_;
  std::vector<bool> uses_type_;        // by event type index
  std::vector<bool> completes_at_end_; // by state
  std::vector<StateKind> kinds_;       // by state
  std::vector<std::int64_t> within_;   // by state: StateInfo::within_ms
  bool state_bounds_ = false;          // a state has a bound of its own (within_ not all kNoBound)

  std::optional<RecordWriter> match_writer_, timeout_writer_;

  DistinctEventBytes distinct_; // counted only with a --max-state-bytes bound
  NodePool nodes_;
  BoundView view_;
  std::vector<Key> keys_;
  std::vector<std::uint32_t> free_keys_;
  std::vector<LastEvent> last_; // by key slot; --key-ttl only (empty otherwise)
  KeyTable table_;
  TimerQueue<Timer> timers_;
  std::vector<Expiry> ttl_;

  // Scratch, reused across events.
  std::vector<CepBranch> branches_;
  std::vector<Run> retained_, completed_, expired_;
  std::vector<std::uint32_t> chain_;

  std::int64_t time_ = INT64_MIN;
  std::uint64_t live_runs_ = 0;
  std::uint64_t live_keys_ = 0;
  std::uint64_t held_ = 0;
  bool draining_ = false; // Matcher::drain: the start state is no longer consulted
  bool track_ = false;    // exportChanges was called: dirty_ and freed_ are kept
  std::vector<std::uint32_t> dirty_;
  std::vector<const Event *> freed_; // one counted reference each
  RecordScratch record_;
  MatcherStats stats_;
};

} // namespace cep::runtime::native
