#include "runtime/time/time_format.hpp"

#include <charconv>
#include <limits>
#include <string>

namespace cep::runtime {

namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool fail(std::string *error, std::string message) {
  if (error != nullptr) {
    *error = std::move(message);
  }
  return false;
}

// Renders one character of the input for an error message.
std::string describeChar(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) {
    return "end of text";
  }
  unsigned char c = static_cast<unsigned char>(text[pos]);
  if (c >= 0x20 && c < 0x7f) {
    return std::string("'") + static_cast<char>(c) + "'";
  }
  static const char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
}

bool expected(std::string *error, std::string_view text, std::size_t pos, const char *what) {
  if (error == nullptr) {
    return false;
  }
  return fail(error, std::string("expected ") + what + " at character " + std::to_string(pos + 1) +
                         ", found " + describeChar(text, pos));
}

// Reads exactly `count` digits at `pos`.
bool readDigits(std::string_view text, std::size_t pos, std::size_t count, unsigned &value,
                std::string *error, const char *what) {
  unsigned v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (pos + i >= text.size() || !isDigit(text[pos + i])) {
      return expected(error, text, pos + i, what);
    }
    v = v * 10 + static_cast<unsigned>(text[pos + i] - '0');
  }
  value = v;
  return true;
}

bool expectChar(std::string_view text, std::size_t pos, char c, char alt, std::string *error,
                const char *what) {
  if (pos < text.size() && (text[pos] == c || text[pos] == alt)) {
    return true;
  }
  return expected(error, text, pos, what);
}

std::string twoDigits(unsigned v) {
  return std::string(1, static_cast<char>('0' + v / 10 % 10)) + static_cast<char>('0' + v % 10);
}

char *writeDigits(char *out, std::uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

} // namespace

bool isLeapYear(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned daysInMonth(std::int64_t year, unsigned month) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && isLeapYear(year)) {
    return 29;
  }
  return kDays[(month - 1) % 12];
}

// The calendar is counted from March 1 so the leap day is the last day of a "year"; a 400-year
// era has 146097 days; 719468 is the number of days from 0000-03-01 to 1970-01-01.
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  std::int64_t y = month <= 2 ? year - 1 : year;
  std::int64_t era = floorDiv(y, 400);
  std::int64_t year_of_era = y - era * 400;                              // [0, 399]
  std::int64_t month_from_march = (month + 9) % 12;                      // March = 0
  std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1; // [0, 365]
  std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

CivilDate civilFromDays(std::int64_t days) {
  std::int64_t z = days + 719468;
  std::int64_t era = floorDiv(z, 146097);
  std::int64_t day_of_era = z - era * 146097; // [0, 146096]
  std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  auto day = static_cast<unsigned>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  auto month =
      static_cast<unsigned>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

bool parseRfc3339(std::string_view text, std::int64_t &epoch_ms, std::string *error) {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!readDigits(text, 0, 4, year, error, "a 4-digit year") ||
      !expectChar(text, 4, '-', '-', error, "'-'") ||
      !readDigits(text, 5, 2, month, error, "a 2-digit month") ||
      !expectChar(text, 7, '-', '-', error, "'-'") ||
      !readDigits(text, 8, 2, day, error, "a 2-digit day") ||
      !expectChar(text, 10, 'T', 't', error, "'T'") ||
      !readDigits(text, 11, 2, hour, error, "a 2-digit hour") ||
      !expectChar(text, 13, ':', ':', error, "':'") ||
      !readDigits(text, 14, 2, minute, error, "a 2-digit minute") ||
      !expectChar(text, 16, ':', ':', error, "':'") ||
      !readDigits(text, 17, 2, second, error, "a 2-digit second")) {
    return false;
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    if (pos >= text.size() || !isDigit(text[pos])) {
      return expected(error, text, pos, "a digit after '.'");
    }
    int kept = 0;
    while (pos < text.size() && isDigit(text[pos])) {
      if (kept < 3) {
        millis = millis * 10 + (text[pos] - '0');
        ++kept;
      }
      ++pos;
    }
    for (; kept < 3; ++kept) {
      millis *= 10;
    }
  }
  std::int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    bool negative = text[pos] == '-';
    unsigned offset_hour = 0, offset_minute = 0;
    if (!readDigits(text, pos + 1, 2, offset_hour, error, "a 2-digit offset hour") ||
        !expectChar(text, pos + 3, ':', ':', error, "':' in the offset") ||
        !readDigits(text, pos + 4, 2, offset_minute, error, "a 2-digit offset minute")) {
      return false;
    }
    if (offset_hour > 23) {
      return fail(error, "offset hour " + twoDigits(offset_hour) + " out of range");
    }
    if (offset_minute > 59) {
      return fail(error, "offset minute " + twoDigits(offset_minute) + " out of range");
    }
    offset_minutes = static_cast<std::int64_t>(offset_hour) * 60 + offset_minute;
    if (negative) {
      offset_minutes = -offset_minutes;
    }
    pos += 6;
  } else {
    return expected(error, text, pos, "a time zone offset ('Z', '+HH:MM' or '-HH:MM')");
  }
  if (pos != text.size()) {
    return fail(error, "unexpected " + describeChar(text, pos) + " at character " +
                           std::to_string(pos + 1) + " after the time zone offset");
  }
  if (month < 1 || month > 12) {
    return fail(error, "month " + twoDigits(month) + " out of range");
  }
  if (day < 1 || day > daysInMonth(year, month)) {
    return fail(error,
                "day " + twoDigits(day) + " out of range for " + std::string(text.substr(0, 7)));
  }
  if (hour > 23) {
    return fail(error, "hour " + twoDigits(hour) + " out of range");
  }
  if (minute > 59) {
    return fail(error, "minute " + twoDigits(minute) + " out of range");
  }
  if (second == 60) {
    return fail(error, "second 60 out of range (leap seconds are not supported)");
  }
  if (second > 59) {
    return fail(error, "second " + twoDigits(second) + " out of range");
  }
  std::int64_t days = daysFromCivil(year, month, day);
  epoch_ms = days * kMillisPerDay + hour * kMillisPerHour + minute * kMillisPerMinute +
             second * kMillisPerSecond + millis - offset_minutes * kMillisPerMinute;
  return true;
}

std::size_t formatRfc3339(std::int64_t epoch_ms, char *out) {
  // Floor division by hand: days * kMillisPerDay would overflow for the int64 extremes.
  std::int64_t days = epoch_ms / kMillisPerDay;
  std::int64_t remainder = epoch_ms % kMillisPerDay;
  if (remainder < 0) {
    remainder += kMillisPerDay;
    --days;
  }
  auto ms_of_day = static_cast<std::uint64_t>(remainder); // [0, kMillisPerDay)
  CivilDate date = civilFromDays(days);
  char *p = out;
  if (date.year >= 0 && date.year <= 9999) {
    p = writeDigits(p, static_cast<std::uint64_t>(date.year), 4);
  } else {
    *p++ = date.year < 0 ? '-' : '+';
    std::uint64_t magnitude = date.year < 0 ? 0 - static_cast<std::uint64_t>(date.year)
                                            : static_cast<std::uint64_t>(date.year);
    int width = 6;
    for (std::uint64_t v = magnitude / 1000000; v != 0; v /= 10) {
      ++width;
    }
    p = writeDigits(p, magnitude, width);
  }
  *p++ = '-';
  p = writeDigits(p, date.month, 2);
  *p++ = '-';
  p = writeDigits(p, date.day, 2);
  *p++ = 'T';
  p = writeDigits(p, ms_of_day / kMillisPerHour, 2);
  *p++ = ':';
  p = writeDigits(p, ms_of_day / kMillisPerMinute % 60, 2);
  *p++ = ':';
  p = writeDigits(p, ms_of_day / kMillisPerSecond % 60, 2);
  *p++ = '.';
  p = writeDigits(p, ms_of_day % 1000, 3);
  *p++ = 'Z';
  return static_cast<std::size_t>(p - out);
}

std::string formatRfc3339(std::int64_t epoch_ms) {
  char buffer[kMaxRfc3339Chars];
  return std::string(buffer, formatRfc3339(epoch_ms, buffer));
}

bool parseDuration(std::string_view text, std::int64_t &millis, std::string *error) {
  constexpr const char *kForm = "a duration such as 250ms, 10s, 5m, 2h or 1d";
  std::size_t pos = 0;
  std::uint64_t value = 0;
  bool overflow = false;
  while (pos < text.size() && isDigit(text[pos])) {
    std::uint64_t digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      overflow = true;
    } else {
      value = value * 10 + digit;
    }
    ++pos;
  }
  if (pos == 0) {
    if (error != nullptr) {
      *error = text.empty()
                   ? std::string("expected ") + kForm + ", found nothing"
                   : std::string("expected ") + kForm + ", found \"" + std::string(text) + "\"";
    }
    return false;
  }
  std::string_view unit = text.substr(pos);
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = kMillisPerSecond;
  } else if (unit == "m") {
    scale = kMillisPerMinute;
  } else if (unit == "h") {
    scale = kMillisPerHour;
  } else if (unit == "d") {
    scale = kMillisPerDay;
  } else if (unit.empty()) {
    return fail(error, "missing unit after \"" + std::string(text) + "\" (ms, s, m, h or d)");
  } else {
    return fail(error, "unknown duration unit \"" + std::string(unit) + "\" in \"" +
                           std::string(text) + "\" (expected ms, s, m, h or d)");
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (overflow || value > kMax / static_cast<std::uint64_t>(scale)) {
    return fail(error, "duration \"" + std::string(text) + "\" is too large");
  }
  millis = static_cast<std::int64_t>(value) * scale;
  return true;
}

namespace {

// One end of a time range: integer epoch ms, or an RFC 3339 instant.
bool parseInstant(std::string_view text, std::int64_t &out, std::string *error) {
  if (!text.empty() && text.find_first_not_of("-0123456789") == std::string_view::npos) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc() && ptr == text.data() + text.size()) {
      return true;
    }
    if (error != nullptr) {
      *error = "`" + std::string(text) + "` is not an epoch-ms integer";
    }
    return false;
  }
  std::string why;
  if (!parseRfc3339(text, out, &why)) {
    if (error != nullptr) {
      *error = "`" + std::string(text) + "`: " + why;
    }
    return false;
  }
  return true;
}

} // namespace

bool parseTimeRange(std::string_view text, std::int64_t &from, std::int64_t &to,
                    std::string *error) {
  std::size_t dots = text.find("..");
  if (dots == std::string_view::npos) {
    if (error != nullptr) {
      *error = "expected FROM..TO (RFC 3339 times or epoch ms), as in "
               "1970-01-01T00:00:00Z..2200-01-01T00:00:00Z";
    }
    return false;
  }
  if (!parseInstant(text.substr(0, dots), from, error) ||
      !parseInstant(text.substr(dots + 2), to, error)) {
    return false;
  }
  if (from >= to) {
    if (error != nullptr) {
      *error = "FROM must be before TO";
    }
    return false;
  }
  return true;
}

} // namespace cep::runtime
