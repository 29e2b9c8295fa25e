// Event-time text formats: RFC 3339 instants <-> epoch milliseconds, and the CLI's durations
// (`250ms 10s 5m 2h 1d`). Pure arithmetic on the proleptic Gregorian calendar (days from civil):
// no locale, no time zone database, no mktime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cep::runtime {

constexpr std::int64_t kMillisPerSecond = 1000;
constexpr std::int64_t kMillisPerMinute = 60 * kMillisPerSecond;
constexpr std::int64_t kMillisPerHour = 60 * kMillisPerMinute;
constexpr std::int64_t kMillisPerDay = 24 * kMillisPerHour;

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31; not validated).
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day);

struct CivilDate {
  std::int64_t year;
  unsigned month; // 1-12
  unsigned day;   // 1-31
};
CivilDate civilFromDays(std::int64_t days);

bool isLeapYear(std::int64_t year);
unsigned daysInMonth(std::int64_t year, unsigned month);

// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` ('t' and 'z' may be lowercase) into
// epoch ms. Fraction digits beyond milliseconds are truncated (toward the earlier instant).
// On failure returns false and, when `error` is given, sets it to the reason, e.g.
// `day 30 out of range for 2026-02`. Leap seconds (`:60`) are rejected.
bool parseRfc3339(std::string_view text, std::int64_t &epoch_ms, std::string *error = nullptr);

// Longest output of formatRfc3339 (an expanded year of int64 extremes) is 30 characters.
constexpr std::size_t kMaxRfc3339Chars = 32;

// Writes `YYYY-MM-DDTHH:MM:SS.mmmZ` (always UTC, exactly 3 fraction digits) and returns the length.
// Instants outside years 0000-9999 use expanded years as JavaScript's toISOString does (a sign
// and at least 6 digits: `+010000-01-01T...`, `-000001-12-31T...`), so every int64 formats.
std::size_t formatRfc3339(std::int64_t epoch_ms, char *out);
std::string formatRfc3339(std::int64_t epoch_ms);

// Parses a duration `<digits><unit>` with unit ms, s, m, h or d (`250ms`, `10s`, `5m`, `2h`,
// `1d`) into milliseconds. No sign, no spaces, no compound forms.
bool parseDuration(std::string_view text, std::int64_t &millis, std::string *error = nullptr);

// Parses a time range `FROM..TO` (`--event-time-range`), each end an RFC 3339 instant or integer
// epoch ms, FROM before TO: the times t with from <= t < to (TO = the int64 maximum includes it).
bool parseTimeRange(std::string_view text, std::int64_t &from, std::int64_t &to,
                    std::string *error = nullptr);

} // namespace cep::runtime
