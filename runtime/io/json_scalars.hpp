// The JSON scalars the decoder's fast paths read without simdjson (jsonl_decoder.cpp's scanner
// and record_plan.cpp's typed plans): numbers read exactly as simdjson reads them, and string
// bodies without escapes, eight bytes at a time. Each returns false for anything it does not
// handle, and the caller falls back to the generic path (which gives the exact verdict).
// Every reader may look up to 7 bytes past `end`: records carry kLinePadding readable bytes.
#pragma once

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace cep::runtime::json_scan {

inline bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

constexpr std::uint64_t kAsciiZeros = 0x3030303030303030ULL;
constexpr std::uint64_t kPowersOf10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Each byte of `chunk` that is not an ASCII digit ('0'..'9') is nonzero in the result (a digit
// has the high nibble 3 and adding 6 does not carry out of its low nibble); a digit's byte is
// zero as long as every byte before it (in memory order) is a digit.
inline std::uint64_t nonDigits(std::uint64_t chunk) {
  constexpr std::uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL;
  return ((chunk & kHigh) ^ kAsciiZeros) |
         (((chunk + 0x0606060606060606ULL) & kHigh) ^ kAsciiZeros);
}

// The value of eight ASCII digits (the first in the lowest byte): pairs, then quads, then the
// two quads, each step one multiply-add on packed lanes.
inline std::uint64_t parseEightDigits(std::uint64_t chunk) {
  chunk -= 0x3030303030303030ULL;
  // Each 16-bit lane: 10 * first + second.
  chunk = (chunk * 10 + (chunk >> 8)) & 0x00FF00FF00FF00FFULL;
  // Each 32-bit lane: 100 * first pair + second pair.
  chunk = (chunk * 100 + (chunk >> 16)) & 0x0000FFFF0000FFFFULL;
  // 10000 * first quad + second quad.
  return (chunk * 10000 + (chunk >> 32)) & 0xFFFFFFFFULL;
}

// The value of the lowest `digits` (1..8) bytes of `chunk`, ASCII digits (the first in the lowest
// byte): the digits moved to the top bytes with zero bytes below them, then as above.
inline std::uint64_t parseDigitPrefix(std::uint64_t chunk, unsigned digits) {
  std::uint64_t values = (chunk & 0x0F0F0F0F0F0F0F0FULL) << (64 - 8 * digits);
  values = (values * 10 + (values >> 8)) & 0x00FF00FF00FF00FFULL;
  values = (values * 100 + (values >> 16)) & 0x0000FFFF0000FFFFULL;
  return (values * 10000 + (values >> 32)) & 0xFFFFFFFFULL;
}

// The digits of a JSON integer at `p` (after its sign), as the scanner takes them: 1 to 18
// digits, no leading zero. `p` moves past them; the byte after them is not looked at (the caller
// knows what must follow). Reads up to 24 bytes from `p`. Little-endian only.
[[gnu::always_inline]] inline bool readDigits(const char *&p, std::uint64_t &out) {
  std::uint64_t chunk;
  std::memcpy(&chunk, p, 8);
  std::uint64_t others = nonDigits(chunk);
  const bool leading_zero = (chunk & 0xFF) == '0';
  if (others != 0) {
    auto digits = static_cast<unsigned>(std::countr_zero(others)) / 8;
    if (digits == 0 || (leading_zero && digits > 1)) {
      return false;
    }
    out = parseDigitPrefix(chunk, digits);
    p += digits;
    return true;
  }
  if (leading_zero) {
    return false;
  }
  std::uint64_t value = parseEightDigits(chunk);
  std::memcpy(&chunk, p + 8, 8);
  others = nonDigits(chunk);
  if (others != 0) {
    auto digits = static_cast<unsigned>(std::countr_zero(others)) / 8;
    if (digits != 0) {
      value = value * kPowersOf10[digits] + parseDigitPrefix(chunk, digits);
    }
    out = value;
    p += 8 + digits;
    return true;
  }
  value = value * 100000000 + parseEightDigits(chunk);
  std::memcpy(&chunk, p + 16, 8);
  others = nonDigits(chunk);
  auto digits = static_cast<unsigned>(std::countr_zero(others | (std::uint64_t{1} << 63))) / 8;
  if (digits > 2) {
    return false; // more than 18 digits
  }
  if (digits != 0) {
    value = value * kPowersOf10[digits] + parseDigitPrefix(chunk, digits);
  }
  out = value;
  p += 16 + digits;
  return true;
}

// Equal first `n` bytes? Reads whole 8-byte words: up to 7 bytes past both ends must be readable.
inline bool equalWords(const char *a, const char *b, std::size_t n) {
  if constexpr (std::endian::native != std::endian::little) {
    return std::memcmp(a, b, n) == 0;
  } else {
    for (; n >= 8; a += 8, b += 8, n -= 8) {
      std::uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) {
        return false;
      }
    }
    if (n == 0) {
      return true;
    }
    std::uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    return ((x ^ y) & ((std::uint64_t{1} << (n * 8)) - 1)) == 0;
  }
}

struct Number {
  bool is_float = false;
  std::int64_t i = 0; // !is_float
  double f = 0;       // is_float
};

// A JSON number at `p` (not at `end`) that is read exactly as simdjson reads it: an integer of
// at most 18 digits (never -0), or a float with at most 18 digits and an exponent of at most 2
// digits (both correctly rounded). `p` moves past it.
inline bool scanNumber(const char *&p, const char *end, Number &out) {
  const char *start = p;
  bool negative = *p == '-';
  if (negative) {
    ++p;
  }
  if (p == end || !isDigit(*p)) {
    return false;
  }
  std::uint64_t value = 0;
  const char *digits = p;
  if (*p == '0') {
    ++p;
  } else {
    // Eight bytes at a time (the padding after the record keeps the reads in bounds): the run
    // of digits among them, at most up to the end of the record.
    while (std::endian::native == std::endian::little) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      std::uint64_t others = nonDigits(chunk);
      auto run = static_cast<std::size_t>(others == 0 ? 8 : std::countr_zero(others) / 8);
      run = std::min(run, static_cast<std::size_t>(end - p));
      if (run == 8) {
        value = value * 100000000 + parseEightDigits(chunk);
        p += 8;
        if (p - digits > 18) {
          return false; // too long for the scanner (the value may have wrapped)
        }
        continue;
      }
      if (run > 0) {
        // The digits moved to the top bytes, '0's below them: the same value.
        std::uint64_t shifted = (chunk << (64 - 8 * run)) | (kAsciiZeros >> (8 * run));
        value = value * kPowersOf10[run] + parseEightDigits(shifted);
        p += run;
      }
      break;
    }
    while (p < end && isDigit(*p)) {
      value = value * 10 + static_cast<std::uint64_t>(*p - '0');
      ++p;
    }
  }
  std::size_t integer_digits = static_cast<std::size_t>(p - digits);
  if (p == end || (*p != '.' && *p != 'e' && *p != 'E')) {
    if (integer_digits > 18 || (negative && value == 0)) {
      return false;
    }
    if (p < end && isDigit(*p)) {
      return false; // a leading zero
    }
    out.is_float = false;
    out.i = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
    return true;
  }
  std::size_t fraction_digits = 0;
  std::uint64_t mantissa = value; // every digit, while there are at most 18
  if (*p == '.') {
    ++p;
    const char *fraction = p;
    while (p < end && isDigit(*p)) {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(*p - '0');
      ++p;
    }
    fraction_digits = static_cast<std::size_t>(p - fraction);
    if (fraction_digits == 0) {
      return false;
    }
  }
  int exponent_value = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p < end && (*p == '+' || *p == '-')) {
      exponent_negative = *p == '-';
      ++p;
    }
    const char *exponent = p;
    while (p < end && isDigit(*p)) {
      if (p - exponent < 3) { // beyond two digits the number goes to the generic path anyway
        exponent_value = exponent_value * 10 + (*p - '0');
      }
      ++p;
    }
    std::size_t exponent_digits = static_cast<std::size_t>(p - exponent);
    if (exponent_digits == 0 || exponent_digits > 2) {
      return false;
    }
    exponent_value = exponent_negative ? -exponent_value : exponent_value;
  }
  // Floats of 19 or more digits stay with the generic path (which reads them with from_chars
  // too); the digit loop above is only exact up to 18.
  if (integer_digits + fraction_digits > 18) {
    return false;
  }
  // Clinger's fast path: a mantissa of at most 2^53 is exact as a double, and so is 10^k for
  // k <= 22, so one correctly rounded multiply or divide gives the correctly rounded value,
  // the very double from_chars gives.
  static constexpr double kExactPowers[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                              1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                              1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const int power = exponent_value - static_cast<int>(fraction_digits);
  if (mantissa <= (std::uint64_t{1} << 53) && power >= -22 && power <= 22) {
    double f = static_cast<double>(mantissa);
    f = power < 0 ? f / kExactPowers[-power] : f * kExactPowers[power];
    out.f = negative ? -f : f;
    out.is_float = true;
    return true;
  }
  auto [ptr, ec] = std::from_chars(start, p, out.f);
  if (ec != std::errc() || ptr != p) {
    return false;
  }
  out.is_float = true;
  return true;
}

// The body of a string after its opening quote, up to its closing quote, eight bytes at a time:
// false at an escape or a control character (or no closing quote before `end`). `non_ascii`
// is set when the body has a byte >= 0x80 (the caller validates UTF-8). `p` moves past the
// closing quote.
inline bool scanPlainString(const char *&p, const char *end, std::string_view &out,
                            bool &non_ascii) {
  const char *start = p;
  if constexpr (std::endian::native == std::endian::little) {
    for (;;) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      // The lowest flagged byte of each mask is exact (borrows only run upwards).
      std::uint64_t quote = chunk ^ (kOnes * '"');
      std::uint64_t backslash = chunk ^ (kOnes * '\\');
      std::uint64_t stops = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                            ((chunk - kOnes * 0x20) & ~chunk);
      stops &= kHighBits;
      if (stops == 0) {
        non_ascii |= (chunk & kHighBits) != 0;
        p += 8;
        if (p >= end) {
          return false;
        }
        continue;
      }
      auto at = static_cast<std::size_t>(std::countr_zero(stops) / 8);
      const char *stop = p + at;
      if (stop >= end || *stop != '"') {
        return false;
      }
      std::uint64_t before = at == 0 ? 0 : (~std::uint64_t{0} >> (64 - 8 * at));
      non_ascii |= (chunk & before & kHighBits) != 0;
      out = std::string_view(start, static_cast<std::size_t>(stop - start));
      p = stop + 1;
      return true;
    }
  } else {
    for (; p < end; ++p) {
      auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(p - start));
        ++p;
        return true;
      }
      if (c == '\\' || c < 0x20) {
        return false;
      }
      non_ascii |= c >= 0x80;
    }
    return false;
  }
}

} // namespace cep::runtime::json_scan
