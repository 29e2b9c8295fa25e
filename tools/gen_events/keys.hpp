// Key formats: cards `c-000123`, users `u-00042`, orders `o-0000017`.
//
// Background traffic numbers its keys from 1; injected scenarios take fresh keys from a range of
// their own (cards from 900001, users from 90001, orders from 9000001), which main.cpp keeps out of
// reach of the background by bounding --cards, --users and --events.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace cep::tools {

constexpr std::int64_t kFirstScenarioCard = 900'001;
constexpr std::int64_t kFirstScenarioUser = 90'001;
constexpr std::int64_t kFirstScenarioOrder = 9'000'001;

inline std::string numberedKey(std::string_view prefix, std::int64_t number, int width) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, number);
  const auto length = static_cast<int>(result.ptr - digits);
  std::string key(prefix);
  key.append(static_cast<std::size_t>(width > length ? width - length : 0), '0');
  key.append(digits, result.ptr);
  return key;
}

inline std::string cardKey(std::int64_t number) {
  return numberedKey("c-", number, 6);
}
inline std::string userKey(std::int64_t number) {
  return numberedKey("u-", number, 5);
}
inline std::string orderKey(std::int64_t number) {
  return numberedKey("o-", number, 7);
}

} // namespace cep::tools
