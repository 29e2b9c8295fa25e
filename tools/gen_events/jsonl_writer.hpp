// JSON Lines output of events and labels, byte for byte the same on every machine.
#pragma once

#include "event.hpp"
#include "options.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cep::tools {

// `{"@type":"Payment","card":"c-000001","amount":12.50,...}`: fields in the order the event types
// declare them, money with two decimals, coordinates with four, times as `time_format` says.
class EventWriter {
public:
  EventWriter(std::ostream &out, TimeFormat time_format) : out_(out), time_format_(time_format) {}

  void write(const Event &event);

private:
  void field(std::string_view name);
  void stringField(std::string_view name, std::string_view value);
  void timeField(std::string_view name, std::int64_t ms);

  std::ostream &out_;
  TimeFormat time_format_;
  std::string line_;
};

// One label line: `{"scenario":...,"key":...,"stream":...,"lines":[...],"start":ms,"end":ms,
// "time":ms,"class":...}` (time = start; with key, what `cep backtest --labels` reads).
void writeLabel(std::ostream &out, std::string_view scenario, std::string_view key,
                std::string_view stream, const std::vector<std::size_t> &lines, std::int64_t start,
                std::int64_t end, std::string_view label_class);

// Fixed-point decimals from integers: (1250, 2) -> "12.50", (-337, 4) -> "-0.0337".
void appendFixed(std::string &out, std::int64_t scaled, int decimals);

// A JSON string literal, quotes included.
void appendJsonString(std::string &out, std::string_view value);

} // namespace cep::tools
