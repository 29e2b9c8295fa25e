#include "runtime/event.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

using namespace cep::runtime;

namespace {

// What allocateEvent promises, however the block was obtained.
void requireFresh(const Event &e, std::uint32_t type, std::uint32_t fields) {
  REQUIRE(e.type == type);
  REQUIRE(e.field_count == fields);
  REQUIRE(e.refs == 1);
  REQUIRE(e.raw == nullptr);
  REQUIRE(e.raw_size == 0);
  REQUIRE(e.time == 0);
  REQUIRE(e.seq == 0);
  for (std::uint32_t i = 0; i < fields; ++i) {
    REQUIRE(e.isNull(i));
    REQUIRE(e.slots()[i].i == 0);
  }
  REQUIRE(reinterpret_cast<std::uintptr_t>(&e) % 16 == 0);
}

} // namespace

TEST_CASE("event pool: freed blocks are reused fresh, by size class", "[runtime][event]") {
  if (!eventPoolEnabled()) {
    SUCCEED("no pooling under AddressSanitizer");
    return;
  }
  trimEventPool();
  REQUIRE(eventPoolFreeBlocks() == 0);

  Event *a = allocateEvent(1, 3, 8);
  a->slots()[0].i = 42;
  a->nulls = 0;
  a->time = 7;
  a->raw_size = 3;
  std::memset(extraBegin(a), 0xAB, 8);
  Event *seen = a;
  release(a);
  REQUIRE(eventPoolFreeBlocks() == 1);

  // The same class (3 fields + 8 bytes, or 4 fields + 0): the same block, reset.
  Event *b = allocateEvent(2, 4, 0);
  CHECK(b == seen);
  requireFresh(*b, 2, 4);
  REQUIRE(eventPoolFreeBlocks() == 0);

  // Another class: a new block.
  Event *c = allocateEvent(0, 20, 100);
  CHECK(c != b);
  requireFresh(*c, 0, 20);
  for (std::uint32_t i = 0; i < 20; ++i) {
    c->slots()[i].i = -1;
  }
  std::memset(extraBegin(c), 0xCD, 100);
  release(b);
  release(c);
  REQUIRE(eventPoolFreeBlocks() == 2);
  Event *d = allocateEvent(0, 20, 100);
  requireFresh(*d, 0, 20);
  release(d);

  // Too large for the pool: straight to malloc and back.
  std::size_t before = eventPoolFreeBlocks();
  Event *big = allocateEvent(0, 64, 1 << 16);
  requireFresh(*big, 0, 64);
  std::memset(extraBegin(big), 0xEE, 1 << 16);
  release(big);
  REQUIRE(eventPoolFreeBlocks() == before);

  trimEventPool();
  REQUIRE(eventPoolFreeBlocks() == 0);
}

TEST_CASE("event pool: references keep a block alive, the free lists are bounded",
          "[runtime][event]") {
  trimEventPool();
  if (!eventPoolEnabled()) {
    SUCCEED("no pooling under AddressSanitizer");
    return;
  }
  {
    EventRef one(allocateEvent(0, 2, 0));
    EventRef two = one;
    REQUIRE(one->refs == 2);
    one = EventRef();
    REQUIRE(two->refs == 1);
    REQUIRE(eventPoolFreeBlocks() == 0);
  }
  REQUIRE(eventPoolFreeBlocks() == 1);

  // Many live events of one size, then all freed: at most kEventPoolMaxFree stay pooled.
  std::vector<EventRef> events;
  std::set<const Event *> distinct;
  for (std::uint32_t i = 0; i < kEventPoolMaxFree + 100; ++i) {
    events.emplace_back(allocateEvent(0, 2, 0));
    events.back()->slots()[1].i = i;
    distinct.insert(events.back().get());
  }
  REQUIRE(distinct.size() == events.size()); // live blocks are never handed out twice
  for (std::uint32_t i = 0; i < events.size(); ++i) {
    REQUIRE(events[i]->slots()[1].i == i);
  }
  events.clear();
  REQUIRE(eventPoolFreeBlocks() == kEventPoolMaxFree);
  trimEventPool();
  REQUIRE(eventPoolFreeBlocks() == 0);
}
