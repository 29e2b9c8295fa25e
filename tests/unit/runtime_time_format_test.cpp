#include "runtime/time/time_format.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

using namespace cep::runtime;

namespace {

std::int64_t parsed(const std::string &text) {
  std::int64_t ms = 0;
  std::string error;
  INFO(text);
  REQUIRE(parseRfc3339(text, ms, &error));
  CHECK(error.empty());
  return ms;
}

std::string parseError(const std::string &text) {
  std::int64_t ms = 12345;
  std::string error;
  INFO(text);
  REQUIRE_FALSE(parseRfc3339(text, ms, &error));
  CHECK(ms == 12345); // untouched on failure
  return error;
}

std::int64_t duration(const std::string &text) {
  std::int64_t ms = 0;
  std::string error;
  INFO(text);
  REQUIRE(parseDuration(text, ms, &error));
  return ms;
}

std::string durationError(const std::string &text) {
  std::int64_t ms = 0;
  std::string error;
  INFO(text);
  REQUIRE_FALSE(parseDuration(text, ms, &error));
  return error;
}

} // namespace

TEST_CASE("civil calendar arithmetic", "[runtime][time]") {
  CHECK(daysFromCivil(1970, 1, 1) == 0);
  CHECK(daysFromCivil(1969, 12, 31) == -1);
  CHECK(daysFromCivil(2000, 3, 1) == 11017);
  CHECK(daysFromCivil(0, 1, 1) == -719528);
  CHECK(daysFromCivil(2026, 1, 5) == 20458);
  CHECK(isLeapYear(2024));
  CHECK(isLeapYear(2000));
  CHECK_FALSE(isLeapYear(1900));
  CHECK(isLeapYear(0));
  CHECK(daysInMonth(2024, 2) == 29);
  CHECK(daysInMonth(2100, 2) == 28);
  CHECK(daysInMonth(2026, 4) == 30);
  // Round trip over 800 years around the epoch, both sides of it.
  for (std::int64_t days = -146097; days <= 146097; days += 7) {
    CivilDate date = civilFromDays(days);
    REQUIRE(daysFromCivil(date.year, date.month, date.day) == days);
  }
  CivilDate date = civilFromDays(-1);
  CHECK(date.year == 1969);
  CHECK(date.month == 12);
  CHECK(date.day == 31);
}

TEST_CASE("parse RFC 3339 instants", "[runtime][time]") {
  CHECK(parsed("2026-01-05T10:00:00Z") == 1767607200000);
  CHECK(parsed("2026-01-05T10:00:00.123Z") == 1767607200123);
  CHECK(parsed("2026-01-05T10:00:00.123456+02:00") == 1767600000123);
  CHECK(parsed("2026-01-05t10:00:00z") == 1767607200000);
  CHECK(parsed("2026-01-05T10:00:00.1Z") == 1767607200100);
  CHECK(parsed("2026-01-05T10:00:00.12Z") == 1767607200120);
  CHECK(parsed("2026-01-05T10:00:00+00:00") == 1767607200000);
  CHECK(parsed("2026-01-05T10:00:00-00:00") == 1767607200000);
  CHECK(parsed("2024-02-29T12:00:00-05:30") == 1709227800000);
  CHECK(parsed("1970-01-01T00:00:00Z") == 0);
  CHECK(parsed("1900-03-01T00:00:00Z") == -2203891200000);
  CHECK(parsed("0000-01-01T00:00:00Z") == -62167219200000);
  CHECK(parsed("9999-12-31T23:59:59.999Z") == 253402300799999);
  CHECK(parsed("2026-01-05T23:59:59+23:59") == 1767571259000);
}

TEST_CASE("fraction digits beyond milliseconds truncate toward the earlier instant",
          "[runtime][time]") {
  CHECK(parsed("2026-01-05T10:00:00.9999999Z") == 1767607200999);
  CHECK(parsed("1969-12-31T23:59:59.9999Z") == -1);
  CHECK(parsed("1969-12-31T23:59:59.0005Z") == -1000);
  CHECK(parsed("1960-06-01T00:00:00.123999999999Z") == -302486399877);
}

TEST_CASE("invalid RFC 3339 instants are rejected with a reason", "[runtime][time]") {
  CHECK(parseError("2026-02-30T10:00:00Z") == "day 30 out of range for 2026-02");
  CHECK(parseError("2025-02-29T10:00:00Z") == "day 29 out of range for 2025-02");
  CHECK(parseError("2026-01-00T10:00:00Z") == "day 00 out of range for 2026-01");
  CHECK(parseError("2026-13-01T10:00:00Z") == "month 13 out of range");
  CHECK(parseError("2026-00-01T10:00:00Z") == "month 00 out of range");
  CHECK(parseError("2026-01-05T24:00:00Z") == "hour 24 out of range");
  CHECK(parseError("2026-01-05T10:60:00Z") == "minute 60 out of range");
  CHECK(parseError("2026-01-05T10:00:60Z") ==
        "second 60 out of range (leap seconds are not supported)");
  CHECK(parseError("2026-01-05T10:00:61Z") == "second 61 out of range");
  CHECK(parseError("2026-01-05T10:00:00+24:00") == "offset hour 24 out of range");
  CHECK(parseError("2026-01-05T10:00:00+02:60") == "offset minute 60 out of range");
  CHECK(parseError("2026-01-05T10:00:00") ==
        "expected a time zone offset ('Z', '+HH:MM' or '-HH:MM') at character 20, found end of "
        "text");
  CHECK(parseError("2026-01-05 10:00:00Z") == "expected 'T' at character 11, found ' '");
  CHECK(parseError("2026-1-05T10:00:00Z") == "expected a 2-digit month at character 7, found '-'");
  CHECK(parseError("26-01-05T10:00:00Z") == "expected a 4-digit year at character 3, found '-'");
  CHECK(parseError("2026-01-05T10:00:00.Z") ==
        "expected a digit after '.' at character 21, found 'Z'");
  CHECK(parseError("2026-01-05T10:00:00ZZ") ==
        "unexpected 'Z' at character 21 after the time zone offset");
  CHECK(parseError("2026-01-05T10:00:00+0200") ==
        "expected ':' in the offset at character 23, found '0'");
  CHECK(parseError("") == "expected a 4-digit year at character 1, found end of text");
  CHECK(parseError("2026-01-05T10:00:00\x01") ==
        "expected a time zone offset ('Z', '+HH:MM' or '-HH:MM') at character 20, found byte "
        "0x01");
  std::int64_t ms = 0;
  CHECK_FALSE(parseRfc3339("garbage", ms)); // the reason is optional
}

TEST_CASE("format epoch ms as RFC 3339 UTC with milliseconds", "[runtime][time]") {
  CHECK(formatRfc3339(1767607200000) == "2026-01-05T10:00:00.000Z");
  CHECK(formatRfc3339(1767607200123) == "2026-01-05T10:00:00.123Z");
  CHECK(formatRfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(formatRfc3339(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(formatRfc3339(-62167219200000) == "0000-01-01T00:00:00.000Z");
  CHECK(formatRfc3339(253402300799999) == "9999-12-31T23:59:59.999Z");
  CHECK(formatRfc3339(1709208000000) == "2024-02-29T12:00:00.000Z");
  // Outside years 0000-9999: expanded years, as JavaScript's toISOString.
  CHECK(formatRfc3339(253402300800000) == "+010000-01-01T00:00:00.000Z");
  CHECK(formatRfc3339(-62167219200001) == "-000001-12-31T23:59:59.999Z");
  CHECK(formatRfc3339(std::numeric_limits<std::int64_t>::max()) ==
        "+292278994-08-17T07:12:55.807Z");
  CHECK(formatRfc3339(std::numeric_limits<std::int64_t>::min()) ==
        "-292275055-05-16T16:47:04.192Z");
  char buffer[kMaxRfc3339Chars];
  CHECK(formatRfc3339(0, buffer) == 24);
}

TEST_CASE("formatted instants parse back to the same milliseconds", "[runtime][time]") {
  for (std::int64_t ms : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1767607200123},
                          std::int64_t{-62167219200000}, std::int64_t{253402300799999},
                          std::int64_t{951782400000}, std::int64_t{-2203891199999}}) {
    CHECK(parsed(formatRfc3339(ms)) == ms);
  }
  // A pseudo-random walk over the whole 0000-9999 range.
  std::uint64_t state = 88172645463325252ULL;
  const std::int64_t low = -62167219200000, span = 253402300799999 - low + 1;
  for (int i = 0; i < 20000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::int64_t ms = low + static_cast<std::int64_t>(state % static_cast<std::uint64_t>(span));
    REQUIRE(parsed(formatRfc3339(ms)) == ms);
  }
}

TEST_CASE("parse durations", "[runtime][time]") {
  CHECK(duration("250ms") == 250);
  CHECK(duration("10s") == 10000);
  CHECK(duration("5m") == 300000);
  CHECK(duration("2h") == 7200000);
  CHECK(duration("1d") == 86400000);
  CHECK(duration("0s") == 0);
  CHECK(duration("0ms") == 0);
  CHECK(duration("9223372036854775807ms") == std::numeric_limits<std::int64_t>::max());
  CHECK(durationError("10") == "missing unit after \"10\" (ms, s, m, h or d)");
  CHECK(durationError("10x") ==
        "unknown duration unit \"x\" in \"10x\" (expected ms, s, m, h or d)");
  CHECK(durationError("10 s") ==
        "unknown duration unit \" s\" in \"10 s\" (expected ms, s, m, h or d)");
  CHECK(durationError("-5s") ==
        "expected a duration such as 250ms, 10s, 5m, 2h or 1d, found \"-5s\"");
  CHECK(durationError("") == "expected a duration such as 250ms, 10s, 5m, 2h or 1d, found nothing");
  CHECK(durationError("1h30m") ==
        "unknown duration unit \"h30m\" in \"1h30m\" (expected ms, s, m, h or d)");
  CHECK(durationError("106751991168d") == "duration \"106751991168d\" is too large");
  CHECK(durationError("99999999999999999999999ms") ==
        "duration \"99999999999999999999999ms\" is too large");
}

TEST_CASE("time format: --event-time-range FROM..TO", "[runtime][time]") {
  std::int64_t from = 0, to = 0;
  std::string error;
  REQUIRE(parseTimeRange("1970-01-01T00:00:00Z..2200-01-01T00:00:00Z", from, to, &error));
  CHECK(from == 0);
  CHECK(to == 7258118400000);
  REQUIRE(parseTimeRange("-9223372036854775808..9223372036854775807", from, to, &error));
  CHECK(from == std::numeric_limits<std::int64_t>::min());
  CHECK(to == std::numeric_limits<std::int64_t>::max());
  REQUIRE(parseTimeRange("1000..2026-01-05T10:00:00.5+01:00", from, to, &error));
  CHECK(from == 1000);
  CHECK(to == 1767603600500);
  CHECK_FALSE(parseTimeRange("2000..1000", from, to, &error));
  CHECK(error == "FROM must be before TO");
  CHECK_FALSE(parseTimeRange("1970-01-01", from, to, &error));
  CHECK(error == "expected FROM..TO (RFC 3339 times or epoch ms), as in "
                 "1970-01-01T00:00:00Z..2200-01-01T00:00:00Z");
  CHECK_FALSE(parseTimeRange("0..99999999999999999999", from, to, &error));
  CHECK(error == "`99999999999999999999` is not an epoch-ms integer");
  CHECK_FALSE(parseTimeRange("0..2026-02-30T00:00:00Z", from, to, &error));
  CHECK(error == "`2026-02-30T00:00:00Z`: day 30 out of range for 2026-02");
}
