#include "compiler/interp/eval.hpp"

#include "stdlib/functions.hpp"
#include "stdlib/native.hpp"
#include "support/internal_error.hpp"

#include <cmath>
#include <limits>

namespace cep::compiler::interp {

using lang::TypeKind;
using lang::typed::Expr;
using lang::typed::Op;
using stdlib::FunctionId;

namespace {

double asFloat(const Value &v) {
  return v.kind == TypeKind::Float ? v.f : static_cast<double>(v.i);
}

// Two's complement arithmetic without undefined behaviour.
std::int64_t wrapAdd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
std::int64_t wrapSub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
std::int64_t wrapMul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}

// A double rounded to whole milliseconds (half away from zero); null when it does not fit.
Value roundedDuration(double d) {
  if (!std::isfinite(d) || d >= 9.2e18 || d <= -9.2e18) {
    return Value::nullOf(TypeKind::Duration);
  }
  return Value::ofInt(TypeKind::Duration, std::llround(d));
}

} // namespace

Value fromLiteral(const lang::typed::Value &v) {
  if (v.is_null) {
    return Value::nullOf(v.kind);
  }
  switch (v.kind) {
  case TypeKind::Bool:
    return Value::ofBool(v.b);
  case TypeKind::Float:
    return Value::ofFloat(v.f);
  case TypeKind::String:
    return Value::ofString(v.s);
  case TypeKind::Int:
  case TypeKind::Time:
  case TypeKind::Duration:
    return Value::ofInt(v.kind, v.i);
  default:
    CEP_ASSERT(false, "a literal that is not a scalar");
  }
  return Value();
}

Value readField(const lang::typed::Program &program, const runtime::Event &e, std::int32_t field) {
  CEP_ASSERT(e.type < program.event_types.size(), "event of an unknown type");
  const auto &type = program.event_types[e.type];
  CEP_ASSERT(field >= 0 && static_cast<std::size_t>(field) < type.fields.size() &&
                 static_cast<std::uint32_t>(field) < e.field_count,
             "field index out of range for event type " + type.name);
  TypeKind k = type.fields[static_cast<std::size_t>(field)].type.kind;
  if (e.isNull(static_cast<std::uint32_t>(field))) {
    return Value::nullOf(k);
  }
  const runtime::Slot &slot = e.slots()[field];
  switch (k) {
  case TypeKind::Bool:
    return Value::ofBool(slot.b);
  case TypeKind::Float:
    return Value::ofFloat(slot.f);
  case TypeKind::String:
    return Value::ofString(slot.s->view());
  case TypeKind::Int:
  case TypeKind::Time:
  case TypeKind::Duration:
    return Value::ofInt(k, slot.i);
  default:
    CEP_ASSERT(false, "event field of a non-scalar type");
  }
  return Value();
}

int compareValues(const Value &a, const Value &b) {
  if (a.kind == TypeKind::Float || b.kind == TypeKind::Float) {
    double x = asFloat(a), y = asFloat(b);
    if (x < y) {
      return -1;
    }
    if (x > y) {
      return 1;
    }
    return x == y ? 0 : 2; // 2: unordered (NaN)
  }
  if (usesInt(a.kind)) {
    return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  }
  if (a.kind == TypeKind::String) {
    int c = a.s.compare(b.s); // bytewise: UTF-8 sorts by code point
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind == TypeKind::Bool) {
    return a.b == b.b ? 0 : (a.b ? 1 : -1);
  }
  CEP_ASSERT(false, "comparing values of a non-scalar kind");
  return 0;
}

Value Evaluator::evaluate(const Expr &e, const runtime::Event *candidate,
                          const BoundEvents *bound) {
  arena_.clear();
  candidate_ = candidate;
  bound_ = bound;
  element_step_ = -2;
  element_ = nullptr;
  calls_ = nullptr;
  return eval(e);
}

Value Evaluator::evaluateElement(const Expr &e, std::int32_t step, const runtime::Event &element) {
  arena_.clear();
  candidate_ = nullptr;
  bound_ = nullptr;
  element_step_ = step;
  element_ = &element;
  calls_ = nullptr;
  return eval(e);
}

Value Evaluator::evaluateCalls(const Expr &e, const std::vector<Value> &calls) {
  arena_.clear();
  candidate_ = nullptr;
  bound_ = nullptr;
  element_step_ = -2;
  element_ = nullptr;
  calls_ = &calls;
  Value v = eval(e);
  calls_ = nullptr;
  return v;
}

bool Evaluator::test(const Expr &e, const runtime::Event *candidate, const BoundEvents *bound) {
  Value v = evaluate(e, candidate, bound);
  return !v.null && v.b;
}

std::string_view Evaluator::keep(std::string s) {
  arena_.push_back(std::move(s));
  return arena_.back();
}

const std::vector<const runtime::Event *> &Evaluator::boundTo(std::int32_t step) const {
  static const std::vector<const runtime::Event *> kNone;
  return bound_ ? bound_->of(step) : kNone;
}

Value Evaluator::eval(const Expr &e) {
  if (e.call >= 0 && calls_ != nullptr) {
    CEP_ASSERT(static_cast<std::size_t>(e.call) < calls_->size(), "accumulator out of range");
    return (*calls_)[static_cast<std::size_t>(e.call)];
  }
  switch (e.op) {
  case Op::Literal:
    return fromLiteral(e.value);
  case Op::Field:
    return field(e);
  case Op::First:
    return firstOrLast(e, true);
  case Op::Last:
    return firstOrLast(e, false);
  case Op::Count:
    return Value::ofInt(TypeKind::Int, static_cast<std::int64_t>(boundTo(e.step).size()));
  case Op::CountOf:
  case Op::Sum:
  case Op::Avg:
  case Op::Min:
  case Op::Max:
    return aggregate(e);
  case Op::CountDistinct:
    CEP_ASSERT(false, "count_distinct outside an aggregate declaration (never compiled yet)");
    return Value::nullOf(TypeKind::Int);
  case Op::Cast: {
    Value x = eval(*e.args[0]);
    return x.null ? Value::nullOf(TypeKind::Float) : Value::ofFloat(asFloat(x));
  }
  case Op::Neg: {
    Value x = eval(*e.args[0]);
    if (x.null) {
      return x;
    }
    if (x.kind == TypeKind::Float) {
      return Value::ofFloat(-x.f);
    }
    return Value::ofInt(x.kind, wrapSub(0, x.i));
  }
  case Op::Not: {
    Value x = eval(*e.args[0]);
    return x.null ? Value::nullOf(TypeKind::Bool) : Value::ofBool(!x.b);
  }
  case Op::And:
  case Op::Or:
    return logic(e);
  case Op::Eq:
  case Op::Ne:
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge:
    return compare(e);
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Mod:
    return arithmetic(e);
  case Op::IsNull:
    return Value::ofBool(eval(*e.args[0]).null);
  case Op::IsNotNull:
    return Value::ofBool(!eval(*e.args[0]).null);
  case Op::In:
  case Op::NotIn: {
    Value x = eval(*e.args[0]);
    if (x.null) {
      return Value::ofBool(false); // a comparison with null is false, `not in` too
    }
    bool found = false;
    for (const auto &item : e.value.list) {
      if (!item.is_null && compareValues(fromLiteral(item), x) == 0) {
        found = true;
        break;
      }
    }
    return Value::ofBool(found == (e.op == Op::In));
  }
  case Op::Call:
    return call(e);
  case Op::If: {
    Value c = eval(*e.args[0]);
    Value v = (!c.null && c.b) ? eval(*e.args[1]) : eval(*e.args[2]);
    if (v.null) {
      v.kind = e.type.kind;
    }
    return v;
  }
  case Op::Coalesce:
    for (const auto &a : e.args) {
      Value v = eval(*a);
      if (!v.null) {
        return v;
      }
    }
    return Value::nullOf(e.type.kind);
  }
  CEP_ASSERT(false, "unknown expression operation");
  return Value();
}

Value Evaluator::field(const Expr &e) {
  const runtime::Event *ev = nullptr;
  if (e.step == lang::typed::kCandidate) {
    ev = candidate_;
  } else if (e.step == element_step_) {
    ev = element_;
  } else {
    const auto &events = boundTo(e.step);
    ev = events.empty() ? nullptr : events.back();
  }
  if (ev == nullptr) {
    return Value::nullOf(e.type.kind);
  }
  return readField(program_, *ev, e.field);
}

Value Evaluator::firstOrLast(const Expr &e, bool first) {
  const auto &events = boundTo(e.step);
  if (events.empty()) {
    return Value::nullOf(e.type.kind);
  }
  return readField(program_, first ? *events.front() : *events.back(), e.field);
}

Value Evaluator::aggregate(const Expr &e) {
  const auto &events = boundTo(e.step);
  TypeKind k = e.type.kind;
  std::int64_t count = 0;
  std::int64_t isum = 0;
  double fsum = 0;
  Value best = Value::nullOf(k);
  std::int32_t saved_step = element_step_;
  const runtime::Event *saved_element = element_;
  element_step_ = e.step;
  for (const runtime::Event *ev : events) {
    element_ = ev;
    Value v = eval(*e.args[0]);
    if (v.null) {
      continue;
    }
    ++count;
    switch (e.op) {
    case Op::Sum:
      if (k == TypeKind::Float) {
        fsum += v.f;
      } else {
        isum = wrapAdd(isum, v.i);
      }
      break;
    case Op::Avg:
      fsum += asFloat(v);
      break;
    case Op::Min:
    case Op::Max: {
      if (best.null) {
        best = v;
        break;
      }
      int c = compareValues(v, best);
      if ((e.op == Op::Min && c == -1) || (e.op == Op::Max && c == 1)) {
        best = v;
      }
      break;
    }
    default:
      break;
    }
  }
  element_step_ = saved_step;
  element_ = saved_element;
  switch (e.op) {
  case Op::CountOf:
    return Value::ofInt(TypeKind::Int, count);
  case Op::Sum:
    return k == TypeKind::Float ? Value::ofFloat(fsum) : Value::ofInt(k, isum);
  case Op::Avg:
    return count == 0 ? Value::nullOf(TypeKind::Float)
                      : Value::ofFloat(fsum / static_cast<double>(count));
  default:
    best.kind = k;
    return best;
  }
}

Value Evaluator::logic(const Expr &e) {
  // Kleene logic: `false and x` is false, `true or x` is true, otherwise null wins.
  bool dominant = e.op == Op::Or;
  Value a = eval(*e.args[0]);
  if (!a.null && a.b == dominant) {
    return Value::ofBool(dominant);
  }
  Value b = eval(*e.args[1]);
  if (!b.null && b.b == dominant) {
    return Value::ofBool(dominant);
  }
  if (a.null || b.null) {
    return Value::nullOf(TypeKind::Bool);
  }
  return Value::ofBool(!dominant);
}

Value Evaluator::compare(const Expr &e) {
  Value a = eval(*e.args[0]);
  Value b = eval(*e.args[1]);
  if (a.null || b.null) {
    return Value::ofBool(false);
  }
  int c = compareValues(a, b);
  switch (e.op) {
  case Op::Eq:
    return Value::ofBool(c == 0);
  case Op::Ne:
    return Value::ofBool(c != 0);
  case Op::Lt:
    return Value::ofBool(c == -1);
  case Op::Le:
    return Value::ofBool(c == -1 || c == 0);
  case Op::Gt:
    return Value::ofBool(c == 1);
  default:
    return Value::ofBool(c == 1 || c == 0);
  }
}

Value Evaluator::arithmetic(const Expr &e) {
  TypeKind result = e.type.kind;
  Value a = eval(*e.args[0]);
  Value b = eval(*e.args[1]);
  if (a.null || b.null) {
    return Value::nullOf(result);
  }
  switch (result) {
  case TypeKind::String: {
    std::string s;
    s.reserve(a.s.size() + b.s.size());
    s.append(a.s);
    s.append(b.s);
    return Value::ofString(keep(std::move(s)));
  }
  case TypeKind::Float:
    if (e.op == Op::Div && a.kind == TypeKind::Duration) { // duration / duration
      if (b.i == 0) {
        return Value::nullOf(result);
      }
      return Value::ofFloat(static_cast<double>(a.i) / static_cast<double>(b.i));
    }
    switch (e.op) {
    case Op::Add:
      return Value::ofFloat(asFloat(a) + asFloat(b));
    case Op::Sub:
      return Value::ofFloat(asFloat(a) - asFloat(b));
    case Op::Mul:
      return Value::ofFloat(asFloat(a) * asFloat(b));
    case Op::Div:
      return Value::ofFloat(asFloat(a) / asFloat(b));
    default:
      break;
    }
    break;
  case TypeKind::Duration:
    if ((e.op == Op::Mul || e.op == Op::Div) &&
        (a.kind == TypeKind::Float || b.kind == TypeKind::Float)) {
      double x = asFloat(a), y = asFloat(b);
      return roundedDuration(e.op == Op::Mul ? x * y : x / y);
    }
    [[fallthrough]];
  case TypeKind::Int:
  case TypeKind::Time:
    switch (e.op) {
    case Op::Add:
      return Value::ofInt(result, wrapAdd(a.i, b.i));
    case Op::Sub:
      return Value::ofInt(result, wrapSub(a.i, b.i));
    case Op::Mul:
      return Value::ofInt(result, wrapMul(a.i, b.i));
    case Op::Div:
    case Op::Mod:
      if (b.i == 0) {
        return Value::nullOf(result);
      }
      if (a.i == std::numeric_limits<std::int64_t>::min() && b.i == -1) {
        return Value::ofInt(result, e.op == Op::Div ? a.i : 0); // wraps
      }
      return Value::ofInt(result, e.op == Op::Div ? a.i / b.i : a.i % b.i);
    default:
      break;
    }
    break;
  default:
    break;
  }
  CEP_ASSERT(false, "unexpected operand kinds in arithmetic");
  return Value();
}

Value Evaluator::call(const Expr &e) {
  TypeKind result = e.type.kind;
  std::vector<Value> args;
  args.reserve(e.args.size());
  for (const auto &a : e.args) {
    args.push_back(eval(*a));
    if (args.back().null) {
      return Value::nullOf(result); // every built-in is null on a null argument
    }
  }
  auto f = [&](std::size_t i) { return asFloat(args[i]); };
  auto s = [&](std::size_t i) { return args[i].s; };
  switch (static_cast<FunctionId>(e.function)) {
  case FunctionId::Abs:
    return args[0].kind == TypeKind::Float ? Value::ofFloat(cep_stdlib_abs_float(args[0].f))
                                           : Value::ofInt(result, cep_stdlib_abs_int(args[0].i));
  case FunctionId::Min:
  case FunctionId::Max: {
    Value best = args[0];
    for (std::size_t i = 1; i < args.size(); ++i) {
      int c = compareValues(args[i], best);
      if ((e.function == static_cast<std::int32_t>(FunctionId::Min) && c == -1) ||
          (e.function == static_cast<std::int32_t>(FunctionId::Max) && c == 1)) {
        best = args[i];
      }
    }
    best.kind = result;
    return best;
  }
  case FunctionId::Round:
    return Value::ofFloat(cep_stdlib_round(f(0)));
  case FunctionId::Floor:
    return Value::ofFloat(cep_stdlib_floor(f(0)));
  case FunctionId::Ceil:
    return Value::ofFloat(cep_stdlib_ceil(f(0)));
  case FunctionId::Sqrt:
    return Value::ofFloat(cep_stdlib_sqrt(f(0)));
  case FunctionId::Ln:
    return Value::ofFloat(cep_stdlib_ln(f(0)));
  case FunctionId::Exp:
    return Value::ofFloat(cep_stdlib_exp(f(0)));
  case FunctionId::Pow:
    return Value::ofFloat(cep_stdlib_pow(f(0), f(1)));
  case FunctionId::Len:
    return Value::ofInt(TypeKind::Int, cep_stdlib_len(s(0).data(), s(0).size()));
  case FunctionId::Lower:
  case FunctionId::Upper: {
    std::string out(s(0).size(), '\0');
    if (static_cast<FunctionId>(e.function) == FunctionId::Lower) {
      cep_stdlib_lower(s(0).data(), s(0).size(), out.data());
    } else {
      cep_stdlib_upper(s(0).data(), s(0).size(), out.data());
    }
    return Value::ofString(keep(std::move(out)));
  }
  case FunctionId::Contains:
    return Value::ofBool(cep_stdlib_contains(s(0).data(), s(0).size(), s(1).data(), s(1).size()));
  case FunctionId::StartsWith:
    return Value::ofBool(
        cep_stdlib_starts_with(s(0).data(), s(0).size(), s(1).data(), s(1).size()));
  case FunctionId::EndsWith:
    return Value::ofBool(cep_stdlib_ends_with(s(0).data(), s(0).size(), s(1).data(), s(1).size()));
  case FunctionId::Substr: {
    std::uint64_t begin = 0, size = 0;
    cep_stdlib_substr(s(0).data(), s(0).size(), args[1].i, args[2].i, &begin, &size);
    return Value::ofString(s(0).substr(begin, size));
  }
  case FunctionId::Hour:
    return Value::ofInt(TypeKind::Int, cep_stdlib_hour(args[0].i));
  case FunctionId::Minute:
    return Value::ofInt(TypeKind::Int, cep_stdlib_minute(args[0].i));
  case FunctionId::DayOfWeek:
    return Value::ofInt(TypeKind::Int, cep_stdlib_day_of_week(args[0].i));
  case FunctionId::Seconds:
    return Value::ofFloat(cep_stdlib_seconds(args[0].i));
  case FunctionId::Minutes:
    return Value::ofFloat(cep_stdlib_minutes(args[0].i));
  case FunctionId::Hours:
    return Value::ofFloat(cep_stdlib_hours(args[0].i));
  case FunctionId::HaversineKm:
    return Value::ofFloat(cep_stdlib_haversine_km(f(0), f(1), f(2), f(3)));
  case FunctionId::Count_:
    break;
  }
  CEP_ASSERT(false, "unknown built-in function id " + std::to_string(e.function));
  return Value();
}

} // namespace cep::compiler::interp
