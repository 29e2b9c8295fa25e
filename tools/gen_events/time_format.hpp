// Event times and durations as text: epoch milliseconds, RFC 3339 UTC and `500ms`-style durations.
// Pure integer arithmetic, independent of the locale and the time zone of the machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cep::tools {

constexpr std::int64_t kSecond = 1'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

// The last millisecond that formats with a four-digit year: 9999-12-31T23:59:59.999Z.
constexpr std::int64_t kMaxTime = 253'402'300'799'999;

// `2026-01-05T10:00:00.123Z`; `ms` must be in [0, kMaxTime].
std::string formatRfc3339(std::int64_t ms);

// Epoch milliseconds (`1767607200000`) or RFC 3339 (`2026-01-05T10:00:00Z`,
// `2026-01-05T11:00:00.5+01:00`). Empty when the text is neither or out of [0, kMaxTime].
std::optional<std::int64_t> parseTime(std::string_view text);

// A non-negative duration with a unit as in the language (`250ms`, `10s`, `5m`, `2h`, `1d`), or a
// bare `0`. Empty when malformed.
std::optional<std::int64_t> parseDuration(std::string_view text);

} // namespace cep::tools
