// Time built-ins (native.hpp): UTC calendar fields of epoch milliseconds, duration units.
#include "stdlib/native.hpp"

namespace {

constexpr std::int64_t kMsPerMinute = 60 * 1000;
constexpr std::int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;

// Floor division and modulo (epoch times before 1970 are negative).
std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
std::int64_t floorMod(std::int64_t a, std::int64_t b) {
  return a - floorDiv(a, b) * b;
}

} // namespace

extern "C" {

std::int64_t cep_stdlib_hour(std::int64_t epoch_ms) {
  return floorMod(epoch_ms, kMsPerDay) / kMsPerHour;
}

std::int64_t cep_stdlib_minute(std::int64_t epoch_ms) {
  return floorMod(epoch_ms, kMsPerHour) / kMsPerMinute;
}

std::int64_t cep_stdlib_day_of_week(std::int64_t epoch_ms) {
  // 1970-01-01 was a Thursday (4).
  return floorMod(floorDiv(epoch_ms, kMsPerDay) + 3, 7) + 1;
}

double cep_stdlib_seconds(std::int64_t duration_ms) {
  return static_cast<double>(duration_ms) / 1000.0;
}

double cep_stdlib_minutes(std::int64_t duration_ms) {
  return static_cast<double>(duration_ms) / 60000.0;
}

double cep_stdlib_hours(std::int64_t duration_ms) {
  return static_cast<double>(duration_ms) / 3600000.0;
}

} // extern "C"
