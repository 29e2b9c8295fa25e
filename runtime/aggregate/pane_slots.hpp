// The panes of one key of a time window (internal to runtime/aggregate): a flat run of 8-byte
// slots, stride slots per pane ([pane index][first arrival][cell], key_state.hpp), in order of
// pane index. The first kInline slots live inside the key's slot of the key table: a key of a
// tumbling count or count+sum aggregate (3 or 4 slots: its one open window) allocates nothing;
// more panes (hopping, cumulate, wider cells, lateness) move to one heap buffer that doubles.
// The size and the capacity (as its log2) share 4 bytes; the other 4 of that word are the
// owner's (`spare`: KeyState's due/idle mark), so a PaneSlots is 40 bytes and its owner's slot
// needs no word of its own for them.
//
//   PaneSlots p;
//   p.insert(0, 4);          // 4 zeroed slots at 0 (a pane of stride 4)
//   p.data()[0].i = 7;       // its index
//   p.eraseFront(4);         // the first pane is gone (its cell destroyed by the caller)
//   p.clear();               // empty again, the heap buffer kept for the key's next panes
#pragma once

#include "runtime/event.hpp"
#include "support/internal_error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace cep::runtime::aggregate {

class PaneSlots {
public:
  static constexpr std::uint32_t kInline = 4; // one pane of count+sum: 32 bytes

  PaneSlots() = default;
  ~PaneSlots() {
    if (onHeap()) {
      delete[] u_.heap;
    }
  }
  PaneSlots(const PaneSlots &) = delete;
  PaneSlots &operator=(const PaneSlots &) = delete;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return std::size_t{1} << cap_log_; }
  // Bytes beyond the inline slots (0 while the panes fit in them).
  std::size_t heapBytes() const { return onHeap() ? capacity() * sizeof(Slot) : 0; }
  Slot *data() { return onHeap() ? u_.heap : u_.in; }
  const Slot *data() const { return onHeap() ? u_.heap : u_.in; }
  Slot &operator[](std::size_t i) { return data()[i]; }
  const Slot &operator[](std::size_t i) const { return data()[i]; }

  // n zeroed slots at `at` (<= size()); later slots move up.
  void insert(std::size_t at, std::size_t n) {
    std::size_t size = size_;
    CEP_ASSERT(at <= size && n < kMaxSize - size, "pane slots out of range");
    std::size_t want = size + n;
    if (want > capacity()) {
      std::uint32_t log = cap_log_ + 1;
      while ((std::size_t{1} << log) < want) {
        ++log;
      }
      Slot *grown = new Slot[std::size_t{1} << log];
      std::memcpy(grown, data(), size * sizeof(Slot));
      if (onHeap()) {
        delete[] u_.heap;
      }
      u_.heap = grown;
      cap_log_ = log;
    }
    Slot *d = data();
    std::memmove(d + at + n, d + at, (size - at) * sizeof(Slot));
    std::memset(static_cast<void *>(d + at), 0, n * sizeof(Slot));
    size_ = static_cast<std::uint32_t>(want);
  }
  // The first n slots are gone; the others move down.
  void eraseFront(std::size_t n) {
    std::size_t size = size_;
    CEP_ASSERT(n <= size, "pane slots out of range");
    Slot *d = data();
    std::memmove(d, d + n, (size - n) * sizeof(Slot));
    size_ = static_cast<std::uint32_t>(size - n);
  }
  void clear() { size_ = 0; }

private:
  static constexpr std::uint32_t kInlineLog = 2; // kInline == 1 << kInlineLog
  static constexpr std::size_t kMaxSize = std::size_t{1} << 27;
  bool onHeap() const { return cap_log_ > kInlineLog; }

  union {
    Slot in[kInline];
    Slot *heap;
  } u_{};
  std::uint32_t size_ : 27 = 0;
  std::uint32_t cap_log_ : 5 = kInlineLog;

public:
  // The owner's 4 bytes of the word the size and capacity are in (KeyState's mark).
  std::uint32_t spare = 0;
};
static_assert(sizeof(PaneSlots) == 40 && (1U << 2) == PaneSlots::kInline);

} // namespace cep::runtime::aggregate
