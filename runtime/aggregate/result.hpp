// What goes into the window runtime (one row per event of the aggregate's step) and what comes
// out (one WindowResult per record to write). A backend turns a WindowResult into an output
// record with its `having` and `emit` code: `values[i]` is the value of spec.accumulators[i].
//
// Example (a backend's emit loop):
//   std::vector<WindowResult> out;
//   agg.advance(watermark, out);
//   for (const WindowResult &r : out) {
//     // "@key": r.key, "@start": r.start, "@end": r.end,
//     // "@revision": r.revision when > 0, fields from r.values; `--with-events`: r.events when
//     // r.events_kept, else "@events_omitted": r.event_count
//   }
#pragma once

#include "runtime/event.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::aggregate {

// One event of the step: its event time, its arrival number (unique, increasing in arrival
// order; ties in time keep it) and its values: slot i is null when bit i of `nulls` is set
// (the layout of runtime/event.hpp, so an Event's own slots can be handed in as they are).
struct AggInput {
  std::int64_t time = 0;
  std::uint64_t seq = 0;
  const Slot *fields = nullptr;
  std::uint64_t nulls = 0;

  bool isNull(std::int32_t f) const { return (nulls >> f) & 1U; }
};

inline AggInput inputOf(const Event &e) {
  return {e.time, e.seq, e.slots(), e.nulls};
}

// A value of an accumulator: null, or a value of `kind` (strings in `s`).
struct AggValue {
  FieldKind kind = FieldKind::Int;
  bool null = true;
  std::int64_t i = 0; // Int, Time, Duration; Bool as 0/1
  double f = 0;       // Float
  std::string s;      // String

  static AggValue ofInt(FieldKind k, std::int64_t v);
  static AggValue ofFloat(double v);
  static AggValue ofString(std::string_view v);
  static AggValue nullOf(FieldKind k);
  // Exact equality (floats by bits), as the differential test needs.
  bool operator==(const AggValue &o) const;
  bool operator!=(const AggValue &o) const { return !(*this == o); }
};

// An accumulator's value as a backend's generated code reads it (the layout of
// runtime/native/image.hpp CepValue, which the native operator checks): null, then `b` (bool,
// with `i` 0/1), `i` (int, time, duration), `f` (float) or (s, n) (string) by the accumulator's
// result kind; the other members zero.
struct RawValue {
  std::uint8_t null;
  std::uint8_t b;
  std::int64_t i;
  double f;
  const char *s;
  std::uint64_t n;
};

// An event of a window for `--with-events`: the caller's arrival number and its time.
struct EventId {
  std::int64_t time = 0;
  std::uint64_t seq = 0;
  bool operator==(const EventId &o) const { return time == o.time && seq == o.seq; }
};

struct WindowResult {
  std::string key;
  // Time windows: the window's bounds (end exclusive); sessions: first event, last event + gap;
  // rolling and none: the earliest event in the window and the current event.
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::uint32_t revision = 0; // 0: the window's first record; n: its n-th rewrite (§8.3)
  // Output order among records of one watermark: the earliest arrival among the window's
  // events (time windows, sessions); rolling and none: the current event's arrival.
  std::uint64_t order = 0;
  std::vector<AggValue> values;
  // Instead of `values` (left empty), with WindowAggregator::setRawFilter: a rolling window's
  // values, valid until the aggregator's next call (one per accumulator).
  const RawValue *raw = nullptr;
  std::uint64_t event_count = 0;
  bool events_kept = false;    // spec.keep_events and event_count <= kMaxEventsKept
  std::vector<EventId> events; // when events_kept: in (time, arrival) order

  bool operator==(const WindowResult &o) const;
  bool operator!=(const WindowResult &o) const { return !(*this == o); }
};

// The order of records produced at one watermark (spec §8.2): window end, then window start,
// then the key's first arrival in the window.
bool resultBefore(const WindowResult &a, const WindowResult &b);

// "key [start,end) rev n: v1 v2 ... (events)" for test failures and debugging.
std::string describe(const WindowResult &r);

} // namespace cep::runtime::aggregate
