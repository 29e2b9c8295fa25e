// Constant folding: an operator whose operands are all literals becomes a literal. This is how
// consts get their values and how `within` durations are known; conditions get simpler literals
// (`-5`, `2 * 60`) for free. Integer overflow and division by zero are compile-time errors.
// Null follows spec §2: arithmetic with null is null, a comparison with null is false.
#include "lang/checker.hpp"
#include "lang/typed_printer.hpp"
#include "support/internal_error.hpp"
#include "support/time_arith.hpp"

#include <cmath>
#include <limits>

namespace cep::lang {

using typed::Op;
using typed::Value;

namespace {

struct FoldError {
  std::string message;
};

Value nullOf(TypeKind k) {
  Value v;
  v.kind = k;
  v.is_null = true;
  return v;
}

Value boolValue(bool b) {
  Value v;
  v.kind = TypeKind::Bool;
  v.is_null = false;
  v.b = b;
  return v;
}

Value intValue(TypeKind k, std::int64_t i) {
  Value v;
  v.kind = k;
  v.is_null = false;
  v.i = i;
  return v;
}

Value floatValue(double f) {
  Value v;
  v.kind = TypeKind::Float;
  v.is_null = false;
  v.f = f;
  return v;
}

double asFloat(const Value &v) {
  return v.kind == TypeKind::Float ? v.f : static_cast<double>(v.i);
}

// <0, 0, >0; both non-null and of the same kind (the checker widened them).
int compare(const Value &a, const Value &b) {
  if (a.kind == TypeKind::Float || b.kind == TypeKind::Float) {
    double x = asFloat(a), y = asFloat(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (usesInt(a.kind)) {
    return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  }
  if (a.kind == TypeKind::String) {
    int c = a.s.compare(b.s);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind == TypeKind::Bool) {
    return a.b == b.b ? 0 : (a.b ? 1 : -1);
  }
  return 0;
}

void checkOverflow(bool overflow) {
  if (overflow) {
    throw FoldError{"the result of this constant expression does not fit in 64 bits"};
  }
}

std::int64_t roundToInt(double d) {
  if (!std::isfinite(d) || d >= 9.2e18 || d <= -9.2e18) {
    throw FoldError{"the result of this constant expression does not fit in 64 bits"};
  }
  return std::llround(d);
}

Value arithmetic(Op op, TypeKind result, const Value &a, const Value &b) {
  if (a.is_null || b.is_null) {
    return nullOf(result);
  }
  std::int64_t r = 0;
  switch (result) {
  case TypeKind::String:
    return [&] {
      Value v;
      v.kind = TypeKind::String;
      v.is_null = false;
      v.s = a.s + b.s;
      return v;
    }();
  case TypeKind::Float:
    if (op == Op::Div && a.kind == TypeKind::Duration) { // duration / duration
      if (b.i == 0) {
        throw FoldError{"division by zero"};
      }
      return floatValue(static_cast<double>(a.i) / static_cast<double>(b.i));
    }
    switch (op) {
    case Op::Add:
      return floatValue(asFloat(a) + asFloat(b));
    case Op::Sub:
      return floatValue(asFloat(a) - asFloat(b));
    case Op::Mul:
      return floatValue(asFloat(a) * asFloat(b));
    case Op::Div:
      if (asFloat(b) == 0) {
        throw FoldError{"division by zero"};
      }
      return floatValue(asFloat(a) / asFloat(b));
    default:
      break;
    }
    break;
  case TypeKind::Duration:
    if ((op == Op::Mul || op == Op::Div) &&
        (a.kind == TypeKind::Float || b.kind == TypeKind::Float)) {
      double x = a.kind == TypeKind::Duration ? static_cast<double>(a.i) : asFloat(a);
      double y = b.kind == TypeKind::Duration ? static_cast<double>(b.i) : asFloat(b);
      if (op == Op::Div && y == 0) {
        throw FoldError{"division by zero"};
      }
      return intValue(result, roundToInt(op == Op::Mul ? x * y : x / y));
    }
    [[fallthrough]];
  case TypeKind::Int:
  case TypeKind::Time:
    switch (op) {
    case Op::Add:
      checkOverflow(__builtin_add_overflow(a.i, b.i, &r));
      break;
    case Op::Sub:
      checkOverflow(__builtin_sub_overflow(a.i, b.i, &r));
      break;
    case Op::Mul:
      checkOverflow(__builtin_mul_overflow(a.i, b.i, &r));
      break;
    case Op::Div:
    case Op::Mod:
      if (b.i == 0) {
        throw FoldError{op == Op::Div ? "division by zero" : "remainder of a division by zero"};
      }
      if (a.i == std::numeric_limits<std::int64_t>::min() && b.i == -1) {
        throw FoldError{"the result of this constant expression does not fit in 64 bits"};
      }
      r = op == Op::Div ? a.i / b.i : a.i % b.i;
      break;
    default:
      CEP_ASSERT(false, "not an arithmetic operator");
    }
    return intValue(result, r);
  default:
    break;
  }
  CEP_ASSERT(false, "unexpected operand kinds in constant arithmetic");
  return nullOf(result);
}

bool contains(const Value &list, const Value &x) {
  for (const auto &v : list.list) {
    if (!v.is_null && compare(v, x) == 0) {
      return true;
    }
  }
  return false;
}

// The value of `e`, whose operands are all literals; nullopt when `e` is not foldable.
std::optional<Value> evaluate(const typed::Expr &e) {
  auto arg = [&](std::size_t i) -> const Value & { return e.args[i]->value; };
  TypeKind result = e.type.kind;
  switch (e.op) {
  case Op::Cast:
    return arg(0).is_null ? nullOf(TypeKind::Float) : floatValue(asFloat(arg(0)));
  case Op::Neg: {
    const Value &x = arg(0);
    if (x.is_null) {
      return nullOf(result);
    }
    if (x.kind == TypeKind::Float) {
      return floatValue(-x.f);
    }
    if (x.i == std::numeric_limits<std::int64_t>::min()) {
      throw FoldError{"the result of this constant expression does not fit in 64 bits"};
    }
    return intValue(x.kind, -x.i);
  }
  case Op::Not:
    return arg(0).is_null ? nullOf(TypeKind::Bool) : boolValue(!arg(0).b);
  case Op::And:
  case Op::Or: {
    const Value &a = arg(0), &b = arg(1);
    bool dominant = e.op == Op::Or; // `true or x` is true, `false and x` is false
    if ((!a.is_null && a.b == dominant) || (!b.is_null && b.b == dominant)) {
      return boolValue(dominant);
    }
    if (a.is_null || b.is_null) {
      return nullOf(TypeKind::Bool);
    }
    return boolValue(!dominant);
  }
  case Op::Eq:
  case Op::Ne:
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge: {
    const Value &a = arg(0), &b = arg(1);
    if (a.is_null || b.is_null) {
      return boolValue(false);
    }
    int c = compare(a, b);
    switch (e.op) {
    case Op::Eq:
      return boolValue(c == 0);
    case Op::Ne:
      return boolValue(c != 0);
    case Op::Lt:
      return boolValue(c < 0);
    case Op::Le:
      return boolValue(c <= 0);
    case Op::Gt:
      return boolValue(c > 0);
    default:
      return boolValue(c >= 0);
    }
  }
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Mod:
    return arithmetic(e.op, result, arg(0), arg(1));
  case Op::IsNull:
    return boolValue(arg(0).is_null);
  case Op::IsNotNull:
    return boolValue(!arg(0).is_null);
  case Op::In:
  case Op::NotIn:
    if (arg(0).is_null) {
      return boolValue(false);
    }
    return boolValue(contains(e.value, arg(0)) == (e.op == Op::In));
  case Op::If: {
    const Value &c = arg(0);
    Value v = (!c.is_null && c.b) ? arg(1) : arg(2);
    if (v.is_null) {
      v.kind = result;
    }
    return v;
  }
  case Op::Coalesce:
    for (const auto &a : e.args) {
      if (!a->value.is_null) {
        return a->value;
      }
    }
    return nullOf(result);
  default:
    return std::nullopt; // fields, aggregates, calls: not constant
  }
}

} // namespace

bool Checker::durationInRange(SourceRange range, std::int64_t ms) {
  if (ms >= -cep::time::kMaxDurationMs && ms <= cep::time::kMaxDurationMs) {
    return true;
  }
  error(range, "this duration is " + durationText(ms) +
                   ", longer than the longest a rule may hold, " +
                   durationText(cep::time::kMaxDurationMs) + " (about 274 years)");
  return false;
}

void Checker::fold(typed::ExprPtr &x) {
  if (x->op == Op::Literal || x->type.isError()) {
    return;
  }
  for (const auto &a : x->args) {
    if (a->op != Op::Literal || a->type.isError()) {
      return;
    }
  }
  std::optional<Value> v;
  try {
    v = evaluate(*x);
  } catch (const FoldError &err) {
    error(x->range, err.message);
    x = errorNode(x->range);
    return;
  }
  if (!v) {
    return;
  }
  Type t = x->type;
  SourceRange r = x->range;
  if (t.kind == TypeKind::Duration && !v->is_null && !durationInRange(r, v->i)) {
    x = errorNode(r);
    return;
  }
  x = std::make_unique<typed::Expr>();
  x->op = Op::Literal;
  x->type = t;
  x->value = std::move(*v);
  x->range = r;
}

} // namespace cep::lang
