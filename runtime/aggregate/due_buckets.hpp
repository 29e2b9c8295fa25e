// The due set of rolling and none aggregates, per granule of due times (internal to
// runtime/aggregate; aggregator.hpp is the interface; running.cpp uses it): per due time, the
// slot numbers (KeyTable::at) of the keys that have work then. (Time windows fire from their
// panes' columns instead, pane_columns.hpp.) It was first made for time windows:
// Every key of a tumbling hour is due at the same time (its window's end - 1), so a bucket of
// 4-byte slot numbers per time costs 4 bytes a key, where a heap entry per key cost 24 (39 at
// the heap's capacity) and the key's own due time 8 more.
//
//   bucket   (time, serial, slots): the first 1,024 slots in a vector that doubles (a bucket
//            of a few keys stays small: a hopping window's keys spread over many due times),
//            the others in blocks of 1,024 (no doubling past that: at most one block's slack);
//            a key's entry is current while the key is in the due set with the bucket's serial
//            as its mark (KeyState::mark), else stale and skipped
//   by time  the buckets in time order (few: a tumbling window has one or two, a hopping one
//            at most size / slide, lateness adds the times windows close)
//
// A key moves to an earlier bucket by a new entry (its old one goes stale); the caller sorts a
// bucket's keys into output order when it fires (take()).
//
//   DueBuckets d;
//   std::uint32_t serial = d.add(t, keys.slotOf(k));  // k.setMark(serial)
//   d.timeOf(k.mark());                               // t
//   DueBuckets::Taken b;
//   while (d.take(watermark, b)) { for (std::uint32_t s : b.slots) ...; }
#pragma once

#include "support/internal_error.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace cep::runtime::aggregate {

class DueBuckets {
public:
  static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();

  // A bucket taken out (take): its time, its serial, its entries in the order they came.
  struct Taken {
    std::int64_t time = 0;
    std::uint32_t serial = 0;
    std::vector<std::uint32_t> slots;
  };

  bool empty() const { return by_time_.empty(); }
  // The earliest bucket's time, kNone when there is none.
  std::int64_t firstTime() const { return by_time_.empty() ? kNone : by_time_.begin()->first; }

  // A serial no bucket has had (never 0: a key's mark starts at 0). Also the idle list's marks.
  std::uint32_t newSerial() {
    if (++serial_ == 0) {
      ++serial_;
    }
    return serial_;
  }

  // The time of the bucket numbered `serial`, kNone when it is gone.
  // The last answer is kept: every key of a tumbling hour asks about the same bucket.
  std::int64_t timeOf(std::uint32_t serial) const {
    if (serial != last_serial_) {
      auto it = time_of_.find(serial);
      last_serial_ = serial;
      last_time_ = it == time_of_.end() ? kNone : it->second;
    }
    return last_time_;
  }

  // An entry for `slot` in the bucket of `time` (made if new); the bucket's serial.
  std::uint32_t add(std::int64_t time, std::uint32_t slot) {
    auto it = by_time_.find(time);
    if (it == by_time_.end()) {
      it = by_time_.emplace(time, Bucket{}).first;
      it->second.serial = newSerial();
      time_of_.emplace(it->second.serial, time);
      if (last_serial_ == it->second.serial) {
        last_serial_ = 0;
      }
    }
    Bucket &b = it->second;
    if (b.head.size() < kBlock) {
      b.head.push_back(slot);
    } else {
      if (b.more % kBlock == 0) {
        b.blocks.push_back(std::make_unique<std::uint32_t[]>(kBlock));
      }
      b.blocks[b.more / kBlock][b.more % kBlock] = slot;
      ++b.more;
    }
    return b.serial;
  }

  // Takes the earliest bucket out when its time is <= w: false when there is none.
  bool take(std::int64_t w, Taken &out) {
    if (by_time_.empty() || by_time_.begin()->first > w) {
      return false;
    }
    auto it = by_time_.begin();
    Bucket &b = it->second;
    out.time = it->first;
    out.serial = b.serial;
    out.slots.swap(b.head);
    out.slots.reserve(out.slots.size() + b.more);
    for (std::size_t i = 0; i < b.more; ++i) {
      out.slots.push_back(b.blocks[i / kBlock][i % kBlock]);
    }
    time_of_.erase(b.serial);
    if (last_serial_ == b.serial) {
      last_serial_ = 0;
    }
    by_time_.erase(it);
    return true;
  }

  // Bytes held: the blocks, and the buckets' map and serial index entries (counted as their
  // payload and two pointers' worth of node each: the node layouts are the library's).
  std::size_t bytes() const {
    std::size_t n = 0;
    for (const auto &[time, b] : by_time_) {
      n += b.head.capacity() * sizeof(std::uint32_t) +
           b.blocks.size() * kBlock * sizeof(std::uint32_t) +
           b.blocks.capacity() * sizeof(b.blocks[0]) + sizeof(time) + sizeof(Bucket) +
           4 * sizeof(void *);
    }
    n += time_of_.size() * (sizeof(std::uint32_t) + sizeof(std::int64_t) + 2 * sizeof(void *)) +
         time_of_.bucket_count() * sizeof(void *);
    return n;
  }

private:
  static constexpr std::size_t kBlock = 1024;
  struct Bucket {
    std::uint32_t serial = 0;
    std::vector<std::uint32_t> head; // the first kBlock entries
    std::size_t more = 0;            // entries in blocks
    std::vector<std::unique_ptr<std::uint32_t[]>> blocks;
  };
  std::map<std::int64_t, Bucket> by_time_;
  std::unordered_map<std::uint32_t, std::int64_t> time_of_;
  std::uint32_t serial_ = 0;
  mutable std::uint32_t last_serial_ = 0; // timeOf's last question (0: none) and answer
  mutable std::int64_t last_time_ = kNone;
};

} // namespace cep::runtime::aggregate
