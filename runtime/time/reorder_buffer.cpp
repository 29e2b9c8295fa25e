#include "runtime/time/reorder_buffer.hpp"

#include <algorithm>

namespace cep::runtime {

namespace {

// A heap that grew past this many entries gives its memory back when it empties.
constexpr std::size_t kHeapKeepCapacity = 4096;

} // namespace

PushResult ReorderBuffer::push(EventRef event) {
  std::int64_t time = event->time;
  if (watermark_ != kNoWatermark && time <= watermark_) {
    return PushResult::Late;
  }
  Entry entry{time, arrivals_++, std::move(event)};
  // Arrival numbers only grow, so an equal time also belongs at the end of the run.
  if (run_.empty() || run_.back().time <= time) {
    run_.push_back(std::move(entry));
  } else {
    heap_.push_back(std::move(entry));
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  return PushResult::Buffered;
}

void ReorderBuffer::advanceTo(std::int64_t watermark) {
  watermark_ = std::max(watermark_, watermark);
}

bool ReorderBuffer::pop(EventRef &out) {
  bool from_run = false;
  if (!run_.empty() && (heap_.empty() || before(run_.front(), heap_.front()))) {
    from_run = true;
  } else if (heap_.empty()) {
    return false;
  }
  Entry &next = from_run ? run_.front() : heap_.front();
  if (watermark_ == kNoWatermark || next.time > watermark_) {
    return false;
  }
  if (from_run) {
    out = std::move(next.event);
    run_.pop_front();
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
  for (const Entry &entry : run_) {
    entries.push_back(&entry);
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

} // namespace cep::runtime
