#include "support/time_arith.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

using namespace cep::time;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
} // namespace

TEST_CASE("time arithmetic: sums saturate instead of wrapping", "[support][time]") {
  CHECK(addSaturating(1000, 500) == 1500);
  CHECK(addSaturating(kMax - 10, 100) == kMax);
  CHECK(addSaturating(kMin + 10, -100) == kMin);
  CHECK(addSaturating(kMax, kMax) == kMax);
  CHECK(subSaturating(1000, 500) == 500);
  CHECK(subSaturating(kMin + 10, 100) == kMin);
  CHECK(subSaturating(kMax - 10, -100) == kMax);
  CHECK(subSaturating(0, kMin) == kMax);
}

TEST_CASE("time arithmetic: a deadline is finite and before the end of input", "[support][time]") {
  CHECK(deadlineAfter(1000, 600000) == 601000);
  CHECK(deadlineAfter(kMax - 5, 86400000) == kLatestDeadlineMs);
  CHECK(deadlineAfter(kMax, 1) == kLatestDeadlineMs);
  CHECK(deadlineAfter(kLatestDeadlineMs, 0) == kLatestDeadlineMs);
  CHECK(deadlineAfter(kMax, 0) == kLatestDeadlineMs);
  CHECK(kLatestDeadlineMs < kEndOfTimeMs);
  // The bounds leave headroom: the latest plausible time plus the longest duration is far from
  // the int64 limit, in both directions.
  CHECK(kDefaultTimeMax + kMaxDurationMs < kMax / 100000);
  CHECK(kDefaultTimeMin - kMaxDurationMs > kMin / 100000);
  CHECK(kMaxDurationMs == 100000LL * 86400000LL);
  CHECK(kDefaultTimeMax == 7258118400000); // 2200-01-01T00:00:00Z
}
