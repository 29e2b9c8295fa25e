// A key's runs (native_matcher_impl.hpp): a small vector whose first element lives inline, so a
// key with one run (the usual case: one open partial match per key) needs no heap block. Two or
// more go to one heap block (the inline element is copied there); the block is kept when the
// list shrinks, as std::vector keeps its capacity, and freed with the list.
//
// 32 bytes for a 24-byte element: the inline element or the heap pointer, then size and
// capacity (capacity 1: inline). Elements are trivially copyable (moved with memcpy).
//
// LLVM-free and lang-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

namespace cep::runtime::native {

template <typename T> class InlineList {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
  InlineList() : one_() {}
  ~InlineList() { freeHeap(); }
  InlineList(const InlineList &o) : one_() { assign(o.data(), o.size_); }
  InlineList(InlineList &&o) noexcept : one_() { take(o); }
  InlineList &operator=(const InlineList &o) {
    if (this != &o) {
      assign(o.data(), o.size_);
    }
    return *this;
  }
  InlineList &operator=(InlineList &&o) noexcept {
    if (this != &o) {
      freeHeap();
      take(o);
    }
    return *this;
  }

  T *data() { return cap_ == 1 ? &one_ : heap_; }
  const T *data() const { return cap_ == 1 ? &one_ : heap_; }
  T *begin() { return data(); }
  T *end() { return data() + size_; }
  const T *begin() const { return data(); }
  const T *end() const { return data() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool onHeap() const { return cap_ != 1; }
  T &operator[](std::size_t i) { return data()[i]; }
  const T &operator[](std::size_t i) const { return data()[i]; }
  T &front() { return data()[0]; }
  const T &front() const { return data()[0]; }

  void clear() { size_ = 0; }
  // Keeps the first n (n <= size()).
  void truncate(std::size_t n) { size_ = static_cast<std::uint32_t>(n); }
  void push_back(const T &v) {
    reserve(size_ + 1);
    data()[size_++] = v;
  }
  void append(const T *from, std::size_t n) {
    if (n == 0) {
      return;
    }
    reserve(size_ + n);
    std::memcpy(static_cast<void *>(data() + size_), from, n * sizeof(T));
    size_ += static_cast<std::uint32_t>(n);
  }
  void assign(const T *from, std::size_t n) {
    size_ = 0;
    append(from, n);
  }
  // Drops the first n (n <= size()), keeping the order of the rest.
  void erasePrefix(std::size_t n) {
    if (n == 0) {
      return;
    }
    T *d = data();
    std::memmove(static_cast<void *>(d), d + n, (size_ - n) * sizeof(T));
    size_ -= static_cast<std::uint32_t>(n);
  }
  // Drops everything and gives the heap block back.
  void reset() {
    freeHeap();
    cap_ = 1;
    size_ = 0;
  }

private:
  void reserve(std::size_t n) {
    if (n <= cap_) {
      return;
    }
    std::size_t cap = cap_ * 2u;
    if (cap < n) {
      cap = n;
    }
    if (cap < 4) {
      cap = 4;
    }
    if (cap > UINT32_MAX) {
      throw std::bad_alloc();
    }
    auto *block = static_cast<T *>(std::malloc(cap * sizeof(T)));
    if (block == nullptr) {
      throw std::bad_alloc();
    }
    if (size_ != 0) {
      std::memcpy(static_cast<void *>(block), data(), size_ * sizeof(T));
    }
    freeHeap();
    heap_ = block;
    cap_ = static_cast<std::uint32_t>(cap);
  }
  void freeHeap() {
    if (cap_ != 1) {
      std::free(heap_);
    }
  }
  // `o`'s elements into this list (whose heap block, if any, is already free); `o` left empty.
  void take(InlineList &o) {
    size_ = o.size_;
    cap_ = o.cap_;
    if (o.cap_ == 1) {
      one_ = o.one_;
    } else {
      heap_ = o.heap_;
    }
    o.cap_ = 1;
    o.size_ = 0;
  }

  union {
    T one_;   // cap_ == 1
    T *heap_; // cap_ > 1
  };
  std::uint32_t size_ = 0;
  std::uint32_t cap_ = 1;
};

} // namespace cep::runtime::native
