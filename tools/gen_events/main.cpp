// gen-events: a deterministic stream of payments, logins, resets, withdrawals and orders with
// injected fraud scenarios and a label file saying where each one is. See README.md.
#include "disorder.hpp"
#include "generator.hpp"
#include "jsonl_writer.hpp"
#include "keys.hpp"
#include "options.hpp"
#include "scenarios.hpp"
#include "time_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cep::tools {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Bounds that keep background keys below the scenario key ranges (keys.hpp) and memory sane.
constexpr std::int64_t kMaxEvents = 5'000'000;
constexpr std::int64_t kMaxCards = kFirstScenarioCard - 2;
constexpr std::int64_t kMaxUsers = kFirstScenarioUser - 2;
constexpr std::int64_t kMaxScenarios = 1'000;
constexpr double kMinRate = 0.001;
constexpr double kMaxRate = 100'000.0;

constexpr std::string_view kHelp = R"(Usage: gen-events [options]

Writes a deterministic synthetic event stream (JSON Lines) for the fraud examples: background
traffic that the fraud rules must leave alone, plus injected scenarios that each rule must find.
The same seed and options give the same bytes on every run and machine.

Options:
  --seed N             seed of the pseudo-random generator (default 1)
  --events N           number of background events (default 2000)
  --start TIME         time of the first event: epoch ms or RFC 3339
                       (default 2026-01-05T10:00:00Z)
  --rate N             mean background events per second of event time (default 5)
  --cards N            background cards c-000001 .. (default 2000)
  --users N            background users u-00001 .. (default 1000)
  --disorder DUR       maximum out-of-orderness of the written lines, e.g. 0s, 500ms, 2s
                       (default 0s); `cep run --max-delay DUR` then sees no late event
  --card-testing N     injected card-testing scenarios (default 2)
  --velocity N         injected velocity scenarios (default 2)
  --takeover N         injected account-takeover scenarios (default 2)
  --travel N           injected impossible-travel scenarios (default 2)
  --unpaid N           injected unpaid orders (default 2)
  --click-floods N     injected click floods (default 0): 6-9 Click events of one user in one
                       clock-aligned 5-minute window (examples/fraud/windows/clicks.cep)
  --slow-card-testing N  card testing too slow for the example's rule: labelled frauds
                       (class card_testing) that no rule catches, for backtests (default 0)
  --labels PATH        write one JSON line per injected scenario to PATH
  -o, --output PATH    write the events to PATH (default `-`, stdout)
  --time-format FMT    ms (epoch milliseconds, the default) or rfc3339
  -h, --help           print this help

Options take their value as the next argument or after `=` (--seed=7).
Exit status: 0 on success, 2 on a bad argument, 1 when writing fails.
)";

class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

template <typename Integer>
Integer parseInteger(std::string_view option, std::string_view text, Integer min, Integer max) {
  Integer value{};
  const char *end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end || value < min || value > max) {
    throw UsageError(std::string(option) + ": expected an integer from " + std::to_string(min) +
                     " to " + std::to_string(max) + ", got " + quoted(text));
  }
  return value;
}

double parseRate(std::string_view option, std::string_view text) {
  double value = 0;
  const char *end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || result.ec != std::errc() || result.ptr != end || !std::isfinite(value) ||
      value < kMinRate || value > kMaxRate) {
    throw UsageError(std::string(option) +
                     ": expected a number of events per second from 0.001 to 100000, got " +
                     quoted(text));
  }
  return value;
}

Options parseArguments(int argc, char **argv, bool &help) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help = true;
      return options;
    }
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--")) {
      if (const auto equals = arg.find('='); equals != std::string_view::npos) {
        name = arg.substr(0, equals);
        inline_value = arg.substr(equals + 1);
      }
    } else if (arg != "-o") {
      throw UsageError("unexpected argument " + quoted(arg) + " (see --help)");
    }
    auto value = [&]() -> std::string_view {
      if (inline_value) {
        return *inline_value;
      }
      if (i + 1 >= argc) {
        throw UsageError(std::string(name) + ": missing value");
      }
      return argv[++i];
    };

    if (name == "--seed") {
      options.seed = parseInteger<std::uint64_t>(name, value(), 0, UINT64_MAX);
    } else if (name == "--events") {
      options.events = parseInteger<std::int64_t>(name, value(), 0, kMaxEvents);
    } else if (name == "--start") {
      const std::string_view text = value();
      const auto start = parseTime(text);
      if (!start) {
        throw UsageError(std::string(name) +
                         ": expected epoch milliseconds or an RFC 3339 time such as "
                         "2026-01-05T10:00:00Z (years 1970 to 9999), got " +
                         quoted(text));
      }
      options.start = *start;
    } else if (name == "--rate") {
      options.rate = parseRate(name, value());
    } else if (name == "--cards") {
      options.cards = parseInteger<std::int64_t>(name, value(), 1, kMaxCards);
    } else if (name == "--users") {
      options.users = parseInteger<std::int64_t>(name, value(), 1, kMaxUsers);
    } else if (name == "--disorder") {
      const std::string_view text = value();
      const auto disorder = parseDuration(text);
      if (!disorder || *disorder > kDay) {
        throw UsageError(std::string(name) +
                         ": expected a duration up to 1d such as 0s, 500ms or 2s, got " +
                         quoted(text));
      }
      options.disorder = *disorder;
    } else if (name == "--card-testing") {
      options.scenarios.card_testing = parseInteger<std::int64_t>(name, value(), 0, kMaxScenarios);
    } else if (name == "--velocity") {
      options.scenarios.velocity = parseInteger<std::int64_t>(name, value(), 0, kMaxScenarios);
    } else if (name == "--takeover") {
      options.scenarios.takeover = parseInteger<std::int64_t>(name, value(), 0, kMaxScenarios);
    } else if (name == "--travel") {
      options.scenarios.travel = parseInteger<std::int64_t>(name, value(), 0, kMaxScenarios);
    } else if (name == "--unpaid") {
      options.scenarios.unpaid = parseInteger<std::int64_t>(name, value(), 0, kMaxScenarios);
    } else if (name == "--click-floods") {
      options.scenarios.click_flood = parseInteger<std::int64_t>(name, value(), 0, kMaxScenarios);
    } else if (name == "--slow-card-testing") {
      options.scenarios.slow_card_testing =
          parseInteger<std::int64_t>(name, value(), 0, kMaxScenarios);
    } else if (name == "--labels") {
      options.labels = std::string(value());
      if (options.labels.empty()) {
        throw UsageError("--labels: expected a file path, got ''");
      }
    } else if (name == "-o" || name == "--output") {
      options.output = std::string(value());
      if (options.output.empty()) {
        throw UsageError(std::string(name) + ": expected a file path or `-`, got ''");
      }
    } else if (name == "--time-format") {
      const std::string_view text = value();
      if (text == "ms") {
        options.time_format = TimeFormat::EpochMillis;
      } else if (text == "rfc3339") {
        options.time_format = TimeFormat::Rfc3339;
      } else {
        throw UsageError(std::string(name) + ": expected ms or rfc3339, got " + quoted(text));
      }
    } else {
      throw UsageError("unknown option " + quoted(name) + " (see --help)");
    }
  }
  // Every time must stay formattable: bound the stream's length by its largest possible gaps,
  // plus the longest scenario and order payment delay (well under a day).
  const std::int64_t longest = options.events * std::llround(2000.0 / options.rate) + 2 * kDay;
  if (options.start > kMaxTime - longest) {
    throw UsageError("--start: " + formatRfc3339(options.start) +
                     " is too late: the stream could run past 9999-12-31T23:59:59.999Z");
  }
  return options;
}

void openForWriting(std::ofstream &file, std::string_view option, const std::string &path) {
  file.open(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    throw UsageError(std::string(option) + ": cannot open " + quoted(path) + " for writing");
  }
}

int generate(const Options &options) {
  // Open the outputs first, so that a bad path fails before any work.
  std::ofstream events_file;
  if (options.output != "-") {
    openForWriting(events_file, "--output", options.output);
  }
  std::ofstream labels_file;
  if (!options.labels.empty()) {
    openForWriting(labels_file, "--labels", options.labels);
  }

  std::vector<Event> events = generateBackground(options, maxScenarioEvents(options.scenarios));
  const std::size_t background_count = events.size();
  const std::int64_t first_ts = events.empty() ? options.start : events.front().ts;
  const std::int64_t last_ts = events.empty() ? options.start : events.back().ts;
  ScenarioEvents scenarios = injectScenarios(options, first_ts, last_ts);
  std::move(scenarios.events.begin(), scenarios.events.end(), std::back_inserter(events));

  // Event-time order (ties: background first, then generation order), then the written order.
  // Only indices move: the events stay where they are.
  std::vector<std::size_t> by_time(events.size());
  std::iota(by_time.begin(), by_time.end(), std::size_t{0});
  std::stable_sort(by_time.begin(), by_time.end(),
                   [&](std::size_t a, std::size_t b) { return events[a].ts < events[b].ts; });
  std::vector<std::int64_t> times(events.size());
  for (std::size_t i = 0; i < by_time.size(); ++i) {
    times[i] = events[by_time[i]].ts;
  }
  std::vector<std::size_t> order = emissionOrder(times, options.disorder, options.seed);
  times = {};
  for (std::size_t &position : order) {
    position = by_time[position]; // now an index into `events`
  }
  by_time = {};
  std::vector<std::size_t> line_of(events.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    line_of[order[i]] = i + 1;
  }

  std::ostream &events_out = options.output == "-" ? std::cout : events_file;
  EventWriter writer(events_out, options.time_format);
  for (const std::size_t index : order) {
    writer.write(events[index]);
  }
  events_out.flush();
  if (!events_out) {
    std::cerr << "gen-events: writing the events to "
              << (options.output == "-" ? std::string("stdout") : quoted(options.output))
              << " failed\n";
    return kExitFailure;
  }

  if (!options.labels.empty()) {
    for (const Label &label : scenarios.labels) {
      std::vector<std::size_t> lines;
      lines.reserve(label.events.size());
      for (const std::size_t event : label.events) {
        lines.push_back(line_of[background_count + event]);
      }
      writeLabel(labels_file, label.scenario, label.key, label.stream, lines, label.start,
                 label.end, label.label_class);
    }
    labels_file.flush();
    if (!labels_file) {
      std::cerr << "gen-events: writing the labels to " << quoted(options.labels) << " failed\n";
      return kExitFailure;
    }
  }
  return kExitOk;
}

} // namespace

} // namespace cep::tools

int main(int argc, char **argv) {
  using namespace cep::tools;
  std::ios::sync_with_stdio(false);
  try {
    bool help = false;
    const Options options = parseArguments(argc, argv, help);
    if (help) {
      std::cout << kHelp;
      return kExitOk;
    }
    return generate(options);
  } catch (const UsageError &error) {
    std::cerr << "gen-events: " << error.what() << '\n';
    return kExitUsage;
  } catch (const KeySpaceError &error) {
    std::cerr << "gen-events: " << error.what() << '\n';
    return kExitUsage;
  } catch (const std::exception &error) {
    std::cerr << "gen-events: " << error.what() << '\n';
    return kExitFailure;
  }
}
