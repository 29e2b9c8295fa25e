#include "runtime/event.hpp"

#include <cstdlib>
#include <new>

namespace cep::runtime {

namespace {

// Event blocks come from size-classed free lists (one set per thread): a run allocates and
// frees one block per record, and most are the same few sizes. Each block carries its class in
// a prefix in front of the Event (the Event layout itself is untouched).
constexpr std::size_t kPrefix = 16; // keeps the Event at malloc's 16-byte alignment
constexpr std::size_t kGranule = 32;
constexpr std::uint32_t kUnpooled = UINT32_MAX;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPooling = false; // AddressSanitizer sees every use after free
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPooling = false;
#else
constexpr bool kPooling = true;
#endif
#else
constexpr bool kPooling = true;
#endif

struct FreeBlock {
  FreeBlock *next;
};

struct EventPool {
  FreeBlock *heads[kEventPoolClasses] = {};
  FreeBlock *tails[kEventPoolClasses] = {}; // the last block of each list (takeEventPool)
  std::uint32_t counts[kEventPoolClasses] = {};

  void trim() {
    for (std::size_t c = 0; c < kEventPoolClasses; ++c) {
      while (FreeBlock *block = heads[c]) {
        heads[c] = block->next;
        std::free(block);
      }
      counts[c] = 0;
    }
  }
  ~EventPool() { trim(); }
};

thread_local EventPool pool;

std::uint32_t &blockClass(void *block) {
  return *static_cast<std::uint32_t *>(block);
}

} // namespace

namespace {

// A block of at least `bytes` (prefix included) from this thread's pool or malloc, its class
// written into the prefix; the Event's place in it.
[[gnu::always_inline]] inline Event *takeBlock(std::size_t bytes) {
  std::size_t cls = (bytes - 1) / kGranule;
  void *block = nullptr;
  if (kPooling && cls < kEventPoolClasses) {
    EventPool &p = pool;
    if (FreeBlock *free = p.heads[cls]) {
      p.heads[cls] = free->next;
      // The next block's line, for the next event: blocks freed on a worker's core (`cep run
      // --workers N` hands them back) are a chain of misses in another core's cache otherwise.
      __builtin_prefetch(free->next, 1);
      --p.counts[cls];
      block = free;
    } else {
      block = std::malloc((cls + 1) * kGranule);
    }
  } else {
    block = std::malloc(bytes);
    cls = kUnpooled;
  }
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  blockClass(block) = static_cast<std::uint32_t>(cls);
  return reinterpret_cast<Event *>(static_cast<char *>(block) + kPrefix);
}

} // namespace

Event *allocateEvent(std::uint32_t type, std::uint32_t fields, std::size_t extra) {
  auto *e = new (takeBlock(kPrefix + sizeof(Event) + fields * sizeof(Slot) + extra)) Event();
  e->type = type;
  e->field_count = fields;
  e->nulls = fields >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << fields) - 1);
  std::memset(static_cast<void *>(e->slots()), 0, fields * sizeof(Slot));
  return e;
}

Event *allocateEventUnset(std::uint32_t type, std::uint32_t fields, std::size_t extra) {
  auto *e = new (takeBlock(kPrefix + sizeof(Event) + fields * sizeof(Slot) + extra)) Event();
  e->type = type;
  e->field_count = fields;
  return e;
}

void freeEvent(Event *e) {
  e->~Event();
  void *block = reinterpret_cast<char *>(e) - kPrefix;
  std::uint32_t cls = blockClass(block);
  if (cls != kUnpooled) {
    EventPool &p = pool;
    if (p.counts[cls] < kEventPoolMaxFree) {
      auto *free = static_cast<FreeBlock *>(block);
      if (p.heads[cls] == nullptr) {
        p.tails[cls] = free;
      }
      free->next = p.heads[cls];
      p.heads[cls] = free;
      ++p.counts[cls];
      return;
    }
  }
  std::free(block);
}

bool eventPoolEnabled() {
  return kPooling;
}

std::size_t eventPoolFreeBlocks() {
  std::size_t total = 0;
  for (std::uint32_t count : pool.counts) {
    total += count;
  }
  return total;
}

void trimEventPool() {
  pool.trim();
}

bool EventBlocks::empty() const {
  for (void *head : heads) {
    if (head != nullptr) {
      return false;
    }
  }
  return true;
}

EventBlocks takeEventPool() {
  EventBlocks blocks;
  EventPool &p = pool;
  for (std::size_t c = 0; c < kEventPoolClasses; ++c) {
    blocks.heads[c] = p.heads[c];
    blocks.tails[c] = p.tails[c];
    blocks.counts[c] = p.counts[c];
    p.heads[c] = p.tails[c] = nullptr;
    p.counts[c] = 0;
  }
  return blocks;
}

void giveEventPool(EventBlocks &blocks) {
  EventPool &p = pool;
  for (std::size_t c = 0; c < kEventPoolClasses; ++c) {
    auto *block = static_cast<FreeBlock *>(blocks.heads[c]);
    blocks.heads[c] = nullptr;
    if (block != nullptr && p.counts[c] + blocks.counts[c] <= kEventPoolMaxFree) {
      // The whole list at once: its blocks are touched only when allocated again.
      auto *tail = static_cast<FreeBlock *>(blocks.tails[c]);
      tail->next = p.heads[c];
      if (p.heads[c] == nullptr) {
        p.tails[c] = tail;
      }
      p.heads[c] = block;
      p.counts[c] += blocks.counts[c];
      continue;
    }
    while (block != nullptr) {
      FreeBlock *next = block->next;
      if (p.counts[c] < kEventPoolMaxFree) {
        if (p.heads[c] == nullptr) {
          p.tails[c] = block;
        }
        block->next = p.heads[c];
        p.heads[c] = block;
        ++p.counts[c];
      } else {
        std::free(block);
      }
      block = next;
    }
  }
}

} // namespace cep::runtime
