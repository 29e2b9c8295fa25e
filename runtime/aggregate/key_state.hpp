// The state of one key of an aggregate (internal to runtime/aggregate; aggregator.hpp is the
// interface). One struct for every window kind; only the members of the aggregate's kind are
// used.
#pragma once

#include "runtime/aggregate/cell.hpp"
#include "runtime/aggregate/pane_slots.hpp"

#include <algorithm>
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
  // Per entry when some accumulator reads a field (else empty): bit k set when accumulator k's
  // value is null.
  Ring<std::uint64_t> nulls;
  Ring<Slot> values;         // numeric_values_ per entry (bool as 0/1)
  Ring<std::string> strings; // string_values_ per entry
  std::vector<RollingAcc> accs;

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

// What a key needs beyond its panes: write counts (lateness), sessions, running state.
struct KeyExtra {
  // Windows written and still open for late events (lateness): end -> records written.
  std::vector<std::pair<std::int64_t, std::uint32_t>> written;
  // Sessions in order of start.
  std::vector<Session> sessions;
  // none: one cell since the key's first event (or since its ttl expired).
  std::vector<Slot> cell;
  std::int64_t first_time = 0;
  std::uint64_t first_seq = 0;
  // rolling and none: the key's last event (ttl).
  std::int64_t last_time = 0;
  // Sessions (in the due set): the time of the key's current entry in the due heap
  // (aggregator.hpp due_). Rolling and none: the key's exact due, when its state ends (its entry
  // in a due bucket or the heap is at or before it; running.cpp). Time windows keep theirs in
  // the due buckets (due_buckets.hpp).
  std::int64_t due = kNever;
  std::unique_ptr<Rolling> rolling;
};

// 80 bytes in the key table's slab (key_table.hpp), a tumbling count or count+sum key's one
// open window included (its pane is inline, PaneSlots): the key's "@key" JSON (32, its bytes
// inline up to 15), the panes (40: 32 inline, then size and capacity in 4 bytes beside the
// key's due/idle mark), the extra state's pointer sharing its word with the flags (8). Its slot
// number is not kept: the key table works it out from the address (KeyTable::slotOf).
struct KeyState {
  std::string name; // the key's "@key" JSON
  // Time windows: panes in order, flat: [pane index][first arrival][cell of width slots].
  PaneSlots panes;

private:
  // KeyExtra* (8-aligned) | the flags below in its low 3 bits.
  std::uintptr_t extra_ = 0;
  static constexpr std::uintptr_t kInTable = 1; // false: a free place of the key table's slab
  static constexpr std::uintptr_t kInDue = 2;   // in the due set (the heap or a due bucket)
  static constexpr std::uintptr_t kRunning = 4; // rolling/none state present
  static constexpr std::uintptr_t kFlags = 7;
  static_assert(alignof(KeyExtra) >= 8, "the flags take the pointer's 3 low bits");
  bool flag(std::uintptr_t f) const { return (extra_ & f) != 0; }
  void setFlag(std::uintptr_t f, bool on) { extra_ = on ? extra_ | f : extra_ & ~f; }

public:
  KeyState() = default;
  ~KeyState() { delete extra(); }
  KeyState(const KeyState &) = delete;
  KeyState &operator=(const KeyState &) = delete;

  bool inTable() const { return flag(kInTable); }
  void setInTable(bool on) { setFlag(kInTable, on); }
  bool inDue() const { return flag(kInDue); }
  void setInDue(bool on) { setFlag(kInDue, on); }
  bool running() const { return flag(kRunning); }
  void setRunning(bool on) { setFlag(kRunning, on); }
  // In the due set of a time window: the serial of the due bucket its current entry is in (an
  // entry of another serial is stale). Idle (empty(), not in the due set): the serial it got
  // when it went idle (WindowAggregator::idle_; an idle entry of another serial is stale).
  // Kept in the panes' spare 4 bytes.
  std::uint32_t mark() const { return panes.spare; }
  void setMark(std::uint32_t m) { panes.spare = m; }

  // The extra state, or null when the key never needed any.
  KeyExtra *extra() const { return reinterpret_cast<KeyExtra *>(extra_ & ~kFlags); }
  KeyExtra &x() {
    if (extra() == nullptr) {
      extra_ |= reinterpret_cast<std::uintptr_t>(new KeyExtra());
    }
    return *extra();
  }
  const KeyExtra &cx() const {
    static const KeyExtra none;
    return extra() != nullptr ? *extra() : none;
  }
  void dropExtra() {
    delete extra();
    extra_ &= kFlags;
  }

  std::size_t stride(const CellLayout &l) const { return 2 + l.width(); }
  bool empty() const {
    const KeyExtra *e = extra();
    return panes.empty() && !running() &&
           (e == nullptr || (e->written.empty() && e->sessions.empty()));
  }
  // Frees what the state owns but keeps the buffers that a key coming back fills again (the
  // panes' vector, a rolling window's rings): the key is empty() afterwards.
  void clearState(const CellLayout &l) {
    std::size_t st = stride(l);
    for (std::size_t at = 0; at < panes.size(); at += st) {
      l.destroy(panes.data() + at + 2);
    }
    panes.clear();
    if (KeyExtra *e = extra()) {
      for (Session &s : e->sessions) {
        l.destroy(s.cell.data());
      }
      e->sessions.clear();
      e->written.clear();
      if (!e->cell.empty()) {
        l.destroy(e->cell.data());
        e->cell.clear();
      }
      if (e->rolling) {
        e->rolling->clear();
      }
    }
    setRunning(false);
  }

  // The number (not offset) of the first pane with index >= p.
  std::size_t lowerPane(const CellLayout &l, std::int64_t p) const {
    std::size_t st = stride(l);
    std::size_t lo = 0;
    std::size_t hi = panes.size() / st;
    while (lo < hi) {
      std::size_t mid = (lo + hi) / 2;
      if (panes[mid * st].i < p) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
  // The cell of pane p (made empty if new); its first arrival lowered to `seq`.
  Slot *paneCell(const CellLayout &l, std::int64_t p, std::uint64_t seq) {
    std::size_t st = stride(l);
    if (!panes.empty() && panes[panes.size() - st].i == p) { // the usual: the latest pane
      Slot *pane = panes.data() + panes.size() - st;
      if (static_cast<std::uint64_t>(pane[1].i) > seq) {
        pane[1].i = static_cast<std::int64_t>(seq);
      }
      return pane + 2;
    }
    std::size_t i = lowerPane(l, p);
    if (i * st == panes.size() || panes[i * st].i != p) {
      panes.insert(i * st, st);
      panes[i * st].i = p;
      panes[i * st + 1].i = static_cast<std::int64_t>(seq);
      l.init(panes.data() + i * st + 2);
    }
    Slot *pane = panes.data() + i * st;
    if (static_cast<std::uint64_t>(pane[1].i) > seq) {
      pane[1].i = static_cast<std::int64_t>(seq);
    }
    return pane + 2;
  }
  std::uint32_t writes(std::int64_t end) const {
    if (extra() == nullptr) {
      return 0;
    }
    const auto &written = extra()->written;
    auto it = std::lower_bound(written.begin(), written.end(), std::make_pair(end, 0U));
    return it != written.end() && it->first == end ? it->second : 0;
  }
  void setWrites(std::int64_t end, std::uint32_t n) {
    auto &written = x().written;
    auto it = std::lower_bound(written.begin(), written.end(), std::make_pair(end, 0U));
    if (it != written.end() && it->first == end) {
      it->second = n;
    } else {
      written.insert(it, {end, n});
    }
  }
  // Frees what cells own.
  void destroy(const CellLayout &l) {
    std::size_t st = stride(l);
    for (std::size_t at = 0; at < panes.size(); at += st) {
      l.destroy(panes.data() + at + 2);
    }
    panes.clear();
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
static_assert(sizeof(KeyState) == 80, "a key's slot: see the comment above");

} // namespace cep::runtime::aggregate
