// The checked program: the output of the front-end and the only input of the compiler.
// Names are resolved to indices, consts folded, defs inlined, int->float widening made explicit
// (Cast nodes), quantifiers normalised. Nothing after this stage re-checks names or types.
//
// A program is every file given on the command line plus everything they import, each file
// once. Event types, patterns and output streams are program-wide names.
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
  Mod,       // args[0], args[1]; the operand and result kinds say which variant
             // (string + string, time - time, time + duration, duration * int ...)
  IsNull,    // args[0]
  IsNotNull, // args[0]
  In,        // args[0] in `value` (a list constant)
  NotIn,     // args[0] not in `value`
  Call,      // function (stdlib id), args
  If,        // args[0] ? args[1] : args[2] (evaluates only the chosen branch)
  Coalesce,  // first non-null of args
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

struct Program {
  std::vector<EventType> event_types;
  std::vector<Pattern> patterns; // in file load order, then declaration order
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
