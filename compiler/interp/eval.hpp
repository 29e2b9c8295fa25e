// Evaluation of checked expressions (lang/typed.hpp) over a candidate event and a run's bound
// events, with the rules of spec §2 and docs/semantics.md §2:
//   - arithmetic with null is null; a comparison with null is false (`!=` too); `and`/`or` are
//     three-valued (Kleene) and a condition that is null is false;
//   - int / and % by zero (and a duration divided by a zero int or duration) are null; integer
//     overflow wraps (two's complement); `duration * float` and `duration / float` round to the
//     nearest millisecond, half away from zero, and are null when that does not fit in 64 bits;
//     float arithmetic is IEEE (x / 0.0 is infinite, written as null);
//   - every built-in function is null when an argument is null (stdlib/native.hpp);
//   - `if` evaluates only the chosen branch, `coalesce` only up to the first non-null argument;
//   - aggregates range over a looping step's bound events in match order, skip nulls, sum and
//     avg accumulate left to right (avg in double), sum of nothing is 0.
#pragma once

#include "compiler/interp/bindings.hpp"
#include "lang/typed.hpp"
#include "runtime/event.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::interp {

// A value during evaluation. Strings view an event's bytes, a literal or the evaluator's arena.
struct Value {
  lang::TypeKind kind = lang::TypeKind::Null;
  bool null = true;
  bool b = false;
  std::int64_t i = 0; // Int, Time, Duration
  double f = 0;       // Float
  std::string_view s; // String

  static Value nullOf(lang::TypeKind k) {
    Value v;
    v.kind = k;
    return v;
  }
  static Value ofBool(bool b) {
    Value v;
    v.kind = lang::TypeKind::Bool;
    v.null = false;
    v.b = b;
    return v;
  }
  static Value ofInt(lang::TypeKind k, std::int64_t i) {
    Value v;
    v.kind = k;
    v.null = false;
    v.i = i;
    return v;
  }
  static Value ofFloat(double f) {
    Value v;
    v.kind = lang::TypeKind::Float;
    v.null = false;
    v.f = f;
    return v;
  }
  static Value ofString(std::string_view s) {
    Value v;
    v.kind = lang::TypeKind::String;
    v.null = false;
    v.s = s;
    return v;
  }
};

// Reads field `field` of `e` (its event type's declared kind); null when the field is null.
Value readField(const lang::typed::Program &program, const runtime::Event &e, std::int32_t field);

class Evaluator {
public:
  explicit Evaluator(const lang::typed::Program &program) : program_(program) {}

  // The value of `e`. `candidate` is the event being tested (null in `emit`); `bound` the
  // events of the run or match (null: nothing bound). Strings in the result stay valid until
  // the next call.
  Value evaluate(const lang::typed::Expr &e, const runtime::Event *candidate,
                 const BoundEvents *bound);
  // A condition: true only when `e` is true (null is false).
  bool test(const lang::typed::Expr &e, const runtime::Event *candidate, const BoundEvents *bound);
  // An aggregate declaration's call argument (lang/typed.hpp typed::Aggregate) for one event:
  // Field(step = `step`) reads `element`.
  Value evaluateElement(const lang::typed::Expr &e, std::int32_t step,
                        const runtime::Event &element);
  // An aggregate declaration's `having` or emit value: each aggregate node (Expr::call >= 0)
  // is calls[call], the value of its accumulator; nothing is bound. `calls` (and the strings it
  // views) must outlive the result.
  Value evaluateCalls(const lang::typed::Expr &e, const std::vector<Value> &calls);

private:
  Value eval(const lang::typed::Expr &e);
  Value field(const lang::typed::Expr &e);
  Value firstOrLast(const lang::typed::Expr &e, bool first);
  Value aggregate(const lang::typed::Expr &e);
  Value logic(const lang::typed::Expr &e);
  Value compare(const lang::typed::Expr &e);
  Value arithmetic(const lang::typed::Expr &e);
  Value call(const lang::typed::Expr &e);
  const std::vector<const runtime::Event *> &boundTo(std::int32_t step) const;
  std::string_view keep(std::string s);

  const lang::typed::Program &program_;
  const runtime::Event *candidate_ = nullptr;
  const BoundEvents *bound_ = nullptr;
  std::int32_t element_step_ = -2; // inside an aggregate's argument: the aggregated loop
  const runtime::Event *element_ = nullptr;
  const std::vector<Value> *calls_ = nullptr; // evaluateCalls: the accumulators' values
  std::deque<std::string> arena_;             // strings made by the current evaluation
};

// Three-way comparison of two non-null values of the same kind (after widening; an Int meeting
// a Float compares as floats). Floats compare as IEEE: NaN is unordered (returns 2).
int compareValues(const Value &a, const Value &b);

// A literal of the checked program as a Value (strings view the literal's text).
Value fromLiteral(const lang::typed::Value &v);

} // namespace cep::compiler::interp
