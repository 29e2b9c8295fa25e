// Native implementations of the built-in functions (functions.def), shared by the reference
// interpreter and JIT-compiled matchers: plain functions with C linkage and C types only, so
// generated code calls exactly the same code. Null handling is the caller's: every function
// here is only called with non-null arguments (a null argument makes the call null).
//
// Strings are (pointer, byte length) pairs of UTF-8 text, never NUL-terminated. No function
// allocates: `lower`/`upper` write into a caller buffer of the input's size, `substr` returns
// a byte range of its input.
//
// Choices (docs/semantics.md §2):
//   round         half away from zero (C `round`)
//   len, substr   count Unicode code points; `substr(s, start, length)`: 0-based `start`, both
//                 clipped to the string (negative start counts as 0, negative length is empty)
//   lower, upper  ASCII letters only; every other byte is copied unchanged
//   hour, minute, day_of_week   UTC; day_of_week 1 = Monday .. 7 = Sunday
//   haversine_km  great circle on a sphere of radius 6371.0 km, degrees in
#pragma once

#include <cstdint>

extern "C" {

// math
double cep_stdlib_round(double x);
double cep_stdlib_floor(double x);
double cep_stdlib_ceil(double x);
double cep_stdlib_sqrt(double x);
double cep_stdlib_ln(double x);
double cep_stdlib_exp(double x);
double cep_stdlib_pow(double x, double y);
std::int64_t cep_stdlib_abs_int(std::int64_t x); // wraps: abs(INT64_MIN) == INT64_MIN
double cep_stdlib_abs_float(double x);

// strings
std::int64_t cep_stdlib_len(const char *s, std::uint64_t n);
void cep_stdlib_lower(const char *s, std::uint64_t n, char *out); // out: n bytes
void cep_stdlib_upper(const char *s, std::uint64_t n, char *out); // out: n bytes
bool cep_stdlib_contains(const char *s, std::uint64_t n, const char *part, std::uint64_t m);
bool cep_stdlib_starts_with(const char *s, std::uint64_t n, const char *prefix, std::uint64_t m);
bool cep_stdlib_ends_with(const char *s, std::uint64_t n, const char *suffix, std::uint64_t m);
// The result is bytes [*begin, *begin + *size) of s.
void cep_stdlib_substr(const char *s, std::uint64_t n, std::int64_t start, std::int64_t length,
                       std::uint64_t *begin, std::uint64_t *size);

// time (epoch milliseconds, UTC) and durations (milliseconds)
std::int64_t cep_stdlib_hour(std::int64_t epoch_ms);
std::int64_t cep_stdlib_minute(std::int64_t epoch_ms);
std::int64_t cep_stdlib_day_of_week(std::int64_t epoch_ms);
double cep_stdlib_seconds(std::int64_t duration_ms);
double cep_stdlib_minutes(std::int64_t duration_ms);
double cep_stdlib_hours(std::int64_t duration_ms);

// geo
double cep_stdlib_haversine_km(double lat1, double lon1, double lat2, double lon2);

} // extern "C"
