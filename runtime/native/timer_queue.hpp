// The native matcher's key timers (native_matcher_impl.hpp): a min-priority queue of entries
// with a `deadline`, cheaper than a binary heap when most entries come in deadline order, as
// `within` deadlines do (a run's deadline is its start plus the bound, and runs start in event
// time): an entry no earlier than the last one queued goes to the back of a FIFO (O(1) in and
// out), any other into a binary heap; the earliest entry is the earlier of the two fronts.
// Exact: entries come out in deadline order (ties in any order, as from a heap).
//
// Entries are values; whether one is still wanted is the caller's (lazy invalidation).
//
// LLVM-free and lang-free.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace cep::runtime::native {

template <typename T> class TimerQueue {
public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue &o) : fifo_(o.fifo_), head_(o.head_), heap_(o.heap_) { findTop(); }
  TimerQueue(TimerQueue &&o) noexcept
      : fifo_(std::move(o.fifo_)), head_(o.head_), heap_(std::move(o.heap_)) {
    findTop();
    o.clear();
  }
  TimerQueue &operator=(const TimerQueue &o) {
    if (this != &o) {
      fifo_ = o.fifo_;
      head_ = o.head_;
      heap_ = o.heap_;
      findTop();
    }
    return *this;
  }
  TimerQueue &operator=(TimerQueue &&o) noexcept {
    if (this != &o) {
      fifo_ = std::move(o.fifo_);
      head_ = o.head_;
      heap_ = std::move(o.heap_);
      findTop();
      o.clear();
    }
    return *this;
  }

  bool empty() const { return head_ == fifo_.size() && heap_.empty(); }
  std::size_t size() const { return fifo_.size() - head_ + heap_.size(); }
  // The earliest entry (not empty()): one load, as it is asked for far more often than changed.
  const T &top() const { return *top_; }
  void push(const T &t) {
    if (head_ == fifo_.size() || fifo_.back().deadline <= t.deadline) {
      if (head_ == fifo_.size() && head_ != 0) {
        fifo_.clear();
        head_ = 0;
      }
      fifo_.push_back(t);
    } else {
      heap_.push_back(t);
      std::push_heap(heap_.begin(), heap_.end(), Later());
    }
    findTop();
  }
  // Drops top() (not empty()).
  void pop() {
    if (head_ != fifo_.size() && top_ == &fifo_[head_]) {
      ++head_;
      if (head_ == fifo_.size()) {
        fifo_.clear();
        head_ = 0;
      } else if (head_ >= 4096 && head_ * 2 >= fifo_.size()) {
        fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), Later());
      heap_.pop_back();
    }
    findTop();
  }
  // Drops every entry for which `drop` holds (the FIFO keeps its order).
  template <typename Drop> void removeIf(Drop &&drop) {
    fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
    fifo_.erase(std::remove_if(fifo_.begin(), fifo_.end(), drop), fifo_.end());
    heap_.erase(std::remove_if(heap_.begin(), heap_.end(), drop), heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), Later());
    findTop();
  }
  template <typename F> void forEach(F &&f) const {
    for (std::size_t i = head_; i < fifo_.size(); ++i) {
      f(fifo_[i]);
    }
    for (const T &t : heap_) {
      f(t);
    }
  }
  void clear() {
    fifo_.clear();
    heap_.clear();
    head_ = 0;
    top_ = nullptr;
  }

private:
  // std::*_heap keep the largest first: the earliest deadline is the "largest".
  struct Later {
    bool operator()(const T &a, const T &b) const { return a.deadline > b.deadline; }
  };

  void findTop() {
    if (head_ == fifo_.size()) {
      top_ = heap_.empty() ? nullptr : &heap_.front();
    } else if (heap_.empty() || fifo_[head_].deadline <= heap_.front().deadline) {
      top_ = &fifo_[head_];
    } else {
      top_ = &heap_.front();
    }
  }

  std::vector<T> fifo_; // [head_, end) in deadline order
  std::size_t head_ = 0;
  std::vector<T> heap_;
  const T *top_ = nullptr; // the earliest entry, null when empty
};

} // namespace cep::runtime::native
