// The reference window runtime: the oracle for runtime/aggregate/aggregator.hpp. It keeps every
// counted event per key and computes each window from scratch when it is written, straight from
// spec §8 and docs/semantics.md §12 (windows enumerated from their definitions, sessions as the
// runs of events closer than the gap, revisions counted per window). Slow on purpose; the
// tests and the interpreter (compiler/interp/aggregate_operator.hpp, the oracle) use it. Same
// interface and the same records, in the same order, as WindowAggregator.
//
// Snapshots: the same CEPASNAP bytes as WindowAggregator's for the same state (aggregator.hpp
// documents them; snapshot_format.hpp), so that the interpreter and the native engine restore
// each other's. The reference works out each pane, session and running cell from the events it
// keeps; a restored cell (pane, session, `none` key) becomes one stored Event standing for all
// the events it summed (`cell`), which later windows fold in like any other. One difference is
// allowed: a float sum of sessions merged by a late event is summed over the events (the native
// runtime adds the sessions' sums), so its last bits may differ; the values of a float sum are
// the same for the same input either way (docs/semantics.md §12).
//
// Example (the differential test, tests/unit/aggregate_diff_test.cpp):
//   WindowAggregator fast(spec);
//   ReferenceAggregator slow(spec);
//   fast.onEvent(key, in, a);  slow.onEvent(key, in, b);   // a == b
//   fast.advance(w, a);        slow.advance(w, b);          // a == b
#pragma once

#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/cell.hpp"

#include <cstdint>
#include <map>
#include <memory>
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

  // CEPASNAP (aggregator.hpp); restore into a fresh aggregator, or std::runtime_error
  // "bad aggregate snapshot: <reason>".
  void snapshot(std::string &out) const;
  void restore(std::string_view bytes);

  struct Event {
    std::int64_t time = 0;
    std::uint64_t seq = 0;
    std::vector<AggValue> values; // per accumulator (count(p): null)
    // A restored cell: this Event stands for its events (time: the pane's start, the session's
    // or key's first event; seq: their first arrival; `last`: a session's last event).
    std::shared_ptr<const CellState> cell;
    std::int64_t last = 0;    // sessions: the last event's time (an event's own: time)
    bool retired = false;     // sessions: in a session closed for good
    std::uint64_t serial = 0; // sessions: the record that last wrote its session (0: none)
    std::uint32_t writes = 0; // sessions: records written of that session
  };

private:
  struct Window {
    std::int64_t start;
    std::int64_t end;
    bool operator<(const Window &o) const { return end != o.end ? end < o.end : start < o.start; }
  };
  std::vector<Window> windowsOf(std::int64_t t) const; // time windows holding time t
  WindowResult compute(const std::string &key, const std::vector<const Event *> &events) const;
  // Adds an event (or a restored cell) to `st` as CellLayout::add (combine) does.
  void fold(CellState &st, const Event &e) const;
  CellState emptyState() const;
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
  // Rolling: where the native runtime's float-sum stacks stand, for snapshots (aggregator.hpp
  // RollingAcc): events of the key it has taken out, entries on its front stack.
  struct Split {
    std::size_t evicted = 0;
    std::size_t front = 0;
  };
  std::map<std::string, Split> split_;
  std::uint64_t next_serial_ = 1;
};

} // namespace cep::runtime::aggregate
