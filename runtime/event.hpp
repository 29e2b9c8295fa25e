// A decoded event: one heap block holding a fixed header, one 8-byte slot per field of its
// type, the bytes of its string fields and (optionally) the record as it was read. The layout
// is the ABI shared by the interpreter and JIT-compiled matchers: field i of an event is
// `slots()[i]`, null when bit i of `nulls` is set.
//
//   Event header | Slot[field_count] | string bytes (each: uint32 length, bytes) | raw record
//
// Events are reference-counted: the runtime holds one reference while it buffers an event,
// matchers hold one per partial match that bound it (the shared buffer), and the block is freed
// when the last one goes, so nothing is kept for dead keys or dead runs. Reference counts are
// not atomic: one pipeline (thread) owns its events.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace cep::runtime {

// A string field value: points at a length-prefixed byte run inside the same event block.
struct StringRef {
  std::uint32_t size;
  char data[1]; // `size` bytes follow (not NUL-terminated)
  std::string_view view() const { return {data, size}; }
};

union Slot {
  std::int64_t i; // Int, Time (epoch ms), Duration (ms)
  double f;       // Float
  bool b;         // Bool
  const StringRef *s;
};
static_assert(sizeof(Slot) == 8);

struct Event {
  std::uint32_t type = 0;         // index into Schema::types
  std::uint32_t field_count = 0;  // slots that follow the header
  std::int64_t time = 0;          // event time in epoch ms (time field, or ingestion time)
  std::uint64_t seq = 0;          // arrival order over the whole run (ties in time keep it)
  std::uint64_t nulls = 0;        // bit i set: field i is null or absent
  std::uint32_t input = 0;        // which input it came from
  std::uint32_t line = 0;         // 1-based line in that input
  std::uint32_t raw_size = 0;     // bytes of the raw record kept (0 when not kept)
  mutable std::uint32_t refs = 1; // single-threaded: a pipeline owns its events
  const char *raw = nullptr;      // the record exactly as read (when kept)

  Slot *slots() { return reinterpret_cast<Slot *>(this + 1); }
  const Slot *slots() const { return reinterpret_cast<const Slot *>(this + 1); }
  bool isNull(std::uint32_t field) const { return (nulls >> field) & 1U; }
  std::string_view rawRecord() const { return {raw, raw_size}; }
};
static_assert(sizeof(Event) % alignof(Slot) == 0);

// Allocates an event block with room for `fields` slots and `extra` bytes (strings, raw record);
// refs = 1, every field null (slots zero). `extraBegin` is where the extra bytes start. Blocks of
// up to kEventPoolClasses * 32 bytes (with a 16-byte prefix) are recycled through per-thread
// size-classed free lists (at most kEventPoolMaxFree blocks kept per class); larger ones, and
// every block under AddressSanitizer, go straight to malloc/free.
constexpr std::size_t kEventPoolClasses = 32;
constexpr std::uint32_t kEventPoolMaxFree = 4096;
Event *allocateEvent(std::uint32_t type, std::uint32_t fields, std::size_t extra);
// The same block with its header set (refs = 1, `nulls` 0) but its slots not written: for a
// caller that writes every slot itself (a typed plan, runtime/io/record_plan.hpp).
Event *allocateEventUnset(std::uint32_t type, std::uint32_t fields, std::size_t extra);
inline char *extraBegin(Event *e) {
  return reinterpret_cast<char *>(e->slots() + e->field_count);
}
void freeEvent(Event *e);
// Blocks waiting in this thread's free lists; trimEventPool gives them back to malloc.
// Pooling is off under AddressSanitizer (so it sees every use after free).
bool eventPoolEnabled();
std::size_t eventPoolFreeBlocks();
void trimEventPool();
// Free blocks handed from one thread's pool to another's (`cep run --workers N`: the blocks a
// worker frees go back to the reading thread, which allocates every event; without that each
// block would be malloc'd on one thread and free'd on another).
struct EventBlocks {
  void *heads[kEventPoolClasses] = {};
  void *tails[kEventPoolClasses] = {};
  std::uint32_t counts[kEventPoolClasses] = {};
  bool empty() const;
};
// Takes every free block of this thread's pool (the pool is empty after).
EventBlocks takeEventPool();
// Puts `blocks` into this thread's pool, up to kEventPoolMaxFree per class; the rest are freed.
// `blocks` is empty after.
void giveEventPool(EventBlocks &blocks);

inline void retain(const Event *e) {
  ++e->refs;
}
inline void release(const Event *e) {
  if (--e->refs == 0) {
    freeEvent(const_cast<Event *>(e));
  }
}

// An owning reference (retain on copy, release on destruction).
class EventRef {
public:
  EventRef() = default;
  explicit EventRef(Event *adopted) : e_(adopted) {} // takes over one reference
  EventRef(const EventRef &o) : e_(o.e_) {
    if (e_) {
      retain(e_);
    }
  }
  EventRef(EventRef &&o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  EventRef &operator=(EventRef o) noexcept {
    std::swap(e_, o.e_);
    return *this;
  }
  ~EventRef() {
    if (e_) {
      release(e_);
    }
  }
  Event *get() const { return e_; }
  Event *operator->() const { return e_; }
  Event &operator*() const { return *e_; }
  explicit operator bool() const { return e_ != nullptr; }

private:
  Event *e_ = nullptr;
};

} // namespace cep::runtime
