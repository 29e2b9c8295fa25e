// Holds accepted events until the watermark passes them, then hands them out in event-time
// order, equal times in arrival order (spec §4). Built for mostly ordered input: an event not
// earlier than the newest buffered one is appended to an in-order run (O(1)); only events that
// arrive out of order go to a binary heap; release merges the two. Memory is returned as events
// leave (the run is a deque, the heap shrinks when it empties).
#pragma once

#include "runtime/event.hpp"
#include "runtime/time/watermarks.hpp"

#include <cstdint>
#include <deque>
#include <vector>

namespace cep::runtime {

enum class PushResult : std::uint8_t { Buffered, Late };

class ReorderBuffer {
public:
  // Buffers `event` unless its time is <= the watermark already reached (then it is late and
  // not kept). Push order is arrival order.
  PushResult push(EventRef event);

  // Raises the release watermark (never lowers it): every buffered event with time <= it
  // becomes ready.
  void advanceTo(std::int64_t watermark);
  // End of input: the watermark becomes +infinity; everything becomes ready.
  void finish() { advanceTo(kEndWatermark); }

  // The next ready event in (time, arrival) order; false when none is ready.
  bool pop(EventRef &out);

  // Every buffered event, ready or not, in release order (snapshots; a fresh buffer given them
  // in this order by push() releases them in the same order).
  std::vector<EventRef> events() const;

  std::int64_t watermark() const { return watermark_; }
  std::size_t size() const { return run_.size() + heap_.size(); }
  bool empty() const { return run_.empty() && heap_.empty(); }

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

  std::deque<Entry> run_;   // in (time, arrival) order
  std::vector<Entry> heap_; // out-of-order arrivals
  std::int64_t watermark_ = kNoWatermark;
  std::uint64_t arrivals_ = 0;
};

} // namespace cep::runtime
