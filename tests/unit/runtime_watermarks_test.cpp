#include "runtime/time/counting_order.hpp"
#include "runtime/time/watermarks.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

using namespace cep::runtime;

TEST_CASE("watermarks: bounded out-of-orderness per input", "[runtime][watermarks]") {
  Watermarks marks(1, 5000, WatermarkMode::Auto);
  CHECK(marks.combined() == kNoWatermark);
  CHECK_FALSE(marks.isLate(std::numeric_limits<std::int64_t>::min()));
  CHECK_FALSE(marks.isLate(0));
  marks.onEvent(0, 10000);
  CHECK(marks.of(0) == 4999); // max time - max delay - 1 ms
  CHECK(marks.combined() == 4999);
  CHECK(marks.isLate(4999));
  CHECK(marks.isLate(-7));
  CHECK_FALSE(marks.isLate(5000));
  marks.onEvent(0, 8000); // earlier events never move it back
  CHECK(marks.combined() == 4999);
  marks.onEvent(0, 12000);
  CHECK(marks.combined() == 6999);
}

TEST_CASE("watermarks: zero delay keeps equal times on time", "[runtime][watermarks]") {
  Watermarks marks(1, 0, WatermarkMode::Auto);
  marks.onEvent(0, 100);
  CHECK(marks.combined() == 99);
  CHECK_FALSE(marks.isLate(100)); // a second event at the same time is not late
  CHECK(marks.isLate(99));
}

TEST_CASE("watermarks: the combined watermark is the minimum over inputs",
          "[runtime][watermarks]") {
  Watermarks marks(3, 0, WatermarkMode::Auto);
  marks.onEvent(0, 1000);
  marks.onEvent(1, 500);
  CHECK(marks.combined() == kNoWatermark); // input 2 has said nothing yet
  CHECK_FALSE(marks.isLate(0));
  marks.onEvent(2, 2000);
  CHECK(marks.combined() == 499);
  marks.onEvent(1, 3000);
  CHECK(marks.combined() == 999);
  marks.finish(0);
  CHECK(marks.of(0) == kEndWatermark);
  CHECK(marks.combined() == 1999);
  marks.finish(2);
  CHECK(marks.combined() == 2999);
  marks.finish(1);
  CHECK(marks.combined() == kEndWatermark);
  CHECK(marks.isLate(std::numeric_limits<std::int64_t>::max()));
  marks.onWatermark(1, 5); // nothing goes back after the end
  CHECK(marks.combined() == kEndWatermark);
}

TEST_CASE("watermarks: explicit lines in auto and explicit mode", "[runtime][watermarks]") {
  Watermarks automatic(1, 1000, WatermarkMode::Auto);
  automatic.onWatermark(0, 50000);
  CHECK(automatic.combined() == 50000);
  automatic.onEvent(0, 20000); // below: no effect
  CHECK(automatic.combined() == 50000);
  automatic.onWatermark(0, 100); // never back
  CHECK(automatic.combined() == 50000);
  automatic.onEvent(0, 60000);
  CHECK(automatic.combined() == 58999);

  Watermarks explicit_only(2, 1000, WatermarkMode::Explicit);
  explicit_only.onEvent(0, 1000000);
  explicit_only.onEvent(1, 1000000);
  CHECK(explicit_only.combined() == kNoWatermark);
  explicit_only.onWatermark(0, 10);
  explicit_only.onWatermark(1, 20);
  CHECK(explicit_only.combined() == 10);
  CHECK(explicit_only.isLate(10));
  CHECK_FALSE(explicit_only.isLate(11));
  explicit_only.finish(0);
  CHECK(explicit_only.combined() == 20);
}

TEST_CASE("watermarks: extreme times saturate", "[runtime][watermarks]") {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  Watermarks marks(1, 10, WatermarkMode::Auto);
  marks.onEvent(0, kMin + 5); // would underflow: still no watermark
  CHECK(marks.combined() == kNoWatermark);
  marks.onEvent(0, kMin + 12);
  CHECK(marks.combined() == kMin + 1);
  Watermarks huge(1, std::numeric_limits<std::int64_t>::max(), WatermarkMode::Auto);
  huge.onEvent(0, 5);
  CHECK(huge.combined() == kMin + 5);
  huge.onEvent(0, std::numeric_limits<std::int64_t>::max());
  CHECK(huge.combined() == -1);
}

TEST_CASE("watermarks: no inputs at all is already the end", "[runtime][watermarks]") {
  Watermarks marks(0, 0, WatermarkMode::Auto);
  CHECK(marks.combined() == kEndWatermark);
}

TEST_CASE("watermarks: an event at the int64 limit does not wrap or end the input",
          "[runtime][watermarks]") {
  Watermarks marks(1, 2000, WatermarkMode::Auto);
  marks.onEvent(0, std::numeric_limits<std::int64_t>::min() + 5);
  CHECK(marks.combined() == kNoWatermark); // below the range: no watermark yet
  marks.onEvent(0, std::numeric_limits<std::int64_t>::max());
  CHECK(marks.combined() == std::numeric_limits<std::int64_t>::max() - 2001);
  CHECK(marks.combined() != kEndWatermark);
  // An explicit watermark at the int64 maximum is not the end of the input either.
  Watermarks explicit_only(1, 0, WatermarkMode::Explicit);
  explicit_only.onWatermark(0, std::numeric_limits<std::int64_t>::max());
  CHECK(explicit_only.combined() == std::numeric_limits<std::int64_t>::max() - 1);
  explicit_only.finish(0);
  CHECK(explicit_only.combined() == kEndWatermark);
}

TEST_CASE("watermarks: an input left out of the minimum (a Kafka partition not assigned or idle)",
          "[runtime][watermarks]") {
  Watermarks marks(3, 0, WatermarkMode::Auto);
  marks.onEvent(0, 1000);
  marks.onEvent(1, 500);
  CHECK(marks.combined() == kNoWatermark); // input 2 has said nothing yet
  marks.setCounted(2, false);
  CHECK(marks.combined() == 499);
  marks.setCounted(1, false);
  CHECK(marks.combined() == 999);
  marks.onEvent(0, 2000);
  CHECK(marks.combined() == 1999);
  // Counted again, below the combined watermark: the combined one does not go back, and moves
  // again once that input passes it.
  marks.setCounted(1, true);
  CHECK(marks.combined() == 1999);
  CHECK(marks.isLate(600)); // its events at or before the combined watermark are late
  marks.onEvent(1, 1500);
  CHECK(marks.combined() == 1999);
  marks.onEvent(1, 3000);
  CHECK(marks.combined() == 1999); // input 0 is the minimum now
  marks.onEvent(0, 2500);
  CHECK(marks.combined() == 2499);
  marks.setCounted(0, false);
  CHECK(marks.combined() == 2999); // input 1 alone
  // None counted: it stays.
  marks.setCounted(1, false);
  CHECK(marks.combined() == 2999);
  marks.setCounted(2, true);
  CHECK(marks.combined() == 2999); // input 2 has no watermark: nothing moves back
  marks.onEvent(2, 10000);
  CHECK(marks.combined() == 9999);
}

TEST_CASE("watermarks: inputs that ended do not end time for one left out",
          "[runtime][watermarks]") {
  Watermarks marks(2, 0, WatermarkMode::Auto); // a file and a Kafka partition not assigned yet
  marks.setCounted(1, false);
  marks.onEvent(0, 1000);
  CHECK(marks.combined() == 999);
  marks.finish(0);
  CHECK(marks.combined() == 999); // not +infinity: the partition may still come
  marks.setCounted(1, true);
  CHECK(marks.combined() == 999);
  marks.onEvent(1, 5000);
  CHECK(marks.combined() == 4999);
}

TEST_CASE("watermarks: inputs counted together take the minimum of them all, in any order",
          "[runtime][watermarks]") {
  // Two Kafka partitions assigned at once, each restored from its changelog record: partition 0
  // ahead (its watermark at 60 min), partition 1 behind (30 min), neither counted before; and a
  // third, counted, that stops counting in the same change.
  auto restored = [] {
    Watermarks marks(3, 0, WatermarkMode::Auto);
    marks.setCounted(0, false);
    marks.setCounted(1, false);
    marks.onWatermark(0, 3'600'000);
    marks.onWatermark(1, 1'800'000);
    marks.onWatermark(2, 1'000'000);
    return marks;
  };
  using Changes = std::vector<std::pair<std::uint32_t, bool>>;
  // Input 2 stopping first leaves none counted, so partition 0 counted next would be alone.
  for (const Changes &changes :
       {Changes{{0, true}, {1, true}, {2, false}}, Changes{{2, false}, {0, true}, {1, true}},
        Changes{{2, false}, {1, true}, {0, true}},
        Changes{{1, true}, {2, false}, {0, true}, {2, false}}}) {
    Watermarks marks = restored();
    CHECK(marks.combined() == 1'000'000);
    for (const auto &[input, counted] : countingOrder(marks, changes)) {
      marks.setCounted(input, counted);
    }
    CHECK(marks.combined() == 1'800'000);
    CHECK_FALSE(marks.isLate(2'000'000)); // partition 1's next events are not late
  }
  // In input order, the partition counted first raises the combined watermark with input 2
  // gone, and it never goes back: what serve_loop's followCounts did before.
  Watermarks in_order = restored();
  in_order.setCounted(2, false);
  in_order.setCounted(0, true);
  in_order.setCounted(1, true);
  CHECK(in_order.combined() == 3'600'000);
  // Changes to the current flags are dropped.
  Watermarks same = restored();
  CHECK(countingOrder(same, {{2, true}, {0, false}}).empty());
}
