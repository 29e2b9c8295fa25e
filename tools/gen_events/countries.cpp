#include "countries.hpp"

#include <array>

namespace cep::tools {

namespace {

// The closest pair of capitals from different regions is Madrid-Abuja, about 3650 km; the
// impossible-travel scenario relies on that (see scenarios.cpp).
constexpr std::array<Country, 19> kCountries{{
    {"US", "north-america", 389072, -770369},  // Washington
    {"CA", "north-america", 454215, -756972},  // Ottawa
    {"MX", "north-america", 194326, -991332},  // Mexico City
    {"BR", "south-america", -157939, -478828}, // Brasilia
    {"AR", "south-america", -346037, -583816}, // Buenos Aires
    {"GB", "europe", 515074, -1278},           // London
    {"FR", "europe", 488566, 23522},           // Paris
    {"DE", "europe", 525200, 134050},          // Berlin
    {"ES", "europe", 404168, -37038},          // Madrid
    {"IT", "europe", 419028, 124964},          // Rome
    {"NL", "europe", 523676, 49041},           // Amsterdam
    {"PL", "europe", 522297, 210122},          // Warsaw
    {"NG", "africa", 90765, 73986},            // Abuja
    {"ZA", "africa", -257479, 282293},         // Pretoria
    {"KE", "africa", -12921, 368219},          // Nairobi
    {"IN", "asia", 286139, 772090},            // New Delhi
    {"JP", "asia", 356762, 1396503},           // Tokyo
    {"SG", "asia", 13521, 1038198},            // Singapore
    {"AU", "oceania", -352809, 1491300},       // Canberra
}};

} // namespace

std::span<const Country> countries() {
  return kCountries;
}

} // namespace cep::tools
