// Background traffic: realistic payments, logins, password resets, withdrawals and orders that
// none of the alerting fraud rules (examples/fraud) should match. High-value payments, which the
// stateless `high_value` rule flags for review, are part of normal traffic.
#pragma once

#include "event.hpp"
#include "options.hpp"
#include "random.hpp"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace cep::tools {

// The requested traffic does not fit the key space without breaking a limit the background keeps
// (for example a card used more than 10 times in an hour). The message names the option to change.
class KeySpaceError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Exactly `options.events` events, in event-time order, starting at `options.start`. Every Order
// is followed by its Payment 1 to 10 minutes later (counted in `options.events`). The vector has
// room for `extra_capacity` more events (the scenarios), to append without reallocating.
std::vector<Event> generateBackground(const Options &options, std::size_t extra_capacity = 0);

// An order total in cents: mostly 10.00 to 100.00, sometimes up to 400.00.
std::int64_t orderCents(Rng &rng);

} // namespace cep::tools
