// The checked program: the output of the front-end and the only input of the compiler.
// Names are resolved to indices, consts folded, defs inlined, int->float widening made explicit
// (Cast nodes), quantifiers normalised. Nothing after this stage re-checks names or types.
//
// A program is every file given on the command line plus everything they import, each file
// once. Event types, patterns, aggregates and output streams are program-wide names (patterns
// and aggregates share one namespace).
#pragma once

#include "lang/ast.hpp"
#include "lang/source.hpp"
#include "lang/types.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::lang::typed {

// A constant value (literals, folded consts, list constants).
struct Value {
  TypeKind kind = TypeKind::Null;
  bool is_null = true;
  bool b = false;
  std::int64_t i = 0; // Int, Time (epoch ms), Duration (ms)
  double f = 0;
  std::string s;
  std::vector<Value> list;
};

enum class Op : std::uint8_t {
  Literal, // value
  Field,   // step, field. step == kCandidate: the event being tested (bare field names, own
           // name in a single step). Otherwise the event bound to single step `step` (null
           // when that step did not bind). Inside an aggregate's argument, Field(step = the
           // aggregated loop) is the element being aggregated.
  First,   // first(s).f: step, field (null when `s` bound nothing)
  Last,    // last(s).f: step, field
  Count,   // count(s): number of events bound to step
  CountOf, // count(e): step, args[0] = e evaluated per bound event, non-null values counted
  Sum,     // sum(e): as CountOf; `type` is e's type (0 of it over nothing)
  Avg,     // avg(e): float
  Min,     // min(e) over a loop
  Max,     // max(e) over a loop
  Cast,    // args[0], int -> float widening (the only implicit conversion)
  Neg,     // args[0]
  Not,     // args[0]
  And,     // args[0], args[1]
  Or,      // args[0], args[1]
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge, // args[0], args[1], both of the same kind after widening
  Add,
  Sub,
  Mul,
  Div,
  Mod,           // args[0], args[1]; the operand and result kinds say which variant
                 // (string + string, time - time, time + duration, duration * int ...)
  IsNull,        // args[0]
  IsNotNull,     // args[0]
  In,            // args[0] in `value` (a list constant)
  NotIn,         // args[0] not in `value`
  Call,          // function (stdlib id), args
  If,            // args[0] ? args[1] : args[2] (evaluates only the chosen branch)
  Coalesce,      // first non-null of args
  CountDistinct, // count_distinct(e): step, args[0]; distinct non-null values. Only in an
                 // aggregate declaration's `having` and `emit`.
};

constexpr std::int32_t kCandidate = -1;

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  Op op = Op::Literal;
  Type type;                      // result type (after widening), nullable when it can be null
  Value value;                    // Literal; In/NotIn: the list
  std::int32_t step = kCandidate; // Field, First, Last, Count, CountOf, Sum, Avg, Min, Max
  std::int32_t field = -1;        // Field, First, Last: index into the event type's fields
  std::int32_t function = -1;     // Call: stdlib function id (stdlib/functions.def order)
  // In an aggregate declaration's `having` and `emit` only: the aggregate functions (Count ...
  // Max, CountDistinct, First, Last) carry the index of their accumulator in Aggregate::calls.
  // -1 everywhere else.
  std::int32_t call = -1;
  std::vector<ExprPtr> args;
  SourceRange range; // the source text this came from (inlined defs: the call)
};

struct EventField {
  std::string name;
  Type type; // scalar (bool int float string time duration), possibly nullable
  SourceRange range;
};

// The most fields one event type may declare: the runtime's null mask is one 64-bit word
// (runtime::kMaxFields, which compiler/schema_from_program.cpp asserts is the same). More is a
// checker error at the declaration (docs/limits.md).
constexpr std::size_t kMaxEventFields = 64;

struct EventType {
  std::string name;
  std::vector<EventField> fields;
  std::int32_t time_field = -1; // the one `time` field (event time); -1: ingestion time
  SourceRange range;
  std::int32_t fieldIndex(const std::string &n) const {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == n) {
        return static_cast<std::int32_t>(i);
      }
    }
    return -1;
  }
};

constexpr std::uint32_t kUnbounded = std::numeric_limits<std::uint32_t>::max();

struct Step {
  std::string name; // unnamed negated steps are named `$not<position>` (1-based)
  std::int32_t event_type = -1;
  ExprPtr condition;     // null: always true
  std::uint32_t min = 1; // normalised quantifier: `*` is {1,} + optional, {0,m} is {1,m} + optional
  std::uint32_t max = 1; // kUnbounded for no upper bound
  bool optional = false;
  bool greedy = false;
  bool consecutive = false;
  bool combinations = false;
  ExprPtr until; // null when absent
  bool negated = false;
  ast::Contiguity contiguity = ast::Contiguity::Relaxed; // to the previous step
  std::optional<std::int64_t> within_ms;                 // per-step bound (PREVIOUS_AND_CURRENT)
  SourceRange range;

  bool looping() const { return max > 1; }
};

enum class SkipStrategy { None, ToNext, PastLast, ToFirst, ToLast };

struct EmitField {
  std::string name;
  ExprPtr value;
};

struct Emit {
  std::int32_t stream = -1; // index into Program::streams
  std::vector<EmitField> fields;
  SourceRange range;
};

struct Stream {
  std::string name;
  std::vector<std::string> field_names;
  std::vector<Type> field_types;
};

struct Pattern {
  std::string name;
  std::vector<std::string> key_fields; // empty: one global partition
  std::vector<Type> key_types;
  // key_index[event type][k]: field index of key field k in that event type; empty for event
  // types the pattern does not use.
  std::vector<std::vector<std::int32_t>> key_index;
  std::optional<std::int64_t> within_ms;
  SkipStrategy skip = SkipStrategy::PastLast;
  std::int32_t skip_step = -1; // ToFirst / ToLast
  std::vector<Step> steps;
  Emit emit;
  std::optional<Emit> timeout_emit;
  SourceRange range;
};

// ---------------------------------------------------------------------------------------------
// Aggregates over windows (spec §8)
// ---------------------------------------------------------------------------------------------
//
//   aggregate velocity partition by card window hopping 1h every 10m lateness 5m
//   { p: Payment(amount > 0) }
//   having count(p) > 10
//   emit Velocity { card: last(p).card, uses: count(p), total: sum(p.amount),
//                   mean: avg(p.amount), shops: count_distinct(p.merchant) }
//
// becomes
//
//   Aggregate{ name "velocity", key_fields {"card"}, key_types {string},
//              window {Hopping, size_ms 3600000, slide_ms 600000}, lateness_ms 300000,
//              step {name "p", event_type Payment, condition Gt(Field(kCandidate, amount), 0.0)},
//              having Gt(Count[call 0], 10),
//              emit {Velocity: card = Last(step 0, card)[call 1], uses = Count[call 0],
//                    total = Sum(Field(0, amount))[call 2], mean = Avg(..)[call 3],
//                    shops = CountDistinct(Field(0, merchant))[call 4]},
//              calls {count(p), last(p).card, sum(p.amount), avg(p.amount),
//                     count_distinct(p.merchant)} }
//
// A backend keeps one accumulator per entry of `calls` (per key and window) and evaluates
// `having` and the emit values with each aggregate node (`Expr::call` >= 0) read from its
// accumulator: `count(p)` in both `having` and `emit` is one call. Outside the aggregate nodes,
// `having` and the emit values only combine their results with consts (no event is in scope).
// Inside a call's argument, Field(step = 0) is the event being accumulated; in the step's
// condition, Field(step = kCandidate) is the event being tested (aggregate nodes never occur
// there).
//
// Result types (docs/language.md §8, as Flink SQL): count, count_distinct -> int (never null);
// sum -> its argument's type, 0 over no value; avg -> float?; min, max -> the argument's type,
// nullable (null when every value was null); first(p).f / last(p).f -> the field's type,
// nullable. Aggregates skip null values.

enum class WindowKind { Tumbling, Hopping, Cumulate, Session, Rolling, None };

struct Window {
  WindowKind kind = WindowKind::None;
  // Tumbling, Hopping, Cumulate: the window size S; Session: the gap G; Rolling: the range S
  // (the window at an event at time t is (t - S, t]); None: 0. Always > 0 otherwise.
  std::int64_t size_ms = 0;
  // Hopping: the hop H (`every`); Cumulate: the step H. size_ms is a multiple of it. 0 otherwise.
  std::int64_t slide_ms = 0;
};

// One distinct aggregate call of `having` and `emit` (structurally equal calls are one).
struct AggregateCall {
  Op op = Op::Count; // Count, CountOf, Sum, Avg, Min, Max, CountDistinct, First, Last
  Type type;         // the call's result type (as the nodes that use it)
  ExprPtr arg;       // CountOf .. CountDistinct: the value per event; null for Count/First/Last
  std::int32_t field = -1; // First, Last: index into the step's event type's fields
  SourceRange range;       // the first use
};

struct Aggregate {
  std::string name;
  std::vector<std::string> key_fields; // empty: one global key
  std::vector<Type> key_types;
  // key_index[event type][k]: as Pattern::key_index (only the step's event type is filled).
  std::vector<std::vector<std::int32_t>> key_index;
  Window window;
  std::optional<std::int64_t> lateness_ms; // time windows only (not Rolling/None)
  std::optional<std::int64_t> ttl_ms;      // Rolling and None only
  // The one step: name, event_type, condition and range are set; it reads as a looping step
  // (min 1, max kUnbounded) whose every event in the window is bound.
  Step step;
  ExprPtr having; // null: every window (every event for Rolling/None) writes a record
  Emit emit;
  std::vector<AggregateCall> calls; // the accumulators, in order of first use (having, then emit)
  SourceRange range;
};

struct Program {
  std::vector<EventType> event_types;
  std::vector<Pattern> patterns;     // in file load order, then declaration order
  std::vector<Aggregate> aggregates; // in file load order, then declaration order
  std::vector<Stream> streams;

  std::int32_t eventTypeIndex(const std::string &n) const {
    for (std::size_t i = 0; i < event_types.size(); ++i) {
      if (event_types[i].name == n) {
        return static_cast<std::int32_t>(i);
      }
    }
    return -1;
  }
};

} // namespace cep::lang::typed
