// Writers of a trace (trace.hpp): the compact text form (one line per event or time advance, one
// indented line per action) and JSON Lines (one object per action), docs/debugging.md; and a
// log that keeps the actions (`cep explain --why`, tests).
#pragma once

#include "compiler/interp/trace.hpp"
#include "runtime/io/json_writer.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace cep::compiler::interp {

enum class TraceFormat : std::uint8_t { Text, Json };

class TraceWriter : public TraceSink {
public:
  TraceWriter(std::ostream &out, TraceFormat format) : out_(out), format_(format) {}
  void action(const TraceAction &a) override;
  std::uint64_t events() const { return events_; }
  std::uint64_t matches() const { return matches_; }
  std::uint64_t timeouts() const { return timeouts_; }

private:
  void text(const TraceAction &a);
  void json(const TraceAction &a);

  std::ostream &out_;
  TraceFormat format_;
  std::uint64_t last_seq_ = 0; // the event whose line was written last (0: a time advance)
  std::int64_t last_time_ = INT64_MIN;
  bool header_ = false; // a line for the current event or time advance was written
  std::uint64_t events_ = 0, matches_ = 0, timeouts_ = 0;
};

class TraceLog : public TraceSink {
public:
  void action(const TraceAction &a) override { actions.push_back(a); }
  std::vector<TraceAction> actions;
};

// One line of text for a run: `run [#3 #5] in b`.
std::string describeRun(const TraceRun &run);
// A check in words: "b: `amount > 100` false (amount=50)".
std::string describeCheck(const TraceCheck &check);
// An action's time: RFC 3339, or "end of input" for the end.
std::string describeTime(std::int64_t time);
// `"checks":[{"step":..,["type":..,]"type_matches":..,["negated":true,]["held":..,]
// ["condition":..,"values":{..}]}, ...]` (docs/debugging.md); `with_types` adds each check's
// event type (the trace's JSON Lines have it, `cep explain --why --format json` not).
void writeChecksJson(runtime::JsonWriter &w, const std::vector<TraceCheck> &checks,
                     bool with_types);

} // namespace cep::compiler::interp
