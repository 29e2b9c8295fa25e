// Time arithmetic that cannot overflow: every sum of an event time (epoch ms) and a duration
// (ms) made by the engines, the runtime's watermarks and timers goes through these helpers, so a
// value at the edge of the int64 range saturates instead of wrapping to the other end.
//
// The bounds they work with (docs/limits.md, "Time values"):
//   kMaxDurationMs      the longest duration `cep check` accepts (100000d, about 274 years)
//   kDefaultTimeMin/Max the default plausible event-time range [1970-01-01, 2200-01-01)
//   kEndOfTimeMs        +infinity: the end of the input, after every deadline
// With times inside the plausible range and durations at most kMaxDurationMs no sum comes within
// a factor of 10^5 of the int64 limits; the saturation is the guard for what gets past them.
#pragma once

#include <cstdint>
#include <limits>

namespace cep::time {

constexpr std::int64_t kMsPerDay = 86'400'000;
// The longest duration a rule may hold (`within`, consts, literals after constant folding).
constexpr std::int64_t kMaxDurationDays = 100'000;
constexpr std::int64_t kMaxDurationMs = kMaxDurationDays * kMsPerDay;
// Default plausible event-time range, [min, max): 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z.
constexpr std::int64_t kDefaultTimeMin = 0;
constexpr std::int64_t kDefaultTimeMax = 7'258'118'400'000;
// +infinity (the end of every input) and -infinity.
constexpr std::int64_t kEndOfTimeMs = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kStartOfTimeMs = std::numeric_limits<std::int64_t>::min();
// The latest finite deadline: one below +infinity, so the end of input still passes it.
constexpr std::int64_t kLatestDeadlineMs = kEndOfTimeMs - 1;

// a + b, saturated to the int64 range.
constexpr std::int64_t addSaturating(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? kEndOfTimeMs : kStartOfTimeMs;
  }
  return r;
}

// a - b, saturated to the int64 range.
constexpr std::int64_t subSaturating(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? kEndOfTimeMs : kStartOfTimeMs;
  }
  return r;
}

// The deadline `duration` after `time`: saturating, and at most kLatestDeadlineMs, so a deadline
// is always a finite time that the end of the input (+infinity) passes.
constexpr std::int64_t deadlineAfter(std::int64_t time, std::int64_t duration) {
  std::int64_t d = addSaturating(time, duration);
  return d > kLatestDeadlineMs ? kLatestDeadlineMs : d;
}

} // namespace cep::time
