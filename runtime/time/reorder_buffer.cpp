#include "runtime/time/reorder_buffer.hpp"

#include <algorithm>

namespace cep::runtime {

namespace {

// A heap or run that grew past this many entries gives its memory back when it empties.
constexpr std::size_t kHeapKeepCapacity = 4096;
constexpr std::size_t kRunInitialCapacity = 64;

} // namespace

PushResult ReorderBuffer::pushSlow(EventRef &&event) {
  std::int64_t time = event->time;
  if (watermark_ != kNoWatermark && time <= watermark_) {
    return PushResult::Late;
  }
  Entry entry{time, arrivals_++, std::move(event)};
  // Arrival numbers only grow, so an equal time also belongs at the end of the run.
  if (count_ == 0 || runAt(count_ - 1).time <= time) {
    if (count_ == ring_.size()) {
      growRun();
    }
    ring_[(head_ + count_) & mask_] = std::move(entry);
    ++count_;
  } else {
    heap_.push_back(std::move(entry));
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  return PushResult::Buffered;
}

void ReorderBuffer::growRun() {
  std::vector<Entry> bigger(std::max(kRunInitialCapacity, ring_.size() * 2));
  for (std::size_t i = 0; i < count_; ++i) {
    bigger[i] = std::move(ring_[(head_ + i) & mask_]);
  }
  ring_ = std::move(bigger);
  mask_ = ring_.size() - 1;
  head_ = 0;
}

void ReorderBuffer::shrinkRun() {
  head_ = 0;
  if (ring_.size() > kHeapKeepCapacity) {
    std::vector<Entry>().swap(ring_);
    mask_ = 0;
  }
}

bool ReorderBuffer::popMerged(EventRef &out) {
  bool from_run = false;
  if (count_ > 0 && (heap_.empty() || before(ring_[head_], heap_.front()))) {
    from_run = true;
  } else if (heap_.empty()) {
    return false;
  }
  Entry &next = from_run ? ring_[head_] : heap_.front();
  if (watermark_ == kNoWatermark || next.time > watermark_) {
    return false;
  }
  if (from_run) {
    out = std::move(next.event);
    popRun();
  } else {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    out = std::move(heap_.back().event);
    heap_.pop_back();
    if (heap_.empty() && heap_.capacity() > kHeapKeepCapacity) {
      std::vector<Entry>().swap(heap_);
    }
  }
  return true;
}

std::vector<EventRef> ReorderBuffer::events() const {
  std::vector<const Entry *> entries;
  entries.reserve(size());
  for (std::size_t i = 0; i < count_; ++i) {
    entries.push_back(&runAt(i));
  }
  for (const Entry &entry : heap_) {
    entries.push_back(&entry);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry *a, const Entry *b) { return before(*a, *b); });
  std::vector<EventRef> events;
  events.reserve(entries.size());
  for (const Entry *entry : entries) {
    events.push_back(entry->event);
  }
  return events;
}

std::vector<EventRef> ReorderBuffer::drain() {
  std::vector<EventRef> out = events();
  ring_.clear();
  ring_.shrink_to_fit();
  mask_ = 0;
  head_ = 0;
  count_ = 0;
  heap_.clear();
  heap_.shrink_to_fit();
  return out;
}

} // namespace cep::runtime
