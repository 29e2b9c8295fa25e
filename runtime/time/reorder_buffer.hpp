// Holds accepted events until the watermark passes them, then hands them out in event-time
// order, equal times in arrival order (spec §4). Built for mostly ordered input: an event not
// earlier than the newest buffered one is appended to an in-order run (O(1)); only events that
// arrive out of order go to a binary heap; release merges the two. The run is a ring buffer
// (power-of-two capacity, doubled when full); the ring and the heap give their memory back when
// they empty after having grown large.
#pragma once

#include "runtime/event.hpp"
#include "runtime/time/watermarks.hpp"

#include <cstdint>
#include <vector>

namespace cep::runtime {

enum class PushResult : std::uint8_t { Buffered, Late };

class ReorderBuffer {
public:
  // Buffers `event` unless its time is <= the watermark already reached (then it is late and
  // not kept). Push order is arrival order.
  PushResult push(EventRef &&event) {
    std::int64_t time = event->time;
    // In order, with room in the ring: append (arrival numbers only grow, so an equal time
    // also belongs at the end of the run).
    if (count_ != 0 && count_ <= mask_ && runAt(count_ - 1).time <= time &&
        (watermark_ == kNoWatermark || time > watermark_)) {
      Entry &slot = ring_[(head_ + count_) & mask_];
      slot.time = time;
      slot.arrival = arrivals_++;
      slot.event = std::move(event);
      ++count_;
      return PushResult::Buffered;
    }
    return pushSlow(std::move(event));
  }

  // Raises the release watermark (never lowers it): every buffered event with time <= it
  // becomes ready.
  void advanceTo(std::int64_t watermark) {
    if (watermark > watermark_) {
      watermark_ = watermark;
    }
  }
  // End of input: the watermark becomes +infinity; everything becomes ready.
  void finish() { advanceTo(kEndWatermark); }

  // The next ready event in (time, arrival) order; false when none is ready.
  bool pop(EventRef &out) {
    if (heap_.empty()) { // in-order input: only the run
      if (count_ == 0) {
        return false;
      }
      Entry &next = ring_[head_];
      if (watermark_ == kNoWatermark || next.time > watermark_) {
        return false;
      }
      out = std::move(next.event);
      popRun();
      return true;
    }
    return popMerged(out);
  }

  // The event `d` places after the next one of the in-order run (0: the next), or null when
  // the run holds fewer: a hint of what is released soon (Driver's prefetch). Out-of-order
  // arrivals (the heap) are not looked at, so it may not be exactly the d-th to be released.
  const Event *ahead(std::size_t d) const {
    return d < count_ ? ring_[(head_ + d) & mask_].event.get() : nullptr;
  }

  // Every buffered event, ready or not, in release order (snapshots; a fresh buffer given them
  // in this order by push() releases them in the same order).
  std::vector<EventRef> events() const;
  // Every buffered event in release order, and the buffer emptied (the watermark kept): an
  // external sort's run (runtime/time/event_spill.hpp).
  std::vector<EventRef> drain();

  std::int64_t watermark() const { return watermark_; }
  std::size_t size() const { return count_ + heap_.size(); }
  bool empty() const { return count_ == 0 && heap_.empty(); }

private:
  struct Entry {
    std::int64_t time;
    std::uint64_t arrival;
    EventRef event;
  };
  static bool before(const Entry &a, const Entry &b) {
    return a.time < b.time || (a.time == b.time && a.arrival < b.arrival);
  }
  // Comparator for std::push_heap (a max-heap): "a after b" puts the earliest on top.
  struct Later {
    bool operator()(const Entry &a, const Entry &b) const { return before(b, a); }
  };

  bool popMerged(EventRef &out);
  PushResult pushSlow(EventRef &&event);
  void popRun() {
    head_ = (head_ + 1) & mask_;
    if (--count_ == 0) {
      shrinkRun();
    }
  }
  void shrinkRun();
  void growRun();
  const Entry &runAt(std::size_t i) const { return ring_[(head_ + i) & mask_]; }

  // The run: count_ entries from head_ on, in (time, arrival) order; the size is a power of two
  // (or zero).
  std::vector<Entry> ring_;
  std::size_t mask_ = 0; // ring_.size() - 1 (0 while empty: count_ <= mask_ is then false)
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::vector<Entry> heap_; // out-of-order arrivals
  std::int64_t watermark_ = kNoWatermark;
  std::uint64_t arrivals_ = 0;
};

} // namespace cep::runtime
