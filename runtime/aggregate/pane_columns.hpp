// The panes of a time-window aggregate (internal to runtime/aggregate; aggregator.hpp is the
// interface): one column per pane, a row per key with events in it. A key's slot in the key
// table keeps only the row of its latest pane (KeyState::timeRow), so a tumbling count costs
// 4 + 4 + 4 bytes per (key, open window) here and 8 in the slot, count+sum 8 more.
//
//   column   the rows of one pane, in the order they came: per row the key's slot number
//            (KeyTable::at, 4 bytes), its first arrival (4: from the column's base, the first
//            row's), its event count (4: the cell's slot 0) and the cell's other slots (8 each:
//            a sum, a float sum, min/max's value and flag, ...), as four arrays per block of
//            rows (no padding between a row's parts). A count past 2^32 - 1 or an arrival
//            2^31 or more from the base widens the column's first arrivals and counts to 8
//            bytes (wide(): every block at once, never narrowed again). The first block
//            doubles from 1 row up to kBlock, then blocks of kBlock follow (no doubling past
//            that: at most one block's slack a column). find(slot) builds a hash of the rows on
//            its first use (an event for a key's earlier pane: a late or restored one; the
//            usual event goes to its key's latest pane, found through the key's slot).
//   columns  by pane index (the windows' panes in order: a window combines the columns of its
//            panes, and they are dropped from the front), and by a small id (the key's slot
//            names its latest column by id: 29 bits; ids are reused once a column is gone).
//
// A row's cell is not one run of slots: load(row, cell) gives it as CellLayout has it (a
// shallow copy: read it, or destroy() it when the row goes), store() sets it, and the usual
// event is bump(row) and CellLayout::addAccs on accs(row). Cells are not destroyed here (the
// layout is the aggregator's): the caller destroys each row's cell before it drops a column.
//
//   PaneColumns cs(width);
//   PaneColumn &c = cs.column(p);                 // made if new
//   std::uint32_t row = c.append(slot, seq);      // an empty cell (every slot zero)
//   std::uint64_t n = c.bump(row);                // its event count after one more
//   layout.addAccs(c.accs(row), n, in);           // the rest of CellLayout::add
//   cs.byId(c.id()).pane();                       // p
//   cs.dropFront();                               // the earliest column is gone
#pragma once

#include "runtime/event.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace cep::runtime::aggregate {

// A cell's slots in a buffer of its own: on the stack for the usual few, else on the heap (a
// pane row's cell is loaded into one to be combined, written or destroyed).
class CellBuffer {
public:
  explicit CellBuffer(std::size_t width) {
    if (width > std::size(small_)) {
      large_.resize(width);
      p_ = large_.data();
    }
  }
  CellBuffer(const CellBuffer &) = delete;
  CellBuffer &operator=(const CellBuffer &) = delete;
  Slot *get() { return p_; }

private:
  Slot small_[16];
  std::vector<Slot> large_;
  Slot *p_ = small_;
};

class PaneColumn {
public:
  static constexpr std::uint32_t kBlock = 1024; // rows a full block holds
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  // width: the cell's slots (CellLayout::width()): the event count and width - 1 others.
  PaneColumn(std::int64_t pane, std::uint32_t id, std::size_t width)
      : pane_(pane), id_(id), accs_(static_cast<std::uint32_t>(width - 1)) {
    CEP_ASSERT(width >= 1, "a cell has its event count");
  }
  PaneColumn(const PaneColumn &) = delete;
  PaneColumn &operator=(const PaneColumn &) = delete;

  std::int64_t pane() const { return pane_; }
  std::uint32_t id() const { return id_; }
  std::uint32_t size() const { return size_; }
  // Counts and first arrivals in 8 bytes (a count reached 2^32 - 1, or a first arrival is
  // 2^31 or more from the column's base): never narrowed again.
  bool wide() const { return wide_; }

  std::uint32_t slot(std::uint32_t row) const { return slots(row / kBlock)[row % kBlock]; }
  std::uint64_t first(std::uint32_t row) const {
    std::uint32_t b = row / kBlock;
    std::uint32_t i = row % kBlock;
    return wide_ ? firsts64(b)[i]
                 : base_ + static_cast<std::uint64_t>(static_cast<std::int64_t>(firsts32(b)[i]));
  }
  // Lowers the row's first arrival to seq.
  void lowerFirst(std::uint32_t row, std::uint64_t seq) {
    if (seq < first(row)) {
      setFirst(row, seq);
    }
  }
  // The row's event count (the cell's slot 0).
  std::uint64_t count(std::uint32_t row) const {
    std::uint32_t b = row / kBlock;
    std::uint32_t i = row % kBlock;
    return wide_ ? counts64(b)[i] : counts32(b)[i];
  }
  // One more event in the row: its count after.
  std::uint64_t bump(std::uint32_t row) {
    std::uint32_t b = row / kBlock;
    std::uint32_t i = row % kBlock;
    if (!wide_) {
      std::uint32_t &n = counts32(b)[i];
      if (n != std::numeric_limits<std::uint32_t>::max()) {
        return ++n;
      }
      widen();
    }
    return ++counts64(b)[i];
  }
  // The usual event of a row: its first arrival lowered to seq, its count one more; the count
  // after and the cell's other slots (one block look-up for both).
  struct Touched {
    std::uint64_t n;
    Slot *accs;
  };
  Touched touch(std::uint32_t row, std::uint64_t seq) {
    std::uint32_t b = row / kBlock;
    std::uint32_t i = row % kBlock;
    if (!wide_) {
      std::uint32_t cap = capOf(b);
      char *block = bytesOf(b);
      auto *first = reinterpret_cast<std::int32_t *>(block + firstsAt(cap, false)) + i;
      auto *n = reinterpret_cast<std::uint32_t *>(block + countsAt(cap, false)) + i;
      if (seq >= base_ + static_cast<std::uint64_t>(static_cast<std::int64_t>(*first)) &&
          *n != std::numeric_limits<std::uint32_t>::max()) {
        return {++*n, reinterpret_cast<Slot *>(block + accsAt(cap, false)) + i * accs_};
      }
    }
    lowerFirst(row, seq);
    return {bump(row), accs(row)};
  }
  // A prefetch hint (engine/driver.hpp "Prefetch"): starts loading the row's first arrival and
  // count, what touch() reads.
  void prefetchRow(std::uint32_t row) const {
    if (row < size_) {
      std::uint32_t b = row / kBlock;
      std::size_t at = std::size_t{row % kBlock} * (wide_ ? 8 : 4);
      const char *block = bytesOf(b);
      __builtin_prefetch(block + firstsAt(capOf(b), wide_) + at);
      __builtin_prefetch(block + countsAt(capOf(b), wide_) + at);
    }
  }
  // The cell's other slots (CellLayout::addAccs): width - 1 of them.
  Slot *accs(std::uint32_t row) { return accsOf(row / kBlock) + (row % kBlock) * accs_; }
  const Slot *accs(std::uint32_t row) const { return const_cast<PaneColumn *>(this)->accs(row); }
  // The row's cell as the layout has it (slot 0 the count), a shallow copy: what it points to
  // stays the row's (read it, or destroy() it when the row goes).
  void load(std::uint32_t row, Slot *cell) const {
    cell[0].i = static_cast<std::int64_t>(count(row));
    if (accs_ != 0) {
      std::memcpy(static_cast<void *>(cell + 1), accs(row), accs_ * sizeof(Slot));
    }
  }
  // Sets the row's cell (what it points to becomes the row's).
  void store(std::uint32_t row, const Slot *cell) {
    std::uint64_t n = static_cast<std::uint64_t>(cell[0].i);
    if (!wide_ && n > std::numeric_limits<std::uint32_t>::max() - 1U) {
      widen();
    }
    std::uint32_t b = row / kBlock;
    std::uint32_t i = row % kBlock;
    if (wide_) {
      counts64(b)[i] = n;
    } else {
      counts32(b)[i] = static_cast<std::uint32_t>(n);
    }
    if (accs_ != 0) {
      std::memcpy(static_cast<void *>(accs(row)), cell + 1, accs_ * sizeof(Slot));
    }
  }

  // A new row for `slot` (not in the column yet) with a zeroed cell; its number.
  std::uint32_t append(std::uint32_t slot, std::uint64_t first) {
    CEP_ASSERT(size_ < std::numeric_limits<std::uint32_t>::max() / 2, "too many rows in a pane");
    if (size_ == 0) {
      base_ = first;
    }
    std::uint32_t row = size_;
    std::uint32_t b = row / kBlock;
    if (b == blockCount()) {
      if ((b & (b - 1)) == 0) { // 0, 1, 2, 4, ...: the block table doubles
        auto table = std::make_unique<Block[]>(b == 0 ? 1 : 2 * std::size_t{b});
        for (std::uint32_t i = 0; i < b; ++i) {
          table[i] = std::move(blocks_[i]);
        }
        blocks_ = std::move(table);
      }
      blocks_[b] = allocate(b == 0 ? kFirst : kBlock, wide_);
      if (b == 0) {
        cap0_ = kFirst;
      }
    } else if (b == 0 && row == cap0_) { // the first block doubles
      std::uint16_t cap = static_cast<std::uint16_t>(cap0_ * 2);
      std::unique_ptr<std::uint64_t[]> grown = allocate(cap, wide_);
      copyRows(grown.get(), cap, wide_, blocks_[0].get(), cap0_, wide_, row);
      blocks_[0] = std::move(grown);
      cap0_ = cap;
    }
    std::uint32_t i = row % kBlock;
    slots(b)[i] = slot;
    if (wide_) {
      counts64(b)[i] = 0;
    } else {
      counts32(b)[i] = 0;
    }
    if (accs_ != 0) {
      std::memset(static_cast<void *>(accsOf(b) + i * accs_), 0, accs_ * sizeof(Slot));
    }
    ++size_;
    setFirst(row, first);
    if (index_) {
      index_->emplace(slot, row);
    }
    return row;
  }

  // The row of `slot`, kNone when it has none (the first call builds the column's hash).
  std::uint32_t find(std::uint32_t slot) const {
    if (!index_) {
      index_ = std::make_unique<std::unordered_map<std::uint32_t, std::uint32_t>>();
      index_->reserve(size_);
      for (std::uint32_t r = 0; r < size_; ++r) {
        index_->emplace(this->slot(r), r);
      }
    }
    auto it = index_->find(slot);
    return it == index_->end() ? kNone : it->second;
  }

  // Bytes held: the blocks (their capacity) and the hash when built (its entries counted as
  // their payload and two pointers each, its buckets as a pointer each).
  std::size_t bytes() const {
    std::size_t n = 0;
    std::uint32_t blocks = blockCount();
    for (std::uint32_t b = 0; b < blocks; ++b) {
      n += blockWords(b == 0 ? cap0_ : kBlock, wide_) * 8;
    }
    n += (blocks == 0 ? 0 : std::bit_ceil(blocks)) * sizeof(Block); // the block table
    if (index_) {
      n += index_->size() * (8 + 2 * sizeof(void *)) + index_->bucket_count() * sizeof(void *);
    }
    return n;
  }
  // Bytes of the rows themselves (slot number, first arrival, count, the cell's other slots).
  std::size_t rowBytes() const { return std::size_t{size_} * rowSize(wide_); }

private:
  static constexpr std::uint32_t kFirst = 1; // a hopping key's own pane: one row
  std::size_t rowSize(bool wide) const {
    return 4 + (wide ? 16 : 8) + std::size_t{accs_} * sizeof(Slot);
  }
  // A block of cap rows, in bytes from its start: cap slot numbers (4 bytes each), cap first
  // arrivals and cap counts (4 bytes each, or 8 from the next word when wide), then the cells'
  // other slots from the next word (8 bytes each).
  static std::size_t firstsAt(std::uint32_t cap, bool wide) {
    return wide ? (std::size_t{cap} * 4 + 7) / 8 * 8 : std::size_t{cap} * 4;
  }
  static std::size_t countsAt(std::uint32_t cap, bool wide) {
    return firstsAt(cap, wide) + std::size_t{cap} * (wide ? 8 : 4);
  }
  static std::size_t accsAt(std::uint32_t cap, bool wide) {
    return (countsAt(cap, wide) + std::size_t{cap} * (wide ? 8 : 4) + 7) / 8 * 8;
  }
  std::size_t blockWords(std::uint32_t cap, bool wide) const {
    return accsAt(cap, wide) / 8 + std::size_t{cap} * accs_;
  }
  std::unique_ptr<std::uint64_t[]> allocate(std::uint32_t cap, bool wide) const {
    return std::make_unique<std::uint64_t[]>(blockWords(cap, wide));
  }
  std::uint32_t capOf(std::uint32_t b) const { return b == 0 ? cap0_ : kBlock; }
  char *bytesOf(std::uint32_t b) const { return reinterpret_cast<char *>(blocks_[b].get()); }
  std::uint32_t *slots(std::uint32_t b) const {
    return reinterpret_cast<std::uint32_t *>(bytesOf(b));
  }
  std::int32_t *firsts32(std::uint32_t b) const {
    return reinterpret_cast<std::int32_t *>(bytesOf(b) + firstsAt(capOf(b), false));
  }
  std::uint32_t *counts32(std::uint32_t b) const {
    return reinterpret_cast<std::uint32_t *>(bytesOf(b) + countsAt(capOf(b), false));
  }
  std::uint64_t *firsts64(std::uint32_t b) const {
    return reinterpret_cast<std::uint64_t *>(bytesOf(b) + firstsAt(capOf(b), true));
  }
  std::uint64_t *counts64(std::uint32_t b) const {
    return reinterpret_cast<std::uint64_t *>(bytesOf(b) + countsAt(capOf(b), true));
  }
  Slot *accsOf(std::uint32_t b) const {
    return reinterpret_cast<Slot *>(bytesOf(b) + accsAt(capOf(b), wide_));
  }

  void setFirst(std::uint32_t row, std::uint64_t seq) {
    // seq - base_ as a signed 32-bit delta when it fits, else the column widens.
    std::uint64_t d = seq - base_; // two's complement: a seq below the base wraps
    std::int64_t delta = static_cast<std::int64_t>(d);
    bool fits = (seq >= base_ ? d <= std::uint64_t{std::numeric_limits<std::int32_t>::max()}
                              : base_ - seq <= std::uint64_t{1} << 31);
    if (!wide_ && !fits) {
      widen();
    }
    std::uint32_t b = row / kBlock;
    std::uint32_t i = row % kBlock;
    if (wide_) {
      firsts64(b)[i] = seq;
    } else {
      firsts32(b)[i] = static_cast<std::int32_t>(delta);
    }
  }

  // n rows from a block (cap, wide) to another (its cap, wide): its first arrivals and counts
  // widened when `to_wide` and the source is not.
  void copyRows(std::uint64_t *to, std::uint32_t to_cap, bool to_wide, const std::uint64_t *from,
                std::uint32_t from_cap, bool from_wide, std::uint32_t n) const {
    char *t = reinterpret_cast<char *>(to);
    const char *f = reinterpret_cast<const char *>(from);
    std::memcpy(t, f, std::size_t{n} * 4);
    if (to_wide == from_wide) {
      std::size_t w = to_wide ? 8 : 4;
      std::memcpy(t + firstsAt(to_cap, to_wide), f + firstsAt(from_cap, from_wide), n * w);
      std::memcpy(t + countsAt(to_cap, to_wide), f + countsAt(from_cap, from_wide), n * w);
    } else {
      CEP_ASSERT(to_wide, "a column is never narrowed");
      const auto *ff = reinterpret_cast<const std::int32_t *>(f + firstsAt(from_cap, false));
      const auto *fc = reinterpret_cast<const std::uint32_t *>(f + countsAt(from_cap, false));
      auto *tf = reinterpret_cast<std::uint64_t *>(t + firstsAt(to_cap, true));
      auto *tc = reinterpret_cast<std::uint64_t *>(t + countsAt(to_cap, true));
      for (std::uint32_t i = 0; i < n; ++i) {
        tf[i] = base_ + static_cast<std::uint64_t>(static_cast<std::int64_t>(ff[i]));
        tc[i] = fc[i];
      }
    }
    if (accs_ != 0) {
      std::memcpy(t + accsAt(to_cap, to_wide), f + accsAt(from_cap, from_wide),
                  std::size_t{n} * accs_ * sizeof(Slot));
    }
  }
  // Every block to 8-byte first arrivals and counts.
  void widen() {
    CEP_ASSERT(!wide_, "a wide column widened again");
    for (std::uint32_t b = 0; b < blockCount(); ++b) {
      std::uint32_t cap = capOf(b);
      std::uint32_t rows = std::min(cap, size_ - b * kBlock);
      std::unique_ptr<std::uint64_t[]> w = allocate(cap, true);
      copyRows(w.get(), cap, true, blocks_[b].get(), cap, false, rows);
      blocks_[b] = std::move(w);
    }
    wide_ = true;
  }

  std::int64_t pane_;
  std::uint64_t base_ =
      0; // the first arrival of the first row: narrow first arrivals count from it
  std::uint32_t id_;
  std::uint32_t size_ = 0;
  std::uint32_t accs_;     // the cell's slots past its count
  std::uint16_t cap0_ = 0; // the first block's capacity in rows (up to kBlock)
  bool wide_ = false;
  // The blocks (blockCount() of them) in a table of a power of two places: a column is 48
  // bytes, most of a short slide's columns have one row.
  using Block = std::unique_ptr<std::uint64_t[]>;
  std::unique_ptr<Block[]> blocks_;
  std::uint32_t blockCount() const { return (size_ + kBlock - 1) / kBlock; }
  mutable std::unique_ptr<std::unordered_map<std::uint32_t, std::uint32_t>> index_; // find()
};

static_assert(sizeof(PaneColumn) == 48, "a column: see blocks_ above");

class PaneColumns {
public:
  static constexpr std::uint32_t kMaxId = (std::uint32_t{1} << 29) - 1;

  explicit PaneColumns(std::size_t width) : width_(width), by_id_(1, nullptr) {}

  bool empty() const { return by_pane_.empty(); }
  std::size_t count() const { return by_pane_.size(); }
  // In pane order.
  using Map = std::map<std::int64_t, PaneColumn>; // nodes: stable addresses
  const Map &byPane() const { return by_pane_; }
  Map &byPane() { return by_pane_; }
  Map::const_iterator lowerBound(std::int64_t pane) const { return by_pane_.lower_bound(pane); }
  PaneColumn &front() { return by_pane_.begin()->second; }
  PaneColumn &back() { return by_pane_.rbegin()->second; }
  const PaneColumn &back() const { return by_pane_.rbegin()->second; }
  PaneColumn &byId(std::uint32_t id) { return *by_id_[id]; }
  // The column of that id, or null (a prefetch hint's stale id).
  const PaneColumn *findById(std::uint32_t id) const {
    return id < by_id_.size() ? by_id_[id] : nullptr;
  }

  // The column of pane p, made if new (the last one asked for is remembered: the events of a
  // time step go to one pane).
  PaneColumn &column(std::int64_t p) {
    if (last_ != nullptr && last_->pane() == p) {
      return *last_;
    }
    auto it = by_pane_.find(p);
    if (it == by_pane_.end()) {
      std::uint32_t id;
      if (!free_ids_.empty()) {
        id = free_ids_.back();
        free_ids_.pop_back();
      } else {
        CEP_ASSERT(by_id_.size() <= kMaxId, "too many open panes");
        id = static_cast<std::uint32_t>(by_id_.size());
        by_id_.push_back(nullptr);
      }
      it = by_pane_
               .emplace(std::piecewise_construct, std::forward_as_tuple(p),
                        std::forward_as_tuple(p, id, width_))
               .first;
      by_id_[id] = &it->second;
    }
    last_ = &it->second;
    return *last_;
  }

  // The earliest column is gone (its cells destroyed by the caller).
  void dropFront() {
    auto it = by_pane_.begin();
    std::uint32_t id = it->second.id();
    if (last_ == &it->second) {
      last_ = nullptr;
    }
    by_id_[id] = nullptr;
    free_ids_.push_back(id);
    by_pane_.erase(it);
  }

  // Bytes held: the columns, their map entries (payload and four pointers each: the node
  // layout is the library's), the id table and its free list.
  std::size_t bytes() const {
    std::size_t n = by_id_.capacity() * sizeof(by_id_[0]) + free_ids_.capacity() * 4;
    for (const auto &[p, c] : by_pane_) {
      n += c.bytes() + sizeof(p) + sizeof(c) + 4 * sizeof(void *);
    }
    return n;
  }

private:
  std::size_t width_;
  Map by_pane_;
  std::vector<PaneColumn *> by_id_; // id 0: none
  std::vector<std::uint32_t> free_ids_;
  PaneColumn *last_ = nullptr;
};

} // namespace cep::runtime::aggregate
