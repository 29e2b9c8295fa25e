// The state of one key of an aggregate (internal to runtime/aggregate; aggregator.hpp is the
// interface). One struct for every window kind; only the members of the aggregate's kind are
// used.
#pragma once

#include "runtime/aggregate/cell.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cep::runtime::aggregate {

// A key with nothing left to do is not in the due set.
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct Session {
  std::int64_t start = 0; // first event
  std::int64_t last = 0;  // last event; the window ends at last + gap
  std::uint64_t first_seq = 0;
  std::uint32_t writes = 0; // records written for it (the next one's revision)
  bool pending = true;      // changed since its last record
  std::vector<Slot> cell;
};

// A FIFO over a power-of-two ring (std::deque allocates blocks even when empty, and a rolling
// key has several): no allocation until the first push, doubling when full.
template <class T> class Ring {
public:
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::size_t capacity() const { return buf_.size(); }
  T &operator[](std::size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  const T &operator[](std::size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  T &front() { return (*this)[0]; }
  const T &front() const { return (*this)[0]; }
  T &back() { return (*this)[n_ - 1]; }
  const T &back() const { return (*this)[n_ - 1]; }
  void push_back(T v) {
    if (n_ == buf_.size()) {
      std::vector<T> grown(std::max<std::size_t>(8, buf_.size() * 2));
      for (std::size_t i = 0; i < n_; ++i) {
        grown[i] = std::move((*this)[i]);
      }
      buf_ = std::move(grown);
      head_ = 0;
    }
    buf_[(head_ + n_) & (buf_.size() - 1)] = std::move(v);
    ++n_;
  }
  // A prefetch hint: starts loading the oldest entry and the place of the next push.
  void prefetchEnds() const {
    if (!buf_.empty()) {
      __builtin_prefetch(&buf_[head_]);
      __builtin_prefetch(&buf_[(head_ + n_) & (buf_.size() - 1)]);
    }
  }
  void pop_front() {
    front() = T{}; // frees what it holds
    head_ = (head_ + 1) & (buf_.size() - 1);
    --n_;
  }
  void pop_back() {
    back() = T{};
    --n_;
  }
  void clear() { // keeps the buffer
    while (n_ > 0) {
      pop_back();
    }
    head_ = 0;
  }

private:
  std::vector<T> buf_;
  std::size_t head_ = 0;
  std::size_t n_ = 0;
};

// A rolling window's events, oldest first (16 bytes; what each accumulator needs to take one
// out is in Rolling's other rings).
struct RollingEntry {
  std::int64_t time = 0;
  std::uint64_t seq = 0;
};
struct RollingAcc {
  std::int64_t n = 0;    // non-null values (count(p.f), avg)
  std::int64_t isum = 0; // int and duration sums (wrapping, exact)
  // Float sums: two stacks. `front` holds suffix sums over the oldest entries (back() = the
  // oldest, a sum over it and every newer front entry); `back_sum` sums the newer ones in
  // arrival order. Taking the oldest out pops `front`; when it is empty, every entry moves to
  // it. So a sum never subtracts: no rounding drift, O(1) amortised.
  std::vector<std::pair<double, bool>> front; // (sum, any non-null)
  double back_sum = 0;
  bool back_has = false;
  // min/max: the entries no newer entry beats (a monotonic deque), oldest first.
  Ring<std::pair<std::uint64_t, Slot>> mono;
  Ring<std::pair<std::uint64_t, std::string>> smono;
  DistinctSet distinct;
};
struct Rolling {
  Ring<RollingEntry> q;
  std::vector<RollingAcc> accs;
  // Per entry when some accumulator reads a field (else empty): bit k set when accumulator k's
  // value is null.
  Ring<std::uint64_t> nulls;
  Ring<Slot> values;         // numeric_values_ per entry (bool as 0/1)
  Ring<std::string> strings; // string_values_ per entry

  std::uint64_t nullsAt(std::size_t entry) const { return nulls.empty() ? 0 : nulls[entry]; }
  // Empty again, keeping the buffers (a key whose window emptied and that comes back).
  void clear() {
    q.clear();
    nulls.clear();
    values.clear();
    strings.clear();
    for (RollingAcc &a : accs) {
      a = RollingAcc{};
    }
  }
};

// What a key of a session, rolling or `none` aggregate needs beyond its name: sessions, running
// state, its due time and idle mark. (A time window's key has none: its panes are in the
// aggregate's pane columns, pane_columns.hpp.) A rolling aggregate's key has a
// RollingKeyExtra: its Rolling in the same allocation (below).
struct KeyExtra {
  // Sessions in order of start.
  std::vector<Session> sessions;
  // none: one cell since the key's first event (or since its ttl expired).
  std::vector<Slot> cell;
  std::int64_t first_time = 0;
  std::uint64_t first_seq = 0;
  // What a rolling event reads and writes, last (with the Rolling's queue right after it:
  // RollingKeyExtra).
  // rolling and none: the key's last event (ttl).
  std::int64_t last_time = 0;
  // Sessions (in the due set): the time of the key's current entry in the due heap
  // (aggregator.hpp due_). Rolling and none: the key's exact due, when its state ends (its entry
  // in a due bucket or the heap is at or before it; running.cpp). Time windows have no due of
  // their own: they fire from their panes' columns (pane_columns.hpp).
  std::int64_t due = kNever;
  // Idle (empty(), not in the due set): the serial it got when it went idle
  // (WindowAggregator::idle_; an idle entry of another serial is stale).
  std::uint32_t mark = 0;
  // Allocated as a RollingKeyExtra (KeyState::rollingX): rolling() is its Rolling.
  bool has_rolling = false;

  inline Rolling *rolling();
  inline const Rolling *rolling() const;
  // Frees a KeyExtra or RollingKeyExtra (KeyState's word points at either).
  static inline void destroy(KeyExtra *e);
};

// A rolling key's extra state and its Rolling in one allocation: the key's last time, due and
// mark, and the Rolling's queue (its ring's buffer, head and size) are 64 adjacent bytes
// (offsets 64..127), found from the KeyExtra's address with no pointer of their own, so a
// rolling event follows one dependent load less (key slot -> these bytes -> the ring) than with
// the Rolling allocated apart. Not aligned to a cache line (the bytes may span two, loaded side
// by side): an over-aligned `new` is glibc's memalign, which cost ~140 bytes a key in RSS
// (bench/RESULTS.md "Rolling's state in one block").
struct RollingKeyExtra : KeyExtra {
  Rolling ro;
};
static_assert(offsetof(KeyExtra, last_time) == 64 && sizeof(KeyExtra) == 88 &&
                  offsetof(RollingKeyExtra, ro) == 88 && offsetof(Rolling, q) == 0 &&
                  sizeof(Ring<RollingEntry>) == 40,
              "a rolling event's fields side by side: see RollingKeyExtra");

Rolling *KeyExtra::rolling() {
  return has_rolling ? &static_cast<RollingKeyExtra *>(this)->ro : nullptr;
}
const Rolling *KeyExtra::rolling() const {
  return has_rolling ? &static_cast<const RollingKeyExtra *>(this)->ro : nullptr;
}
void KeyExtra::destroy(KeyExtra *e) {
  if (e != nullptr && e->has_rolling) {
    delete static_cast<RollingKeyExtra *>(e);
  } else {
    delete e;
  }
}

// 40 bytes in the key table's slab (key_table.hpp): the key's "@key" JSON (32, its bytes inline
// up to 15) and one word. Its slot number is not kept: the key table works it out from the
// address (KeyTable::slotOf). The word is one of two kinds (bit 63, set by the aggregator when
// the key enters the table):
//   session, rolling, none   KeyExtra* (8-aligned, below 2^63) | flags in the low 3 bits
//   time windows             bit 63 | the row of its latest pane (bits 32..62: 31 bits) | that
//                            pane's column id (bits 3..31: 29 bits, 0: the key holds no pane)
//                            | kInTable. With no pane, the row's bits are its idle mark.
// A time window's key holds a row in its latest pane's column and maybe rows in earlier ones
// (pane_columns.hpp); columns are dropped in pane order, so when its latest one goes, it holds
// none.
struct KeyState {
  std::string name; // the key's "@key" JSON

private:
  std::uint64_t word_ = 0;
  static constexpr std::uint64_t kInTable = 1; // false: a free place of the key table's slab
  static constexpr std::uint64_t kInDue = 2;   // in the due heap (session, rolling, none)
  static constexpr std::uint64_t kRunning = 4; // rolling/none state present
  static constexpr std::uint64_t kFlags = 7;
  static constexpr std::uint64_t kTime = std::uint64_t{1} << 63;
  static constexpr std::uint64_t kColumnMask = ((std::uint64_t{1} << 29) - 1) << 3;
  static constexpr std::uint64_t kRowMask = ((std::uint64_t{1} << 31) - 1) << 32;
  static_assert(alignof(KeyExtra) >= 8, "the flags take the pointer's 3 low bits");
  bool flag(std::uint64_t f) const { return (word_ & f) != 0; }
  void setFlag(std::uint64_t f, bool on) { word_ = on ? word_ | f : word_ & ~f; }
  bool time() const { return (word_ & kTime) != 0; }

public:
  KeyState() = default;
  ~KeyState() { KeyExtra::destroy(extra()); }
  KeyState(const KeyState &) = delete;
  KeyState &operator=(const KeyState &) = delete;

  // A place of the key table taken by a new key: in the table, nothing else.
  void reset() {
    KeyExtra::destroy(extra());
    word_ = kInTable;
  }
  bool inTable() const { return flag(kInTable); }
  void setInTable(bool on) { setFlag(kInTable, on); }
  bool inDue() const { return !time() && flag(kInDue); }
  void setInDue(bool on) { setFlag(kInDue, on); }
  bool running() const { return !time() && flag(kRunning); }
  void setRunning(bool on) { setFlag(kRunning, on); }

  // ---- time windows
  // The key of a time window (no extra state; no pane yet).
  void setTimeKey() {
    CEP_ASSERT(extra() == nullptr, "a time window's key has no extra state");
    word_ = kTime | (word_ & kInTable);
  }
  // The id of its latest pane's column (0: it holds no pane) and its row there.
  std::uint32_t timeColumn() const {
    return static_cast<std::uint32_t>((word_ & kColumnMask) >> 3);
  }
  std::uint32_t timeRow() const { return static_cast<std::uint32_t>((word_ & kRowMask) >> 32); }
  void setTimeLatest(std::uint32_t column, std::uint32_t row) {
    CEP_ASSERT(column != 0 && column < (std::uint32_t{1} << 29) && row < (std::uint32_t{1} << 31),
               "pane column or row out of range");
    word_ = kTime | (std::uint64_t{row} << 32) | (std::uint64_t{column} << 3) | (word_ & kInTable);
  }

  // Its last pane is gone: it holds none.
  void setTimeNone() { word_ = kTime | (word_ & kInTable); }

  // Idle (empty(), not in the due set): the serial it got when it went idle (31 bits).
  std::uint32_t mark() const {
    if (time()) {
      return timeColumn() == 0 ? timeRow() : 0;
    }
    return extra() != nullptr ? extra()->mark : 0;
  }
  void setMark(std::uint32_t m) {
    if (time()) {
      CEP_ASSERT(timeColumn() == 0, "an idle mark for a key with panes");
      word_ = kTime | (std::uint64_t{m & 0x7FFFFFFFU} << 32) | (word_ & kInTable);
    } else if (m != 0 || extra() != nullptr) {
      x().mark = m;
    }
  }

  // The extra state, or null when the key never needed any (a time window's key never does).
  KeyExtra *extra() const {
    return time() ? nullptr : reinterpret_cast<KeyExtra *>(word_ & ~kFlags);
  }
  // The extra state, made on first use (a plain KeyExtra).
  KeyExtra &x() {
    CEP_ASSERT(!time(), "a time window's key has no extra state");
    if (extra() == nullptr) {
      word_ |= reinterpret_cast<std::uintptr_t>(new KeyExtra());
    }
    return *extra();
  }
  // A rolling aggregate's key's Rolling: on first use made with its KeyExtra in one block
  // (RollingKeyExtra), with `accs` accumulators.
  Rolling &rollingX(std::size_t accs) {
    CEP_ASSERT(!time(), "a time window's key has no extra state");
    KeyExtra *e = extra();
    if (e != nullptr && e->has_rolling) {
      return *e->rolling();
    }
    // New, or a plain KeyExtra made before (an idle mark): moved into the combined block.
    auto *r = new RollingKeyExtra();
    if (e != nullptr) {
      static_cast<KeyExtra &>(*r) = std::move(*e);
      dropExtra();
    }
    r->has_rolling = true;
    r->ro.accs.resize(accs);
    word_ |= reinterpret_cast<std::uintptr_t>(static_cast<KeyExtra *>(r));
    return r->ro;
  }
  const KeyExtra &cx() const {
    static const KeyExtra none;
    return extra() != nullptr ? *extra() : none;
  }
  void dropExtra() {
    KeyExtra::destroy(extra());
    if (!time()) {
      word_ &= kFlags;
    }
  }

  bool empty() const {
    if (time()) {
      return timeColumn() == 0;
    }
    const KeyExtra *e = extra();
    return !running() && (e == nullptr || e->sessions.empty());
  }
  // Frees what the state owns but keeps the buffers that a key coming back fills again (a
  // rolling window's rings): the key is empty() afterwards. (Not for time windows' keys: their
  // panes are the columns'.)
  void clearState(const CellLayout &l) {
    if (KeyExtra *e = extra()) {
      for (Session &s : e->sessions) {
        l.destroy(s.cell.data());
      }
      e->sessions.clear();
      if (!e->cell.empty()) {
        l.destroy(e->cell.data());
        e->cell.clear();
      }
      if (Rolling *ro = e->rolling()) {
        ro->clear();
      }
    }
    setRunning(false);
  }

  // Frees what cells own (a time window's panes: the aggregator, from its columns).
  void destroy(const CellLayout &l) {
    if (KeyExtra *e = extra()) {
      for (Session &s : e->sessions) {
        l.destroy(s.cell.data());
      }
      if (!e->cell.empty()) {
        l.destroy(e->cell.data());
      }
      dropExtra();
    }
    setRunning(false);
  }
};
static_assert(sizeof(KeyState) == 40, "a key's slot: see the comment above");

} // namespace cep::runtime::aggregate
