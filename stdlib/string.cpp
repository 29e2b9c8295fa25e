// String built-ins (native.hpp). Text is UTF-8; positions and lengths count code points.
#include "stdlib/native.hpp"

#include <cstring>
#include <string_view>

namespace {

bool isContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
}

// Byte offset of code point `index` (clipped to n).
std::uint64_t offsetOfCodePoint(const char *s, std::uint64_t n, std::uint64_t index) {
  std::uint64_t i = 0;
  std::uint64_t seen = 0;
  while (i < n) {
    if (!isContinuation(s[i])) {
      if (seen == index) {
        return i;
      }
      ++seen;
    }
    ++i;
  }
  return n;
}

} // namespace

extern "C" {

std::int64_t cep_stdlib_len(const char *s, std::uint64_t n) {
  std::int64_t count = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    count += isContinuation(s[i]) ? 0 : 1;
  }
  return count;
}

void cep_stdlib_lower(const char *s, std::uint64_t n, char *out) {
  for (std::uint64_t i = 0; i < n; ++i) {
    char c = s[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
}

void cep_stdlib_upper(const char *s, std::uint64_t n, char *out) {
  for (std::uint64_t i = 0; i < n; ++i) {
    char c = s[i];
    out[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
}

bool cep_stdlib_contains(const char *s, std::uint64_t n, const char *part, std::uint64_t m) {
  return std::string_view(s, n).find(std::string_view(part, m)) != std::string_view::npos;
}

bool cep_stdlib_starts_with(const char *s, std::uint64_t n, const char *prefix, std::uint64_t m) {
  return m <= n && std::memcmp(s, prefix, m) == 0;
}

bool cep_stdlib_ends_with(const char *s, std::uint64_t n, const char *suffix, std::uint64_t m) {
  return m <= n && std::memcmp(s + (n - m), suffix, m) == 0;
}

void cep_stdlib_substr(const char *s, std::uint64_t n, std::int64_t start, std::int64_t length,
                       std::uint64_t *begin, std::uint64_t *size) {
  std::uint64_t first = start < 0 ? 0 : static_cast<std::uint64_t>(start);
  std::uint64_t b = offsetOfCodePoint(s, n, first);
  std::uint64_t e = b;
  if (length > 0) {
    std::uint64_t remaining = static_cast<std::uint64_t>(length);
    e = offsetOfCodePoint(s + b, n - b, remaining) + b;
  }
  *begin = b;
  *size = e - b;
}

} // extern "C"
