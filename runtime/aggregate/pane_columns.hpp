// The panes of a time-window aggregate (internal to runtime/aggregate; aggregator.hpp is the
// interface): one column per pane, a row per key with events in it. A key's slot in the key
// table keeps only the row of its latest pane (KeyState::timeRow), so a tumbling count costs
// 4 + 8 + 8 bytes per (key, open window) here and 8 in the slot, where a pane in the key's slot
// with its index, the slot's bookkeeping and a due entry cost 54.
//
//   column   the rows of one pane, in the order they came: per row the key's slot number
//            (KeyTable::at, 4 bytes), its first arrival (8) and its cell (width slots), as
//            three arrays per block of rows (no padding between a row's parts). The first
//            block doubles from 4 rows up to kBlock, then blocks of kBlock follow (no doubling
//            past that: at most one block's slack a column). find(slot) builds a hash of the
//            rows on its first use (an event for a key's earlier pane: a late or restored one;
//            the usual event goes to its key's latest pane, found through the key's slot).
//   columns  by pane index (the windows' panes in order: a window combines the columns of its
//            panes, and they are dropped from the front), and by a small id (the key's slot
//            names its latest column by id: 29 bits; ids are reused once a column is gone).
//
// Cells are not destroyed here (the layout is the aggregator's): the caller destroys each
// row's cell before it drops a column.
//
//   PaneColumns cs(width);
//   PaneColumn &c = cs.column(p);                 // made if new
//   std::uint32_t row = c.append(slot, seq);      // zeroed cell: layout.init(c.cell(row))
//   cs.byId(c.id()).pane();                       // p
//   cs.dropFront();                               // the earliest column is gone
#pragma once

#include "runtime/event.hpp"
#include "support/internal_error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace cep::runtime::aggregate {

class PaneColumn {
public:
  static constexpr std::uint32_t kBlock = 1024; // rows a full block holds
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  PaneColumn(std::int64_t pane, std::uint32_t id, std::size_t width)
      : pane_(pane), id_(id), width_(static_cast<std::uint32_t>(width)) {}
  PaneColumn(const PaneColumn &) = delete;
  PaneColumn &operator=(const PaneColumn &) = delete;

  std::int64_t pane() const { return pane_; }
  std::uint32_t id() const { return id_; }
  std::uint32_t size() const { return size_; }

  std::uint32_t slot(std::uint32_t row) const { return slots(row / kBlock)[row % kBlock]; }
  std::uint64_t first(std::uint32_t row) const { return firsts(row / kBlock)[row % kBlock]; }
  // Lowers the row's first arrival to seq.
  void lowerFirst(std::uint32_t row, std::uint64_t seq) {
    std::uint64_t &f = firsts(row / kBlock)[row % kBlock];
    f = seq < f ? seq : f;
  }
  Slot *cell(std::uint32_t row) { return cells(row / kBlock) + (row % kBlock) * width_; }
  const Slot *cell(std::uint32_t row) const { return const_cast<PaneColumn *>(this)->cell(row); }

  // A new row for `slot` (not in the column yet) with a zeroed cell; its number.
  std::uint32_t append(std::uint32_t slot, std::uint64_t first) {
    CEP_ASSERT(size_ < std::numeric_limits<std::uint32_t>::max() / 2, "too many rows in a pane");
    std::uint32_t row = size_;
    std::uint32_t b = row / kBlock;
    if (b == blocks_.size()) {
      blocks_.push_back(allocate(b == 0 ? kFirst : kBlock));
      if (b == 0) {
        cap0_ = kFirst;
      }
    } else if (b == 0 && row == cap0_) { // the first block doubles
      std::uint32_t cap = cap0_ * 2;
      std::unique_ptr<std::uint64_t[]> grown = allocate(cap);
      std::uint32_t old = cap0_;
      cap0_ = cap;
      std::swap(grown, blocks_[0]);
      // grown: the old block (capacity old); blocks_[0]: the new one (capacity cap)
      std::memcpy(slots(0), reinterpret_cast<const std::uint32_t *>(grown.get()), row * 4);
      std::memcpy(firsts(0), grown.get() + words32(old), row * 8);
      std::memcpy(static_cast<void *>(cells(0)), grown.get() + words32(old) + old,
                  row * width_ * sizeof(Slot));
    }
    std::uint32_t i = row % kBlock;
    slots(b)[i] = slot;
    firsts(b)[i] = first;
    std::memset(static_cast<void *>(cells(b) + i * width_), 0, width_ * sizeof(Slot));
    ++size_;
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
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      n += blockWords(b == 0 ? cap0_ : kBlock) * 8;
    }
    n += blocks_.capacity() * sizeof(blocks_[0]);
    if (index_) {
      n += index_->size() * (8 + 2 * sizeof(void *)) + index_->bucket_count() * sizeof(void *);
    }
    return n;
  }
  // Bytes of the rows themselves (slot number, first arrival, cell).
  std::size_t rowBytes() const { return size_ * (4 + 8 + width_ * sizeof(Slot)); }

private:
  static constexpr std::uint32_t kFirst = 1; // a hopping key's own pane: one row
  // A block of cap rows in 8-byte words: cap slot numbers (4 bytes each, rounded up to a
  // word), cap first arrivals, cap cells.
  static std::size_t words32(std::uint32_t cap) { return (cap + 1) / 2; }
  std::size_t blockWords(std::uint32_t cap) const {
    return words32(cap) + cap + std::size_t{cap} * width_;
  }
  std::unique_ptr<std::uint64_t[]> allocate(std::uint32_t cap) const {
    return std::make_unique<std::uint64_t[]>(blockWords(cap));
  }
  std::uint32_t capOf(std::uint32_t b) const { return b == 0 ? cap0_ : kBlock; }
  std::uint32_t *slots(std::uint32_t b) const {
    return reinterpret_cast<std::uint32_t *>(blocks_[b].get());
  }
  std::uint64_t *firsts(std::uint32_t b) const { return blocks_[b].get() + words32(capOf(b)); }
  Slot *cells(std::uint32_t b) const {
    return reinterpret_cast<Slot *>(blocks_[b].get() + words32(capOf(b)) + capOf(b));
  }

  std::int64_t pane_;
  std::uint32_t id_;
  std::uint32_t size_ = 0;
  std::uint32_t cap0_ = 0; // the first block's capacity in rows
  std::uint32_t width_;
  std::vector<std::unique_ptr<std::uint64_t[]>> blocks_;
  mutable std::unique_ptr<std::unordered_map<std::uint32_t, std::uint32_t>> index_; // find()
};

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
