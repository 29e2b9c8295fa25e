// The countries events come from, each placed at its capital city.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace cep::tools {

// Coordinates are integers in units of 1e-4 degree so that the output never depends on floating
// point formatting.
struct Country {
  std::string_view code;   // ISO 3166-1 alpha-2, as in the events
  std::string_view region; // continent; any two capitals in different regions are > 3500 km apart
  std::int32_t lat_e4;
  std::int32_t lon_e4;
};

std::span<const Country> countries();

// A user's logins come from the capital plus a fixed offset of up to this much (0.05 degree).
constexpr std::int32_t kHomeJitterE4 = 500;

} // namespace cep::tools
