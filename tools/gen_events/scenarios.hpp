// Injected fraud: short event sequences that each alerting rule of examples/fraud must match once.
#pragma once

#include "event.hpp"
#include "options.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cep::tools {

// What one injected scenario should produce: a record on `stream` keyed by `key`, whose first and
// last matched events are at `start` and `end` (both the order's time for `unpaid`).
struct Label {
  std::string scenario; // card_testing, velocity, takeover, travel, unpaid
  std::string key;
  std::string stream;      // CardTesting, Velocity, Takeover, ImpossibleTravel, Unpaid; "" for none
  std::string label_class; // the kind of fraud: the scenario, or card_testing for
                           // slow_card_testing
  std::vector<std::size_t> events; // indices into ScenarioEvents::events, in event-time order
  std::int64_t start = 0;
  std::int64_t end = 0;
};

struct ScenarioEvents {
  std::vector<Event> events; // grouped by scenario, each group in event-time order
  std::vector<Label> labels;
};

// The most events injectScenarios writes for these counts.
std::size_t maxScenarioEvents(const ScenarioCounts &counts);

// The scenarios `options.scenarios` asks for, each on fresh keys of its own, each placed at random
// inside [first_ts, last_ts] (the span of the background traffic), or starting at first_ts when it
// lasts longer than that span.
ScenarioEvents injectScenarios(const Options &options, std::int64_t first_ts, std::int64_t last_ts);

} // namespace cep::tools
