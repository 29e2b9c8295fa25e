#include "time_format.hpp"

#include <charconv>

namespace cep::tools {

namespace {

// Days and civil dates are counted in years that start on March 1st, so that the leap day is the
// last day of its year and the month lengths before it follow a fixed 153-days-per-5-months rule.
constexpr std::int64_t kDaysPer400Years = 146'097;
constexpr std::int64_t kDaysFromYear0To1970 = 719'468; // 0000-03-01 .. 1970-01-01

struct CivilDate {
  std::int64_t year;
  int month; // 1..12
  int day;   // 1..31
};

constexpr bool isLeapYear(std::int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

constexpr int daysInMonth(std::int64_t year, int month) {
  constexpr int kLengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeapYear(year) ? 29 : kLengths[month - 1];
}

// Days since 1970-01-01 of a date in year 1 or later.
constexpr std::int64_t daysSinceEpoch(const CivilDate &date) {
  const std::int64_t march_year = date.month <= 2 ? date.year - 1 : date.year;
  const std::int64_t month_from_march = date.month <= 2 ? date.month + 9 : date.month - 3;
  const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + date.day - 1;
  const std::int64_t days_before_year =
      365 * march_year + march_year / 4 - march_year / 100 + march_year / 400;
  return days_before_year + day_of_year - kDaysFromYear0To1970;
}

// The inverse of daysSinceEpoch for days >= 0.
constexpr CivilDate civilDate(std::int64_t days_since_epoch) {
  const std::int64_t days = days_since_epoch + kDaysFromYear0To1970;
  const std::int64_t cycle = days / kDaysPer400Years;
  const std::int64_t day_of_cycle = days % kDaysPer400Years; // 0..146096
  // Years within the 400-year cycle; the corrections skip the leap days at the 4-, 100- and
  // 400-year marks (the last day of the cycle belongs to year 399).
  const std::int64_t year_of_cycle =
      (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36524 - day_of_cycle / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  const int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  const int month =
      static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  const std::int64_t year = cycle * 400 + year_of_cycle + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

static_assert(daysSinceEpoch({1970, 1, 1}) == 0);
static_assert(daysSinceEpoch({2000, 3, 1}) == 11'017);
static_assert(civilDate(11'016).month == 2 && civilDate(11'016).day == 29);
static_assert(civilDate(daysSinceEpoch({2026, 1, 5})).day == 5);

void appendPadded(std::string &out, std::int64_t value, int width) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  const auto length = static_cast<int>(result.ptr - digits);
  out.append(static_cast<std::size_t>(width > length ? width - length : 0), '0');
  out.append(digits, result.ptr);
}

// Reads exactly `width` decimal digits at `pos`.
std::optional<int> readDigits(std::string_view text, std::size_t &pos, std::size_t width) {
  if (pos + width > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool expect(std::string_view text, std::size_t &pos, std::string_view choices) {
  if (pos < text.size() && choices.find(text[pos]) != std::string_view::npos) {
    ++pos;
    return true;
  }
  return false;
}

std::optional<std::int64_t> parseRfc3339(std::string_view text) {
  std::size_t pos = 0;
  const auto year = readDigits(text, pos, 4);
  if (!year || !expect(text, pos, "-")) {
    return std::nullopt;
  }
  const auto month = readDigits(text, pos, 2);
  if (!month || !expect(text, pos, "-")) {
    return std::nullopt;
  }
  const auto day = readDigits(text, pos, 2);
  if (!day || !expect(text, pos, "Tt ")) {
    return std::nullopt;
  }
  const auto hour = readDigits(text, pos, 2);
  if (!hour || !expect(text, pos, ":")) {
    return std::nullopt;
  }
  const auto minute = readDigits(text, pos, 2);
  if (!minute || !expect(text, pos, ":")) {
    return std::nullopt;
  }
  const auto second = readDigits(text, pos, 2);
  if (!second || *year < 1 || *month < 1 || *month > 12 || *day < 1 ||
      *day > daysInMonth(*year, *month) || *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  std::int64_t millis = 0;
  if (expect(text, pos, ".")) {
    // Fractions finer than a millisecond are truncated, as the language's time type does.
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) {
        millis = millis * 10 + (text[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (; digits < 3; ++digits) {
      millis *= 10;
    }
  }
  std::int64_t offset_minutes = 0;
  if (!expect(text, pos, "Zz")) {
    const bool negative = pos < text.size() && text[pos] == '-';
    if (!expect(text, pos, "+-")) {
      return std::nullopt;
    }
    const auto offset_hours = readDigits(text, pos, 2);
    if (!offset_hours || !expect(text, pos, ":")) {
      return std::nullopt;
    }
    const auto offset_mins = readDigits(text, pos, 2);
    if (!offset_mins || *offset_hours > 23 || *offset_mins > 59) {
      return std::nullopt;
    }
    offset_minutes = (*offset_hours * 60 + *offset_mins) * (negative ? -1 : 1);
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const std::int64_t days = daysSinceEpoch({*year, *month, *day});
  return days * kDay + *hour * kHour + *minute * kMinute + *second * kSecond + millis -
         offset_minutes * kMinute;
}

} // namespace

std::string formatRfc3339(std::int64_t ms) {
  const std::int64_t days = ms / kDay;
  std::int64_t rest = ms % kDay;
  const CivilDate date = civilDate(days);
  std::string out;
  out.reserve(24);
  appendPadded(out, date.year, 4);
  out += '-';
  appendPadded(out, date.month, 2);
  out += '-';
  appendPadded(out, date.day, 2);
  out += 'T';
  appendPadded(out, rest / kHour, 2);
  rest %= kHour;
  out += ':';
  appendPadded(out, rest / kMinute, 2);
  rest %= kMinute;
  out += ':';
  appendPadded(out, rest / kSecond, 2);
  out += '.';
  appendPadded(out, rest % kSecond, 3);
  out += 'Z';
  return out;
}

std::optional<std::int64_t> parseTime(std::string_view text) {
  std::int64_t value = 0;
  const char *end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  std::optional<std::int64_t> time;
  if (!text.empty() && result.ec == std::errc() && result.ptr == end) {
    time = value;
  } else {
    time = parseRfc3339(text);
  }
  if (!time || *time < 0 || *time > kMaxTime) {
    return std::nullopt;
  }
  return time;
}

std::optional<std::int64_t> parseDuration(std::string_view text) {
  std::int64_t count = 0;
  const char *end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, count);
  if (text.empty() || result.ec != std::errc() || count < 0) {
    return std::nullopt;
  }
  const std::string_view unit(result.ptr, static_cast<std::size_t>(end - result.ptr));
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = kSecond;
  } else if (unit == "m") {
    scale = kMinute;
  } else if (unit == "h") {
    scale = kHour;
  } else if (unit == "d") {
    scale = kDay;
  } else if (unit.empty() && count == 0) {
    scale = 1;
  } else {
    return std::nullopt;
  }
  if (count > INT64_MAX / scale) {
    return std::nullopt;
  }
  return count * scale;
}

} // namespace cep::tools
