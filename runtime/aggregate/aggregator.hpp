// The window runtime of one aggregate (spec §8; docs/semantics.md §12): per key, window
// assignment, incremental accumulator state, firing by watermark, session merging, `lateness`
// revisions, `ttl`, and the records of spec §8.2 in their order. A backend drives it with the
// events of the aggregate's step (after its condition) and the watermark, and turns each
// WindowResult into an output record with its `having` and `emit` code.
//
//   time windows   panes of H (tumbling: of S), a column per pane with a row per key, a window
//                  combines its panes' rows when it fires: an event costs one pane update, a
//                  window S/H pane merges per key
//   session        one cell per open session, merged cells when a late event joins two
//   rolling        an eviction queue per key; sums add and subtract (floats: two stacks, so
//                  no rounding drift), min/max a monotonic deque, count_distinct a counted hash
//   none           one cell per key
// Every structure is O(1) amortised per event in the number of events a window holds.
//
// Contract with the caller (the driver order of docs/semantics.md §3):
//   - advance(w) whenever the watermark moves (never back; lower values are ignored), and before
//     the events of a new time t at least advance(t - 1): an event whose time is <= watermark()
//     is LATE. Events that are not late come in (time, arrival) order, as the reorder buffer
//     releases them; late ones in any order.
//   - onEvent returns Late for an event that counts for no window: write it to the late output.
//   - finish() (the watermark at +infinity) at the end of the input fires every open window.
// Records come out in `out` (appended): at advance, sorted by window end, start, then first
// arrival (resultBefore); at onEvent, the record of a rolling/none window, or the rewrites of
// windows a late event changed (revision >= 1), or of a window first written because of it.
//
// Example:
//   WindowAggregator agg(spec);             // spec.window = Tumbling, size_ms = 3'600'000
//   std::vector<WindowResult> out;
//   agg.advance(t - 1, out);                 // driver: before the events at time t
//   if (agg.onEvent(key_json, inputOf(*event), out) == EventFate::Late) { /* late output */ }
//   agg.advance(watermark, out);             // after the batch
//   agg.finish(out);                         // end of input
//   std::string bytes; agg.snapshot(bytes);  // CEPASNAP, below
//   WindowAggregator back(spec); back.restore(bytes);
//
// Snapshot (CEPASNAP; encodings of runtime/snapshot_codec.hpp), names and bounds, no indices:
//   "CEPASNAP" u32 version (1), str aggregate name, str window kind, i64 size, i64 step,
//   i64 lateness, i64 ttl, u8 keep events, u32 accumulator count, per accumulator: str function
//   (aggFnName), str field name, str kind (fieldKindName) -- all must equal the restoring spec;
//   i64 watermark; u64 key count, then per key in key byte order: str key, and
//     time windows: u64 panes (bit 63 set: an i64 "fired up to" mark follows, a key restored
//                   from a partition taken over ahead, kFiredMarkBit), per pane: i64 start, i64
//                   end, u64 first arrival, cell; u64 written windows still open (lateness), per:
//                   i64 start, i64 end, u32 writes
//     session:      u64 sessions (bit 63: a mark follows, as for time windows), per: i64 start,
//                   i64 end, i64 last event, u64 first arrival, u32 writes, u8 pending, cell
//     rolling:      i64 last event, u64 entries (bit 63: a mark follows), per: i64 time, u64
//                   seq, per accumulator with a field a value (u8 null, value); u64 entries of
//                   the float-sum front stacks
//     none:         i64 first event, i64 last event, u64 first arrival (bit 63: a mark
//                   follows), cell
//   cell = CellLayout::write (runtime/aggregate/cell.hpp): u64 events, then per accumulator its
//   state (count_distinct values sorted), then the event ids when keeping events (sorted by
//   time, then arrival).
// Restoring a different spec, or damaged bytes, throws std::runtime_error
// "bad aggregate snapshot: <reason>" (the aggregator may then hold part of the state: discard
// it). Timers (when each key is next due) are recomputed.
#pragma once

#include "runtime/aggregate/cell.hpp"
#include "runtime/aggregate/due_buckets.hpp"
#include "runtime/aggregate/pane_columns.hpp"
#include "runtime/aggregate/result.hpp"
#include "runtime/aggregate/spec.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cep::runtime::aggregate {

struct KeyState; // per-key state (key_state.hpp)
class KeyTable;  // the keys (key_table.hpp)
struct Session;
struct Rolling;

// Time windows: panes of `pane` ms (tumbling: S; hopping, cumulate: H); a window is named by
// its end, a multiple of `pane`. Pane p is in the windows ending minEnd(p) .. maxEnd(p).
struct WindowGeometry {
  WindowKind kind = WindowKind::Tumbling;
  std::int64_t size = 0;
  std::int64_t pane = 0;
  std::int64_t paneOf(std::int64_t t) const;
  std::int64_t minEnd(std::int64_t p) const;
  std::int64_t maxEnd(std::int64_t p) const;
  std::int64_t startOf(std::int64_t end) const;
  std::int64_t endAfter(std::int64_t watermark) const; // first end with end - 1 > watermark
};

enum class EventFate : std::uint8_t { Counted, Late };

struct AggregateStats {
  std::uint64_t keys = 0;
  std::uint64_t idle_keys = 0;    // keys without state kept for their next event (not in keys)
  std::uint64_t windows = 0;      // open panes, sessions, running cells, rolling entries
  std::uint64_t window_bytes = 0; // the cells of those (panes and sessions with their bounds)
  std::uint64_t state_bytes = 0;  // everything: keys, cells, queues, heap
  // Of state_bytes: the keys themselves (the index that finds them, each key's name string in
  // its slot and its bytes beyond the inline 15). state_bytes - key_bytes is what the windows
  // cost: per key with one tumbling count window, its slot's other 8 bytes and its pane's
  // 20-byte row in the pane's column.
  std::uint64_t key_bytes = 0;
  std::uint64_t distinct_bytes = 0; // of state_bytes: the count_distinct hashes
  // Keys advance() has processed so far (a window fired, state dropped): a key whose due came
  // up but had moved (a rolling key with later events) is moved on, not counted.
  std::uint64_t processed = 0;
};

// The start a drain splits a result's window by (docs/serve.md "Aggregates"): a rolling
// window (t - size, t] starts at t - size (its record's `end` is t), whatever its first event;
// any other at its result's `start`. The old version of a drain at switch time S writes the
// results with drainStart < S, the new one the others.
std::int64_t drainStart(const AggregateSpec &spec, const WindowResult &r);

class WindowAggregator {
public:
  explicit WindowAggregator(AggregateSpec spec); // validateSpec
  ~WindowAggregator();
  WindowAggregator(const WindowAggregator &) = delete;
  WindowAggregator &operator=(const WindowAggregator &) = delete;

  const AggregateSpec &spec() const { return spec_; }
  std::int64_t watermark() const { return watermark_; }
  // The lowest watermark at which advance() has work to do (a window to fire, state to drop),
  // or lower; INT64_MAX (kNever) when none. Below it advance(w) only sets watermark() (lazy time
  // advance, runtime::Matcher::advanceTo).
  std::int64_t nextDue() const {
    std::int64_t due = due_.empty() ? INT64_MAX : due_.front().time; // the heap's least
    due = std::min(due, time_due_);                                  // time windows'
    due = std::min(due, buckets_.firstTime());                       // rolling and none's
    due = std::min(due, fired_due_); // the marks of keys restored ahead, cleared
    std::int64_t reclaim;            // idle keys' memory
    if (!idle_.empty() && !__builtin_add_overflow(idle_.front().since, horizon_, &reclaim)) {
      due = std::min(due, reclaim);
    }
    return due;
  }

  EventFate onEvent(std::string_view key, const AggInput &in, std::vector<WindowResult> &out);
  // A hint that an event of `key` comes soon (Matcher::prefetch, engine/driver.hpp
  // "Prefetch"): starts loading its key table entry, and takes the keys hinted 2, 4 and 6 calls
  // before one load deeper each (the key's slot; its state block or pane row; its rolling
  // ring's ends), so that each key's chain is in cache ~8 hints after its own. Changes nothing
  // observable.
  void prefetch(std::string_view key);
  // Whether hints pay: the keys' state is larger than a core's cache (~1 MiB: a time window's
  // key takes ~64 bytes with its index entry and pane row, the others several hundred).
  bool prefetchWorthwhile() const;
  void advance(std::int64_t watermark, std::vector<WindowResult> &out) {
    if (watermark <= watermark_) {
      return;
    }
    if (watermark < nextDue()) { // nothing to do: the usual call (a time step, a settle)
      watermark_ = watermark;
      return;
    }
    advanceDue(watermark, out);
  }
  void finish(std::vector<WindowResult> &out);

  // Hands written results back (and clears `done`): the next results reuse their strings and
  // vectors, so a backend that recycles each batch allocates nothing per record once warm.
  void recycle(std::vector<WindowResult> &done);

  // The aggregate's `having`: a result whose values (values[i]: spec.accumulators[i]'s) it
  // rejects is not appended to `out`. The window counts as written all the same (a later
  // revision's number counts it), as when a backend tests `having` itself. A rolling or `none`
  // window tests it before the result is built: most events of `rolling ... having` write
  // nothing. Null (the default): every result.
  using ResultFilter = bool (*)(void *context, const std::vector<AggValue> &values);
  void setFilter(ResultFilter filter, void *context) {
    filter_ = filter;
    filter_context_ = context;
  }

  // A backend that reads a rolling window's values as RawValues (the native operator): its
  // results carry `raw` instead of `values`, and `having` (`filter`, may be null: every
  // result) is tested on them, with no AggValue made per event. Other windows keep `values`
  // and setFilter.
  using RawFilter = bool (*)(void *context, const RawValue *values);
  void setRawFilter(RawFilter filter, void *context) {
    raw_values_ = true;
    raw_.resize(spec_.accumulators.size());
    raw_filter_ = filter;
    raw_context_ = context;
  }

  AggregateStats stats() const;
  void snapshot(std::string &out) const;
  void restore(std::string_view bytes); // into a fresh aggregator (no keys yet)
  // The same bytes cut per key (`cep serve --state` key records, docs/state.md): `header` is
  // the CEPASNAP header (spec, watermark), `keys` each key's (name, record) in key order, the
  // record being the key's part of snapshot() (its name, then its windows). The snapshot is
  // header + u64 n + the records; restoreParts(header, records) (any order) on a fresh
  // aggregator equals restore() of it.
  void snapshotParts(std::string &header,
                     std::vector<std::pair<std::string, std::string>> &keys) const;
  void restoreParts(std::string_view header, std::vector<std::string_view> records);
  // Every open window as it stands, in key byte order (`cep state`, docs/state.md): time
  // windows that hold a pane and are not closed for good (not fired yet, or still open to
  // revisions under `lateness`; `revision` is the count of records it had), sessions (start:
  // first event, end: last event + gap), the rolling window and the running cell of a key. The
  // values are those a record written now would carry; nothing changes.
  // A key restored ahead lists none of its windows that fired where it was written (up to its
  // mark, firedMarks).
  void openWindows(std::vector<WindowResult> &out) const;
  // The keys restored from a partition taken over ahead whose mark is live (fired_), in key
  // byte order: (key, the watermark their windows fired up to where they were written).
  std::vector<std::pair<std::string, std::int64_t>> firedMarks() const;

  // Drain (`cep serve`, docs/serve.md "Aggregates"; aggregator_drain.cpp): a session or running
  // (`none`) window belongs to the version of a drain its start falls to, and the new version
  // must know the windows it does not own to see that a later event extends one of them.
  // seedFrom(from, before) gives this (fresh) aggregator the bounds of every session and running
  // cell `from` holds that started before `before`, with empty accumulators (its own spec's; it
  // never writes them), and `from`'s watermark: its windows then grow, merge and expire as
  // `from`'s do. Time and rolling windows need no seed (their bounds follow from the event).
  void seedFrom(const WindowAggregator &from, std::int64_t before);
  // Whether it holds a session or running cell that started before `before` (any other kind:
  // false).
  bool holdsWindowBefore(std::int64_t before) const;
  // Whether the old version of a drain at `before` has written its last window: no window
  // whose drainStart is before `before` can be written or revised any more. Time windows: the
  // last one that starts before `before` is closed for good (watermark >= end - 1 + lateness);
  // rolling: the watermark is at before + size - 1 (the last event it writes for); session: no
  // session that started before `before` is held, and none can come (a late event before
  // `before` is late, or too early for every session it could merge with: none held starts
  // before before - 1 + gap); none: every running cell that started before
  // `before` has expired (late events never count). False before the first watermark.
  bool drainedBefore(std::int64_t before) const;
  // A time at or after every event its state holds (a restored operator's switch time must be
  // after them: the state does not say which was the latest). Sessions, rolling and none: their
  // last events; time windows: the last millisecond of their latest pane. INT64_MIN: none held.
  std::int64_t latestHeld() const;

private:
  // A result for key k appended to `out` (a recycled one when there is one; written windows
  // fill the rest).
  WindowResult &newResult(const KeyState &k, std::vector<WindowResult> &out);
  // Whether the filter keeps out.back(); a rejected result goes back to the spares.
  bool keepLast(std::vector<WindowResult> &out);
  KeyState &keyFor(std::string_view key);
  // prefetch(): the state of the key of hash h, `depth` dependent loads deep.
  void prefetchKey(std::uint64_t h, int depth) const;
  bool isRunningWindow() const {
    return spec_.window == WindowKind::Rolling || spec_.window == WindowKind::None;
  }
  // advance() past the next due watermark: fires, drops and reclaims what is due.
  void advanceDue(std::int64_t watermark, std::vector<WindowResult> &out);
  // Puts k in the due set at `due` (kNever: takes it out).
  void setDue(KeyState &k, std::int64_t due);
  // The time of k's current entry in the due set (kNever: none).
  std::int64_t currentDue(const KeyState &k) const;
  std::int64_t dueOf(const KeyState &k) const;
  // The key whose due entry came up: processed, then due again or idle.
  void processDue(KeyState &k, std::int64_t old_w, std::vector<WindowResult> &out);
  void process(KeyState &k, std::int64_t old_w, std::vector<WindowResult> &out);
  // A key left with no state goes idle: it stays in the table (its buffers kept) for a key that
  // comes back within horizon_ (the usual key of a tumbling or rolling window comes back an
  // hour later), and reclaimIdle erases it from the table when it has not come back by then.
  void dropIfEmpty(KeyState &k);
  void reclaimIdle();

  // time windows (time_windows.cpp): the panes are columns (pane_columns.hpp), a key's slot
  // names the row of its latest pane
  EventFate timeEvent(KeyState &k, const AggInput &in, std::vector<WindowResult> &out);
  // An event (arrival seq) in k's pane p (a new row, its cell empty, if it has none): the
  // row's first arrival lowered to seq, its count one more (PaneColumn::touch); the rest of
  // CellLayout::add is the caller's.
  PaneColumn::Touched paneAdd(KeyState &k, std::int64_t p, std::uint64_t seq);
  // Frees what the cells of c's rows own (before the column goes).
  void destroyRows(PaneColumn &c) const;
  // Fires the windows with old_w < end - 1 <= watermark_ (each window's keys in order of first
  // arrival), then drops the panes and write counts that no window can use any more.
  void fireColumns(std::int64_t old_w, std::vector<WindowResult> &out);
  void fireWindow(std::int64_t end, PaneColumns::Map::const_iterator from, std::int64_t last_pane,
                  std::vector<WindowResult> &out);
  // One key's panes (for a window, a listing, a snapshot): pane index, its row in the pane's
  // column (PaneColumn::load gives its cell), first arrival.
  struct KeyPane {
    std::int64_t pane;
    const PaneColumn *column;
    std::uint32_t row;
    std::uint64_t first;
  };
  // k's panes in the window ending at `end`.
  void panesIn(const KeyState &k, std::int64_t end, std::vector<KeyPane> &panes) const;
  // Fills `r` with the window ending at `end` from the key's panes (in pane order; those
  // outside the window are skipped).
  void writeWindow(const std::vector<KeyPane> &panes, std::int64_t end, std::uint32_t revision,
                   WindowResult &r) const;
  // Every key's panes and write counts grouped by slot number, each key's in order (snapshots,
  // listings): a key's are the runs of its slot number.
  struct PaneRow {
    std::uint32_t slot;
    KeyPane pane;
  };
  struct WrittenRow {
    std::uint32_t slot;
    std::int64_t end;
    std::uint32_t writes;
  };
  struct TimeView {
    std::vector<PaneRow> rows;
    std::vector<WrittenRow> written;
    void panesOf(std::uint32_t slot, std::vector<KeyPane> &out) const;
  };
  TimeView timeView() const;
  // The lowest watermark at which fireColumns has work (a window to fire, a pane or a write
  // count to drop).
  std::int64_t timeDue() const;
  std::uint32_t writesOf(std::int64_t end, std::uint32_t slot) const;
  // sessions (aggregator.cpp)
  EventFate sessionEvent(KeyState &k, const AggInput &in, std::vector<WindowResult> &out);
  void writeSession(const KeyState &k, Session &s, std::vector<WindowResult> &out);
  void fireSessions(KeyState &k, std::vector<WindowResult> &out);
  std::int64_t sessionDue(const KeyState &k) const;
  // rolling and none (running.cpp)
  EventFate runningEvent(KeyState &k, const AggInput &in, std::vector<WindowResult> &out);
  void expireRunning(KeyState &k);
  // The record of a rolling window after its event (if `having` keeps it).
  EventFate rollingResult(const KeyState &k, const Rolling &ro, const AggInput &in,
                          std::vector<WindowResult> &out);
  void fillRolling(const Rolling &ro, WindowResult &r) const; // values, then events
  void rollingValues(const Rolling &ro, std::vector<AggValue> &values) const;
  void rollingRaw(const Rolling &ro, RawValue *values) const; // into raw_'s storage
  void rollingEvents(const Rolling &ro, WindowResult &r) const;
  AggValue rollingValue(const Rolling &ro, std::size_t entry, std::size_t acc) const;
  // When k's state ends: running_span_ after its last event (kNever: never, or no state).
  // The state covers [last, last + ttl); a rolling window's later event (time > watermark >=
  // last + S - 1) would take every entry out: they are dropped then.
  std::int64_t runningDue(const KeyState &k) const;
  // snapshot (aggregator_snapshot.cpp); `tv`: timeView() (time windows)
  void writeKey(SnapshotWriter &w, const KeyState &k, const TimeView &tv) const;
  // Rolling and none's due set (running.cpp, "The due set of rolling and none" there).
  void setRunningDue(KeyState &k, std::int64_t due);
  void fireRunning(std::int64_t old_w, std::vector<WindowResult> &out);
  void placeRunning(KeyState &k, std::int64_t old_w, std::vector<WindowResult> &out);
  std::vector<const KeyState *> liveKeys() const; // keys with state, in name order
  void readKey(SnapshotReader &r, KeyState &k);

  AggregateSpec spec_;
  CellLayout layout_;
  WindowGeometry geometry_;
  std::vector<std::int32_t> value_slot_; // rolling: each accumulator's value column (-1: none)
  std::size_t numeric_values_ = 0;       // rolling: numeric value columns per entry
  std::size_t string_values_ = 0;        // rolling: string value columns per entry
  bool reads_fields_ = false;            // rolling: some accumulator reads a field (null bits)
  std::int64_t watermark_;
  // Keys with state, and idle ones (empty()): a KeyState's address and slot number are stable,
  // so the due heap points at it and the pane columns and the idle list name it by number.
  std::unique_ptr<KeyTable> keys_;
  // Keys that went idle, in order of the watermark then; reclaimed once it is horizon_ past
  // (an entry is stale unless the key is still idle with the entry's mark).
  struct IdleKey {
    std::int64_t since;
    std::uint32_t slot;
    std::uint32_t mark;
  };
  std::deque<IdleKey> idle_;
  // Idle keys due for reclaim while their mark was live (fired_): erased with the marks.
  std::vector<IdleKey> held_idle_;
  std::int64_t horizon_ = 0;
  // Time windows' panes: a column per pane of (slot number, first arrival, cell) rows
  // (pane_columns.hpp); a key's slot names its latest pane's row. The windows fire from the
  // columns (a window combines its panes' columns), so no key is in a due set.
  PaneColumns columns_;
  // fireWindow's (first arrival, row or group) of the window being fired, kept between calls
  // (a window of many keys would map it fresh each time).
  std::vector<std::pair<std::uint64_t, std::uint32_t>> fire_order_;
  // prefetch()'s last hints (hashes), hint_at_ the next place.
  std::uint64_t hints_[8] = {};
  std::uint32_t hint_at_ = 0;
  // Time windows with lateness: (window end, slot number) -> records written, while the window
  // is open for late events (end - 1 + lateness > watermark).
  std::map<std::pair<std::int64_t, std::uint32_t>, std::uint32_t> written_;
  // Keys restored from a partition taken over ahead (docs/kafka.md "An aggregate's windows of a
  // partition taken over ahead"), every window kind: slot number -> the watermark their
  // record's writer had fired their windows up to, above this operator's. An event of such a
  // key at or before the mark is judged under it (late where it was late there: time windows
  // and sessions with `lateness` count it as a revision of the window the writer wrote, from
  // the record's write counts; rolling and none take no late event), and a time window of it
  // ending at E with E - 1 <= mark is not written again (it fired there; a session that ended
  // there is not pending in the record). Cleared once the watermark passes the highest mark
  // (fired_due_, advanceDue): empty in the steady state. A key with a live mark is not
  // reclaimed when it goes idle (held_idle_). Key records carry a live mark
  // (snapshot_format.hpp kFiredMarkBit).
  std::unordered_map<std::uint32_t, std::int64_t> fired_;
  std::int64_t fired_max_ = INT64_MIN;
  std::int64_t fired_due_ = INT64_MAX; // fired_max_ while fired_ holds a mark (nextDue)
  std::int64_t firedMark(std::uint32_t slot) const {
    if (fired_.empty()) {
      return INT64_MIN;
    }
    auto it = fired_.find(slot);
    return it == fired_.end() ? INT64_MIN : it->second;
  }
  void setFiredMark(std::uint32_t slot, std::int64_t mark);
  // Once the watermark is at the highest mark: the marks go, and the keys held for them.
  void clearPassedMarks();
  // Time windows: timeDue() or earlier (an event lowers it, fireColumns recomputes it).
  std::int64_t time_due_ = kNeverDue;
  static constexpr std::int64_t kNeverDue = INT64_MAX;
  std::uint32_t serial_ = 0; // idle marks (31 bits, never 0)
  std::uint32_t newSerial() {
    serial_ = (serial_ + 1) & 0x7FFFFFFFU;
    serial_ += serial_ == 0 ? 1 : 0;
    return serial_;
  }
  // Rolling and none (with a ttl): due buckets (due_buckets.hpp) per granule_ of due times: a
  // bucket at the granule's start holds the keys whose exact due (KeyExtra::due) was in it when
  // they entered; when it comes up, a key whose due moved on enters the bucket of its due's
  // granule, one whose due is in a granule already started enters the heap at its exact due
  // (running.cpp). A key's entry is current while it is in the due set with the bucket's serial
  // as its mark.
  DueBuckets buckets_;
  // Sessions: when each key next has work to do (a window to fire, state to drop), or
  // earlier: a min-heap of (time, order, key) without erase: an entry is current while it
  // equals the key's (KeyExtra::due, in the due set); others are skipped when they come up.
  // Two current entries of one key (its due went t, earlier, t again) process it once: the
  // first moves its due past t; advance sorts what is unsorted. Rolling and none: the keys due
  // in a started granule, at their exact due; an entry is current while the key is in the due
  // set with kInHeapMark as its mark (running.cpp).
  struct Due {
    std::int64_t time;
    std::uint64_t order;
    KeyState *key;
    bool operator>(const Due &o) const {
      return time != o.time ? time > o.time : order != o.order ? order > o.order : key > o.key;
    }
  };
  std::vector<Due> due_;
  // Rolling and none: a key's state lasts running_span_ ms after its last event (the window's
  // size, or the ttl when shorter; kNever: `none` without ttl, never due), and the due buckets
  // are granule_ ms wide (a 16th of it).
  std::int64_t running_span_ = INT64_MAX;
  std::int64_t granule_ = 1;
  std::uint64_t processed_ = 0;     // AggregateStats::processed
  std::vector<WindowResult> spare_; // recycled results (at most kMaxSpare)
  ResultFilter filter_ = nullptr;
  void *filter_context_ = nullptr;
  std::vector<AggValue> values_; // rolling and none: the values tested before a result is built
  bool raw_values_ = false;      // setRawFilter: rolling results carry raw_
  RawFilter raw_filter_ = nullptr;
  void *raw_context_ = nullptr;
  std::vector<RawValue> raw_; // rolling: the values of the last event's window
};

} // namespace cep::runtime::aggregate
