// The merchants payments name.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace cep::tools {

constexpr std::array<std::string_view, 14> kMerchants = {
    "acme-books",  "blue-harbour-cafe", "city-grocer",   "fastfuel",       "nordic-air",
    "pixel-games", "metro-transit",     "sunrise-hotel", "quick-pharmacy", "urban-outfitters",
    "stream-box",  "green-garden",      "gift-card-hub", "donate-now"};

// Background payments use the first kEverydayMerchants; card testers like the others too.
constexpr std::size_t kEverydayMerchants = 12;
constexpr std::array<std::size_t, 4> kProbeMerchants = {12, 13, 8, 10};

} // namespace cep::tools
