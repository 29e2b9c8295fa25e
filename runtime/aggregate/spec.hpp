// The plain-C++ description of one windowed aggregate (spec §8) that the window runtime
// (runtime/aggregate/aggregator.hpp) is driven by. A backend fills it in from the typed
// aggregate: the window clause, `lateness`, `ttl`, and one AccumulatorSpec per aggregate
// function the `having` and `emit` code read. Nothing here knows the language.
//
// Example: `aggregate velocity partition by card window hopping 1h every 5m lateness 1m
//           { p: Payment } emit V { uses: count(p), total: sum(p.amount), top: max(p.amount) }`
//   AggregateSpec s;
//   s.name = "velocity";
//   s.window = WindowKind::Hopping;
//   s.size_ms = 3'600'000;   // S
//   s.slide_ms = 300'000;    // H (`every`; `step` for cumulate)
//   s.lateness_ms = 60'000;
//   s.accumulators = {{AggFn::Count},                                   // count(p)
//                     {AggFn::Sum, 2, "amount", FieldKind::Float},      // sum(p.amount)
//                     {AggFn::Max, 2, "amount", FieldKind::Float}};     // max(p.amount)
//   validateSpec(s);         // throws std::invalid_argument on an impossible spec
// The field index is a slot of the rows the backend hands in (AggInput::fields): a field of
// the step's event type, or a slot the backend computed for an expression such as
// `sum(p.price * p.qty)`.
#pragma once

#include "runtime/schema.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::aggregate {

enum class WindowKind : std::uint8_t { Tumbling, Hopping, Cumulate, Session, Rolling, None };

// count(p), count(p.f), sum, avg, min, max, first(p).f, last(p).f, count_distinct.
enum class AggFn : std::uint8_t {
  Count,
  CountField,
  Sum,
  Avg,
  Min,
  Max,
  First,
  Last,
  CountDistinct
};

struct AccumulatorSpec {
  AggFn fn = AggFn::Count;
  std::int32_t field = -1;         // slot of the row; -1 for count(p)
  std::string field_name;          // names the accumulator in snapshots ("" for count(p))
  FieldKind kind = FieldKind::Int; // the field's type (sum/avg: int, float, duration)
};

struct AggregateSpec {
  std::string name;
  WindowKind window = WindowKind::Tumbling;
  std::int64_t size_ms = 0;     // S: tumbling, hopping, cumulate, rolling; G: session gap
  std::int64_t slide_ms = 0;    // H: hopping `every`, cumulate `step` (0 otherwise)
  std::int64_t lateness_ms = 0; // time windows and sessions only
  std::int64_t ttl_ms = 0;      // rolling and none only; 0: no ttl
  std::vector<AccumulatorSpec> accumulators;
  bool keep_events = false; // `--with-events`: keep event ids (at most kMaxEventsKept)
};

// `--with-events` lists a window's events only up to this many (spec §8.2).
inline constexpr std::uint64_t kMaxEventsKept = 1000;

const char *windowKindName(WindowKind k); // "tumbling", "hopping", ..., "none"
const char *aggFnName(AggFn f);           // "count", "count_field", "sum", ..., "count_distinct"
// The result type of an accumulator (count*: Int, avg: Float, the others the field's kind).
FieldKind resultKind(const AccumulatorSpec &a);
bool isTimeWindow(WindowKind k); // tumbling, hopping, cumulate
// Throws std::invalid_argument naming what is wrong (sizes <= 0, S not a multiple of H,
// lateness with rolling/none, ttl with a time window, an accumulator without a field or of a
// type it cannot take). The checker reports these to the user first; this is the runtime's guard.
void validateSpec(const AggregateSpec &s);

} // namespace cep::runtime::aggregate
