// One generated input event, of any of the five types the fraud examples declare, or a Click
// (examples/fraud/windows/clicks.cep; only the click-flood scenario writes them).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cep::tools {

enum class EventType : std::uint8_t { Payment, Login, PasswordReset, Withdrawal, Order, Click };

// The pages a Click names (Event::page indexes them).
inline constexpr std::array<std::string_view, 5> kPages = {"/home", "/search", "/item", "/cart",
                                                           "/checkout"};
inline constexpr std::uint64_t kPageCount = kPages.size();

// Payment.merchant is `string?`: the generator writes all three forms.
enum class MerchantForm : std::uint8_t { Present, Null, Absent };

// A compact flat record (streams can have millions): each type uses the fields its declaration
// lists and leaves the others zero. Keys are numbers that jsonl_writer formats (keys.hpp), money
// is in integer cents and coordinates in 1e-4 degree, so the output is exact.
struct Event {
  EventType type = EventType::Payment;
  MerchantForm merchant_form = MerchantForm::Absent; // Payment
  std::uint8_t merchant = 0;                         // Payment: index into kMerchants, if Present
  std::uint8_t country = 0;                          // Payment, Login: index into countries()
  std::uint8_t page = 0;                             // Click: index into kPages (jsonl_writer)
  bool new_device = false;                           // Login
  std::int32_t lat_e4 = 0;                           // Login
  std::int32_t lon_e4 = 0;                           // Login
  std::int64_t ts = 0;                               // event time, epoch milliseconds
  std::int64_t card = 0;                             // Payment: c-000123 is 123
  std::int64_t user = 0;                             // Login, PasswordReset, Withdrawal, Order
  std::int64_t order = 0;                            // Payment, Order: o-0000017 is 17
  std::int64_t cents = 0;                            // amount of Payment/Withdrawal, total of Order
};

} // namespace cep::tools
