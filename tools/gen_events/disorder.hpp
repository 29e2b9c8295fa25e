// The order in which events are written: event-time order, shuffled within a bound.
#pragma once

#include <cstdint>
#include <vector>

namespace cep::tools {

// A permutation of events, given by their `times` in ascending order, to write them in. Each event
// gets a random delay in [0, max_delay] and events are written by time plus delay (ties in
// event-time order), so an event is never written after one whose time exceeds its own by more than
// `max_delay`: a reader that allows that much out-of-orderness sees no late event.
std::vector<std::size_t> emissionOrder(const std::vector<std::int64_t> &times,
                                       std::int64_t max_delay, std::uint64_t seed);

} // namespace cep::tools
