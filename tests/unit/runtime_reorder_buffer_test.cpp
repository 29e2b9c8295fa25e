#include "runtime/event.hpp"
#include "runtime/time/reorder_buffer.hpp"
#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using namespace cep::runtime;

namespace {

// An event carrying its time and, in `seq`, an id the test recognises it by.
EventRef makeEvent(std::int64_t time, std::uint64_t id) {
  EventRef event(allocateEvent(0, 0, 0));
  event->time = time;
  event->seq = id;
  return event;
}

std::vector<std::uint64_t> drain(ReorderBuffer &buffer) {
  std::vector<std::uint64_t> ids;
  EventRef event;
  while (buffer.pop(event)) {
    REQUIRE(event->time <= buffer.watermark());
    ids.push_back(event->seq);
  }
  return ids;
}

using Ids = std::vector<std::uint64_t>;

} // namespace

TEST_CASE("reorder buffer: nothing is released before the watermark passes it",
          "[runtime][reorder]") {
  ReorderBuffer buffer;
  CHECK(buffer.push(makeEvent(10, 1)) == PushResult::Buffered);
  CHECK(buffer.push(makeEvent(20, 2)) == PushResult::Buffered);
  CHECK(drain(buffer).empty()); // no watermark yet
  buffer.advanceTo(9);
  CHECK(drain(buffer).empty());
  buffer.advanceTo(10); // time <= watermark: released
  CHECK(drain(buffer) == Ids{1});
  buffer.advanceTo(19);
  CHECK(drain(buffer).empty());
  CHECK(buffer.size() == 1);
  buffer.finish();
  CHECK(drain(buffer) == Ids{2});
  CHECK(buffer.empty());
}

TEST_CASE("reorder buffer: disorder is released in time order", "[runtime][reorder]") {
  ReorderBuffer buffer;
  std::int64_t times[] = {50, 30, 40, 10, 60, 20, 55};
  for (std::uint64_t i = 0; i < 7; ++i) {
    REQUIRE(buffer.push(makeEvent(times[i], i)) == PushResult::Buffered);
  }
  buffer.advanceTo(45);
  CHECK(drain(buffer) == Ids{3, 5, 1, 2}); // 10 20 30 40
  buffer.finish();
  CHECK(drain(buffer) == Ids{0, 6, 4}); // 50 55 60
}

TEST_CASE("reorder buffer: equal times keep arrival order", "[runtime][reorder]") {
  ReorderBuffer buffer;
  // In the in-order run, in the heap, and across both.
  buffer.push(makeEvent(10, 0));
  buffer.push(makeEvent(20, 1));
  buffer.push(makeEvent(10, 2)); // out of order: heap
  buffer.push(makeEvent(20, 3)); // in order: run
  buffer.push(makeEvent(15, 4)); // heap
  buffer.push(makeEvent(10, 5)); // heap
  buffer.push(makeEvent(15, 6)); // heap
  buffer.push(makeEvent(20, 7)); // run
  buffer.finish();
  CHECK(drain(buffer) == Ids{0, 2, 5, 4, 6, 1, 3, 7});
}

TEST_CASE("reorder buffer: late means time <= the watermark reached", "[runtime][reorder]") {
  ReorderBuffer buffer;
  buffer.push(makeEvent(100, 0));
  buffer.advanceTo(99);
  CHECK(buffer.push(makeEvent(99, 1)) == PushResult::Late);
  CHECK(buffer.push(makeEvent(100, 2)) == PushResult::Buffered);
  buffer.advanceTo(100);
  CHECK(buffer.push(makeEvent(100, 3)) == PushResult::Late);
  CHECK(buffer.push(makeEvent(101, 4)) == PushResult::Buffered);
  buffer.advanceTo(50); // never back
  CHECK(buffer.watermark() == 100);
  CHECK(drain(buffer) == Ids{0, 2});
  buffer.finish();
  CHECK(buffer.push(makeEvent(1000, 5)) == PushResult::Late); // after the end, everything is
  CHECK(drain(buffer) == Ids{4});
}

TEST_CASE("reorder buffer: the buffer's reference is handed out", "[runtime][reorder]") {
  EventRef kept = makeEvent(5, 0);
  {
    ReorderBuffer buffer;
    buffer.push(EventRef(kept)); // a copy: push takes its own reference
    CHECK(kept->refs == 2);
    buffer.push(makeEvent(6, 1)); // freed with the buffer, never popped
    buffer.finish();
    EventRef out;
    REQUIRE(buffer.pop(out));
    CHECK(out.get() == kept.get());
    CHECK(kept->refs == 2);
  }
  CHECK(kept->refs == 1);
}

TEST_CASE("reorder buffer: with watermarks, disorder within the bound is never late",
          "[runtime][reorder]") {
  const std::int64_t delay = 50;
  Watermarks marks(1, delay, WatermarkMode::Auto);
  ReorderBuffer buffer;
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto random = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::vector<std::pair<std::int64_t, std::uint64_t>> pushed; // (time, id), arrival order
  Ids released;
  std::int64_t max_time = 0;
  const std::uint64_t count = 200000;
  for (std::uint64_t id = 0; id < count; ++id) {
    // Mostly ordered, many equal times, each at most `delay` behind the largest time so far.
    std::int64_t base = static_cast<std::int64_t>(id / 4);
    std::int64_t time = base - static_cast<std::int64_t>(random() % 3 == 0 ? random() % 40 : 0);
    time = std::max(time, max_time - delay);
    max_time = std::max(max_time, time);
    REQUIRE_FALSE(marks.isLate(time));
    REQUIRE(buffer.push(makeEvent(time, id)) == PushResult::Buffered);
    pushed.emplace_back(time, id);
    marks.onEvent(0, time);
    buffer.advanceTo(marks.combined());
    EventRef event;
    while (buffer.pop(event)) {
      released.push_back(event->seq);
    }
  }
  CHECK(buffer.size() <= 4 * (delay + 1)); // only what is within the bound stays
  marks.finish(0);
  buffer.advanceTo(marks.combined());
  EventRef event;
  while (buffer.pop(event)) {
    released.push_back(event->seq);
  }
  std::stable_sort(pushed.begin(), pushed.end(),
                   [](const auto &a, const auto &b) { return a.first < b.first; });
  Ids expected;
  for (const auto &entry : pushed) {
    expected.push_back(entry.second);
  }
  CHECK(released == expected);
}

TEST_CASE("reorder buffer: random disorder matches a stable sort", "[runtime][reorder]") {
  std::uint64_t state = 12345;
  auto random = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  ReorderBuffer buffer;
  std::vector<std::pair<std::int64_t, std::uint64_t>> pushed;
  for (std::uint64_t id = 0; id < 5000; ++id) {
    std::int64_t time = static_cast<std::int64_t>(random() % 300) - 150;
    buffer.push(makeEvent(time, id));
    pushed.emplace_back(time, id);
  }
  std::stable_sort(pushed.begin(), pushed.end(),
                   [](const auto &a, const auto &b) { return a.first < b.first; });
  Ids released;
  for (std::int64_t watermark = -200; watermark <= 200; watermark += 37) {
    buffer.advanceTo(watermark);
    Ids part = drain(buffer);
    released.insert(released.end(), part.begin(), part.end());
  }
  buffer.finish();
  Ids rest = drain(buffer);
  released.insert(released.end(), rest.begin(), rest.end());
  Ids expected;
  for (const auto &entry : pushed) {
    expected.push_back(entry.second);
  }
  CHECK(released == expected);
}

TEST_CASE("reorder buffer: the in-order run wraps around and grows", "[runtime][reorder]") {
  ReorderBuffer buffer;
  std::uint64_t next_id = 0, expected = 0;
  std::int64_t time = 0;
  // Pushes and releases interleaved so the ring's head moves around it while it grows from 64
  // entries to 2048; what a round does not release is carried into the next.
  for (int round = 0; round < 6; ++round) {
    std::size_t pushes = std::size_t{40} << round;
    for (std::size_t i = 0; i < pushes; ++i) {
      REQUIRE(buffer.push(makeEvent(time, next_id++)) == PushResult::Buffered);
      time += (i % 3 == 0) ? 0 : 1;
    }
    REQUIRE(buffer.size() == next_id - expected);
    buffer.advanceTo(time - static_cast<std::int64_t>(pushes / 2));
    Ids released = drain(buffer);
    for (std::uint64_t id : released) {
      REQUIRE(id == expected++);
    }
  }
  buffer.finish();
  for (std::uint64_t id : drain(buffer)) {
    REQUIRE(id == expected++);
  }
  REQUIRE(expected == next_id);
  REQUIRE(buffer.empty());
}
