// The reference window runtime: the oracle for runtime/aggregate/aggregator.hpp. It keeps every
// counted event per key and computes each window from scratch when it is written, straight from
// spec §8 and docs/semantics.md §12 (windows enumerated from their definitions, sessions as the
// runs of events closer than the gap, revisions counted per window). Slow on purpose; the
// tests and the interpreter (compiler/interp/aggregate_operator.hpp, the oracle) use it. Same
// interface and the same records, in the same order, as WindowAggregator.
//
// Example (the differential test, tests/unit/aggregate_diff_test.cpp):
//   WindowAggregator fast(spec);
//   ReferenceAggregator slow(spec);
//   fast.onEvent(key, in, a);  slow.onEvent(key, in, b);   // a == b
//   fast.advance(w, a);        slow.advance(w, b);          // a == b
#pragma once

#include "runtime/aggregate/aggregator.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::aggregate {

class ReferenceAggregator {
public:
  explicit ReferenceAggregator(AggregateSpec spec);

  std::int64_t watermark() const { return watermark_; }
  EventFate onEvent(std::string_view key, const AggInput &in, std::vector<WindowResult> &out);
  void advance(std::int64_t watermark, std::vector<WindowResult> &out);
  void finish(std::vector<WindowResult> &out);

  struct Event {
    std::int64_t time = 0;
    std::uint64_t seq = 0;
    std::vector<AggValue> values; // per accumulator (count(p): null)
    bool retired = false;         // sessions: in a session closed for good
    std::uint64_t serial = 0;     // sessions: the record that last wrote its session (0: none)
    std::uint32_t writes = 0;     // sessions: records written of that session
  };

private:
  struct Window {
    std::int64_t start;
    std::int64_t end;
    bool operator<(const Window &o) const { return end != o.end ? end < o.end : start < o.start; }
  };
  std::vector<Window> windowsOf(std::int64_t t) const; // time windows holding time t
  WindowResult compute(const std::string &key, const std::vector<const Event *> &events) const;
  void writeTimeWindow(const std::string &key, Window w, std::vector<WindowResult> &out);
  // Sessions of a key: the non-retired events in (time, arrival) order, cut where a gap >= G.
  std::vector<std::vector<Event *>> sessions(std::vector<Event> &events) const;
  void writeSession(const std::string &key, std::vector<Event *> &s,
                    std::vector<WindowResult> &out);

  AggregateSpec spec_;
  std::int64_t watermark_;
  std::map<std::string, std::vector<Event>> keys_;
  std::map<std::pair<std::string, std::int64_t>, std::uint32_t> writes_; // (key, end)
  std::map<std::string, std::int64_t> last_;                             // rolling/none: ttl
  std::uint64_t next_serial_ = 1;
};

} // namespace cep::runtime::aggregate
