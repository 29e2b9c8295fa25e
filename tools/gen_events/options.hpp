// What the command line asks for; main.cpp parses and validates it.
#pragma once

#include <cstdint>
#include <string>

namespace cep::tools {

enum class TimeFormat { EpochMillis, Rfc3339 };

// How many scenarios of each kind to inject.
struct ScenarioCounts {
  std::int64_t card_testing = 2;
  std::int64_t velocity = 2;
  std::int64_t takeover = 2;
  std::int64_t travel = 2;
  std::int64_t unpaid = 2;
  std::int64_t click_flood = 0; // off by default: the example stream has no clicks
  // Card testing too slow for the card_testing rule's 10 minutes: a fraud the example's rules
  // miss (labelled, class card_testing, no stream), for backtests.
  std::int64_t slow_card_testing = 0;
};

struct Options {
  std::uint64_t seed = 1;
  std::int64_t events = 2000;             // background events
  std::int64_t start = 1'767'607'200'000; // 2026-01-05T10:00:00Z
  double rate = 5.0;                      // mean background events per second of event time
  std::int64_t cards = 2000;              // background cards c-000001 .. c-<cards>
  std::int64_t users = 1000;              // background users u-00001 .. u-<users>
  std::int64_t disorder = 0;              // maximum out-of-orderness of the output, ms
  ScenarioCounts scenarios;
  std::string output = "-"; // `-` is stdout
  std::string labels;       // empty: no label file
  TimeFormat time_format = TimeFormat::EpochMillis;
};

} // namespace cep::tools
