// Expressions: literals, operators with their typing rules (spec §2), lists and `in`,
// `is null`, and requiring a value where one is needed. Names and fields are in
// check_names.cpp, calls in check_calls.cpp.
#include "lang/checker.hpp"
#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::lang {

using typed::Op;

typed::ExprPtr cloneExpr(const typed::Expr &e) {
  auto out = std::make_unique<typed::Expr>();
  out->op = e.op;
  out->type = e.type;
  out->value = e.value;
  out->step = e.step;
  out->field = e.field;
  out->function = e.function;
  out->range = e.range;
  for (const auto &a : e.args) {
    out->args.push_back(cloneExpr(*a));
  }
  return out;
}

std::size_t expansionSize(const typed::Expr &e) {
  std::size_t n = 1 + e.value.list.size();
  for (const auto &a : e.args) {
    n += expansionSize(*a);
  }
  return n;
}

std::string exampleField(const typed::EventType &et, bool (*pred)(const Type &)) {
  for (const auto &f : et.fields) {
    if (pred(f.type)) {
      return f.name;
    }
  }
  return et.fields.empty() ? std::string("f") : et.fields.front().name;
}

namespace {

const char *binaryText(ast::BinaryOp op) {
  switch (op) {
  case ast::BinaryOp::Or:
    return "or";
  case ast::BinaryOp::And:
    return "and";
  case ast::BinaryOp::Eq:
    return "==";
  case ast::BinaryOp::Ne:
    return "!=";
  case ast::BinaryOp::Lt:
    return "<";
  case ast::BinaryOp::Le:
    return "<=";
  case ast::BinaryOp::Gt:
    return ">";
  case ast::BinaryOp::Ge:
    return ">=";
  case ast::BinaryOp::Add:
    return "+";
  case ast::BinaryOp::Sub:
    return "-";
  case ast::BinaryOp::Mul:
    return "*";
  case ast::BinaryOp::Div:
    return "/";
  case ast::BinaryOp::Mod:
    return "%";
  }
  return "?";
}

Op binaryOp(ast::BinaryOp op) {
  switch (op) {
  case ast::BinaryOp::Or:
    return Op::Or;
  case ast::BinaryOp::And:
    return Op::And;
  case ast::BinaryOp::Eq:
    return Op::Eq;
  case ast::BinaryOp::Ne:
    return Op::Ne;
  case ast::BinaryOp::Lt:
    return Op::Lt;
  case ast::BinaryOp::Le:
    return Op::Le;
  case ast::BinaryOp::Gt:
    return Op::Gt;
  case ast::BinaryOp::Ge:
    return Op::Ge;
  case ast::BinaryOp::Add:
    return Op::Add;
  case ast::BinaryOp::Sub:
    return Op::Sub;
  case ast::BinaryOp::Mul:
    return Op::Mul;
  case ast::BinaryOp::Div:
    return Op::Div;
  case ast::BinaryOp::Mod:
    return Op::Mod;
  }
  return Op::Add;
}

bool isOrdered(TypeKind k) {
  return k == TypeKind::Int || k == TypeKind::Float || k == TypeKind::String ||
         k == TypeKind::Time || k == TypeKind::Duration;
}

} // namespace

// --- node construction -----------------------------------------------------------------------

typed::ExprPtr Checker::errorNode(SourceRange r) const {
  auto e = std::make_unique<typed::Expr>();
  e->type = Type::error();
  e->range = nodeRange(r);
  return e;
}

typed::ExprPtr Checker::literal(typed::Value v, Type t, SourceRange r) const {
  auto e = std::make_unique<typed::Expr>();
  e->op = Op::Literal;
  e->type = t;
  e->value = std::move(v);
  e->range = nodeRange(r);
  return e;
}

typed::ExprPtr Checker::node(Op op, Type t, SourceRange r) const {
  auto e = std::make_unique<typed::Expr>();
  e->op = op;
  e->type = t;
  e->range = nodeRange(r);
  return e;
}

typed::ExprPtr Checker::widen(typed::ExprPtr x, TypeKind to) {
  if (to != TypeKind::Float || x->type.kind != TypeKind::Int) {
    return x;
  }
  SourceRange r = x->range;
  auto cast = std::make_unique<typed::Expr>();
  cast->op = Op::Cast;
  cast->type = Type::of(TypeKind::Float, x->type.nullable);
  cast->range = r;
  cast->args.push_back(std::move(x));
  fold(cast);
  return cast;
}

std::optional<Type> Checker::unify(const Type &a, const Type &b) const {
  if (a.isError() || b.isError()) {
    return Type::error();
  }
  if (a.kind == TypeKind::Null) {
    return b.kind == TypeKind::Null ? b : b.asNullable();
  }
  if (b.kind == TypeKind::Null) {
    return a.asNullable();
  }
  bool nullable = a.nullable || b.nullable;
  if (a.kind == b.kind && a.kind != TypeKind::List && a.kind != TypeKind::Event &&
      a.kind != TypeKind::Loop) {
    return Type::of(a.kind, nullable);
  }
  if (a.isNumeric() && b.isNumeric()) {
    return Type::of(TypeKind::Float, nullable);
  }
  return std::nullopt;
}

// --- dispatch --------------------------------------------------------------------------------

typed::ExprPtr Checker::checkExpr(const ast::Expr &e, const Scope &scope) {
  if (!spend(1)) {
    return errorNode(e.range); // a def call being inlined is over kMaxDefExpansion
  }
  typed::Value v;
  switch (e.kind) {
  case ast::ExprKind::IntLit:
    v.kind = TypeKind::Int;
    v.is_null = false;
    v.i = e.int_value;
    return literal(std::move(v), Type::of(TypeKind::Int), e.range);
  case ast::ExprKind::FloatLit:
    v.kind = TypeKind::Float;
    v.is_null = false;
    v.f = e.float_value;
    return literal(std::move(v), Type::of(TypeKind::Float), e.range);
  case ast::ExprKind::StringLit:
    v.kind = TypeKind::String;
    v.is_null = false;
    v.s = e.text;
    return literal(std::move(v), Type::of(TypeKind::String), e.range);
  case ast::ExprKind::BoolLit:
    v.kind = TypeKind::Bool;
    v.is_null = false;
    v.b = e.bool_value;
    return literal(std::move(v), Type::of(TypeKind::Bool), e.range);
  case ast::ExprKind::NullLit:
    return literal(std::move(v), Type::of(TypeKind::Null, true), e.range);
  case ast::ExprKind::DurationLit:
    if (!durationInRange(e.range, e.int_value)) {
      return errorNode(e.range);
    }
    v.kind = TypeKind::Duration;
    v.is_null = false;
    v.i = e.int_value;
    return literal(std::move(v), Type::of(TypeKind::Duration), e.range);
  case ast::ExprKind::ListLit:
    return checkList(e, scope);
  case ast::ExprKind::Name:
    return checkName(e, scope);
  case ast::ExprKind::Member:
    return checkMember(e, scope);
  case ast::ExprKind::Call:
    return checkCall(e, scope);
  case ast::ExprKind::Unary:
    return checkUnary(e, scope);
  case ast::ExprKind::Binary:
    return checkBinary(e, scope);
  case ast::ExprKind::IsNull:
    return checkIsNull(e, scope);
  case ast::ExprKind::In:
    return checkIn(e, scope);
  }
  CEP_ASSERT(false, "unknown expression kind");
  return errorNode(e.range);
}

typed::ExprPtr Checker::checkValue(const ast::Expr &e, const Scope &scope) {
  typed::ExprPtr x = checkExpr(e, scope);
  requireValue(x, e, false);
  return x;
}

typed::ExprPtr Checker::checkBool(const ast::Expr &e, const Scope &scope, const std::string &what) {
  typed::ExprPtr x = checkValue(e, scope);
  if (!x->type.isError() && x->type.kind != TypeKind::Bool) {
    error(e.range, what + " must be `bool`, not `" + typeText(x->type) + "`");
    return errorNode(e.range);
  }
  return x;
}

namespace {

std::size_t nodeCount(const typed::Expr &e) {
  std::size_t n = 1;
  for (const auto &a : e.args) {
    n += nodeCount(*a);
  }
  return n;
}

} // namespace

void Checker::requireSize(typed::ExprPtr &x, const ast::Expr &e, const std::string &what) {
  if (x->type.isError()) {
    return;
  }
  std::size_t n = nodeCount(*x);
  if (n <= kMaxExpressionNodes) {
    return;
  }
  error(e.range, what + " has " + std::to_string(n) + " nodes once its defs are inlined; the " +
                     "limit is " + std::to_string(kMaxExpressionNodes))
      .note("each expression becomes one native function: split it over several steps or "
            "emit fields, or use a list with `in`");
  x = errorNode(e.range);
}

void Checker::requireValue(typed::ExprPtr &x, const ast::Expr &e, bool allow_null) {
  const Type &t = x->type;
  std::string text = sourceText(e.range);
  switch (t.kind) {
  case TypeKind::Event: {
    std::string example = "f";
    if (t.event >= 0 && !program_.event_types[static_cast<std::size_t>(t.event)].fields.empty()) {
      example = program_.event_types[static_cast<std::size_t>(t.event)].fields.front().name;
    }
    error(e.range, "`" + text + "` is a whole `" + eventName(t.event) +
                       "` event, not a value: use one of its fields, such as `" + text + "." +
                       example + "`");
    break;
  }
  case TypeKind::Loop: {
    std::string f = "f";
    Type ft = Type::of(TypeKind::String);
    if (t.event >= 0 && !program_.event_types[static_cast<std::size_t>(t.event)].fields.empty()) {
      const auto &et = program_.event_types[static_cast<std::size_t>(t.event)];
      f = exampleField(et, [](const Type &ty) { return ty.isNumeric(); });
      ft = et.fields[static_cast<std::size_t>(et.fieldIndex(f))].type;
    }
    error(e.range, "`" + text + "` is a looping step: it matches several events, not one value")
        .note(loopHint(text, f, ft));
    break;
  }
  case TypeKind::List:
    error(e.range, "a list can only be used on the right of `in`, as in `x in " + text + "`");
    break;
  case TypeKind::Null:
    if (allow_null) {
      return;
    }
    error(e.range, "`null` cannot be used here: it has no type of its own");
    break;
  default:
    return;
  }
  x = errorNode(e.range);
}

// --- operators -------------------------------------------------------------------------------

typed::ExprPtr Checker::checkUnary(const ast::Expr &e, const Scope &scope) {
  const ast::Expr &child = *e.children[0];
  if (e.unary_op == ast::UnaryOp::Not) {
    typed::ExprPtr x = checkBool(child, scope, "the operand of `not`");
    if (x->type.isError()) {
      return errorNode(e.range);
    }
    auto n = node(Op::Not, Type::of(TypeKind::Bool, x->type.nullable), e.range);
    n->args.push_back(std::move(x));
    fold(n);
    return n;
  }
  typed::ExprPtr x = checkValue(child, scope);
  if (x->type.isError()) {
    return errorNode(e.range);
  }
  TypeKind k = x->type.kind;
  if (k != TypeKind::Int && k != TypeKind::Float && k != TypeKind::Duration) {
    error(e.range, "`-` needs a number or a duration, not `" + typeText(x->type) + "`");
    return errorNode(e.range);
  }
  auto n = node(Op::Neg, x->type, e.range);
  n->args.push_back(std::move(x));
  fold(n);
  return n;
}

typed::ExprPtr Checker::checkBinary(const ast::Expr &e, const Scope &scope) {
  switch (e.binary_op) {
  case ast::BinaryOp::And:
  case ast::BinaryOp::Or:
    return checkLogic(e, scope);
  case ast::BinaryOp::Eq:
  case ast::BinaryOp::Ne:
  case ast::BinaryOp::Lt:
  case ast::BinaryOp::Le:
  case ast::BinaryOp::Gt:
  case ast::BinaryOp::Ge:
    return checkComparison(e, scope);
  default:
    return checkArithmetic(e, scope);
  }
}

typed::ExprPtr Checker::checkLogic(const ast::Expr &e, const Scope &scope) {
  std::string what = std::string("an operand of `") + binaryText(e.binary_op) + "`";
  typed::ExprPtr l = checkBool(*e.children[0], scope, what);
  typed::ExprPtr r = checkBool(*e.children[1], scope, what);
  if (l->type.isError() || r->type.isError()) {
    return errorNode(e.range);
  }
  auto n = node(binaryOp(e.binary_op),
                Type::of(TypeKind::Bool, l->type.nullable || r->type.nullable), e.range);
  n->args.push_back(std::move(l));
  n->args.push_back(std::move(r));
  fold(n);
  return n;
}

typed::ExprPtr Checker::checkComparison(const ast::Expr &e, const Scope &scope) {
  const ast::Expr &lhs = *e.children[0];
  const ast::Expr &rhs = *e.children[1];
  bool l_null = lhs.kind == ast::ExprKind::NullLit;
  bool r_null = rhs.kind == ast::ExprKind::NullLit;
  if (l_null || r_null) {
    const ast::Expr &other = l_null ? rhs : lhs;
    if (other.kind != ast::ExprKind::NullLit) {
      checkExpr(other, scope); // its own errors still count
    }
    Report r = error(e.range, std::string("comparing with `null` is never true (a comparison ") +
                                  "with null is false)");
    if (e.binary_op == ast::BinaryOp::Eq) {
      r.note("did you mean `" + sourceText(other.range) + " is null`?");
    } else if (e.binary_op == ast::BinaryOp::Ne) {
      r.note("did you mean `" + sourceText(other.range) + " is not null`?");
    } else {
      r.note("test for a missing value with `is null` or `is not null`");
    }
    return errorNode(e.range);
  }
  typed::ExprPtr l = checkValue(lhs, scope);
  typed::ExprPtr r = checkValue(rhs, scope);
  if (l->type.isError() || r->type.isError()) {
    return errorNode(e.range);
  }
  if (l->type.isNumeric() && r->type.isNumeric() && l->type.kind != r->type.kind) {
    l = widen(std::move(l), TypeKind::Float);
    r = widen(std::move(r), TypeKind::Float);
  }
  const char *op = binaryText(e.binary_op);
  if (l->type.kind != r->type.kind) {
    Report rep = error(e.range, "cannot compare `" + typeText(l->type) + "` with `" +
                                    typeText(r->type) + "`");
    TypeKind a = l->type.kind, b = r->type.kind;
    if ((a == TypeKind::Duration && b == TypeKind::Int) ||
        (a == TypeKind::Int && b == TypeKind::Duration) ||
        (a == TypeKind::Duration && b == TypeKind::Float) ||
        (a == TypeKind::Float && b == TypeKind::Duration)) {
      rep.note("write the number as a duration, with its unit: `250ms`, `30s`, `5m`, `2h`, `1d`");
    }
    return errorNode(e.range);
  }
  bool ordering = e.binary_op != ast::BinaryOp::Eq && e.binary_op != ast::BinaryOp::Ne;
  if (ordering && !isOrdered(l->type.kind)) {
    error(e.range, std::string("`") + op + "` cannot order `" + typeText(l->type) +
                       "` values; only `==` and `!=` compare them");
    return errorNode(e.range);
  }
  auto n = node(binaryOp(e.binary_op),
                Type::of(TypeKind::Bool, l->type.nullable || r->type.nullable), e.range);
  n->args.push_back(std::move(l));
  n->args.push_back(std::move(r));
  fold(n);
  return n;
}

typed::ExprPtr Checker::checkArithmetic(const ast::Expr &e, const Scope &scope) {
  typed::ExprPtr l = checkValue(*e.children[0], scope);
  typed::ExprPtr r = checkValue(*e.children[1], scope);
  if (l->type.isError() || r->type.isError()) {
    return errorNode(e.range);
  }
  TypeKind a = l->type.kind, b = r->type.kind;
  const TypeKind kInt = TypeKind::Int, kFloat = TypeKind::Float, kDur = TypeKind::Duration,
                 kTime = TypeKind::Time, kStr = TypeKind::String;
  bool numeric = l->type.isNumeric() && r->type.isNumeric();
  std::optional<TypeKind> result;
  bool widen_both = false;
  switch (e.binary_op) {
  case ast::BinaryOp::Add:
    if (numeric) {
      result = (a == kInt && b == kInt) ? kInt : kFloat;
      widen_both = true;
    } else if (a == kStr && b == kStr) {
      result = kStr;
    } else if ((a == kTime && b == kDur) || (a == kDur && b == kTime)) {
      result = kTime;
    } else if (a == kDur && b == kDur) {
      result = kDur;
    }
    break;
  case ast::BinaryOp::Sub:
    if (numeric) {
      result = (a == kInt && b == kInt) ? kInt : kFloat;
      widen_both = true;
    } else if (a == kTime && b == kTime) {
      result = kDur;
    } else if (a == kTime && b == kDur) {
      result = kTime;
    } else if (a == kDur && b == kDur) {
      result = kDur;
    }
    break;
  case ast::BinaryOp::Mul:
    if (numeric) {
      result = (a == kInt && b == kInt) ? kInt : kFloat;
      widen_both = true;
    } else if ((a == kDur && r->type.isNumeric()) || (l->type.isNumeric() && b == kDur)) {
      result = kDur;
    }
    break;
  case ast::BinaryOp::Div:
    if (numeric) {
      result = (a == kInt && b == kInt) ? kInt : kFloat;
      widen_both = true;
    } else if (a == kDur && r->type.isNumeric()) {
      result = kDur;
    } else if (a == kDur && b == kDur) {
      result = kFloat;
    }
    break;
  case ast::BinaryOp::Mod:
    if (a == kInt && b == kInt) {
      result = kInt;
    }
    break;
  default:
    break;
  }
  const char *op = binaryText(e.binary_op);
  if (!result) {
    Report rep = error(e.range, std::string("`") + op + "` cannot combine `" + typeText(l->type) +
                                    "` and `" + typeText(r->type) + "`");
    bool plus_minus = e.binary_op == ast::BinaryOp::Add || e.binary_op == ast::BinaryOp::Sub;
    if (e.binary_op == ast::BinaryOp::Mod) {
      rep.note("`%` works on `int` values only");
    } else if (plus_minus &&
               ((a == kTime && r->type.isNumeric()) || (l->type.isNumeric() && b == kTime) ||
                (a == kDur && r->type.isNumeric()) || (l->type.isNumeric() && b == kDur))) {
      rep.note("write the number as a duration, with its unit: `250ms`, `30s`, `5m`, `2h`, `1d`");
    } else if (e.binary_op == ast::BinaryOp::Add && a == kTime && b == kTime) {
      rep.note("two times can be subtracted (`b.ts - a.ts` is a duration), not added");
    }
    return errorNode(e.range);
  }
  if (widen_both && *result == kFloat) {
    l = widen(std::move(l), kFloat);
    r = widen(std::move(r), kFloat);
  }
  auto n =
      node(binaryOp(e.binary_op), Type::of(*result, l->type.nullable || r->type.nullable), e.range);
  n->args.push_back(std::move(l));
  n->args.push_back(std::move(r));
  fold(n);
  return n;
}

typed::ExprPtr Checker::checkIsNull(const ast::Expr &e, const Scope &scope) {
  typed::ExprPtr x = checkExpr(*e.children[0], scope);
  requireValue(x, *e.children[0], true);
  if (x->type.isError()) {
    return errorNode(e.range);
  }
  auto n = node(e.negated ? Op::IsNotNull : Op::IsNull, Type::of(TypeKind::Bool), e.range);
  n->args.push_back(std::move(x));
  fold(n);
  return n;
}

// --- lists and `in` --------------------------------------------------------------------------

typed::ExprPtr Checker::checkList(const ast::Expr &e, const Scope &scope) {
  bool failed = false;
  std::vector<typed::ExprPtr> elems;
  for (const auto &child : e.children) {
    typed::ExprPtr x = checkExpr(*child, scope);
    if (x->type.isError()) {
      failed = true;
      continue;
    }
    if (x->type.kind == TypeKind::List) {
      error(child->range, "a list cannot contain lists");
      failed = true;
      continue;
    }
    if (x->type.kind == TypeKind::Null) {
      error(child->range, "a list cannot contain `null`");
      failed = true;
      continue;
    }
    requireValue(x, *child, false);
    if (x->type.isError()) {
      failed = true;
      continue;
    }
    if (x->op != Op::Literal) {
      error(child->range, "the elements of a list must be constants, and `" +
                              sourceText(child->range) + "` is not");
      failed = true;
      continue;
    }
    elems.push_back(std::move(x));
  }
  if (failed) {
    return errorNode(e.range);
  }
  TypeKind elem = TypeKind::Null;
  for (std::size_t i = 0; i < elems.size(); ++i) {
    TypeKind k = elems[i]->type.kind;
    if (elem == TypeKind::Null || elem == k) {
      elem = k;
    } else if ((elem == TypeKind::Int || elem == TypeKind::Float) &&
               (k == TypeKind::Int || k == TypeKind::Float)) {
      elem = TypeKind::Float;
    } else {
      error(elems[i]->range, "the elements of a list must all have one type, but this one is `" +
                                 std::string(typeKindName(k)) + "` and the first is `" +
                                 typeKindName(elems[0]->type.kind) + "`");
      return errorNode(e.range);
    }
  }
  typed::Value v;
  v.kind = TypeKind::List;
  v.is_null = false;
  for (auto &x : elems) {
    typed::Value ev = x->value;
    if (elem == TypeKind::Float && ev.kind == TypeKind::Int) {
      ev.kind = TypeKind::Float;
      ev.f = static_cast<double>(ev.i);
      ev.i = 0;
    }
    v.list.push_back(std::move(ev));
  }
  return literal(std::move(v), Type::list(elem), e.range);
}

typed::ExprPtr Checker::checkIn(const ast::Expr &e, const Scope &scope) {
  const ast::Expr &lhs = *e.children[0];
  const ast::Expr &rhs = *e.children[1];
  typed::ExprPtr l = checkValue(lhs, scope);
  typed::ExprPtr r =
      rhs.kind == ast::ExprKind::ListLit ? checkList(rhs, scope) : checkExpr(rhs, scope);
  if (r->type.isError() || l->type.isError()) {
    return errorNode(e.range);
  }
  const char *op = e.negated ? "not in" : "in";
  if (r->type.kind != TypeKind::List) {
    error(rhs.range, std::string("the right side of `") + op + "` must be a list, such as " +
                         "`[\"NG\", \"KP\"]` or a list const, not `" + typeText(r->type) + "`");
    return errorNode(e.range);
  }
  CEP_ASSERT(r->op == Op::Literal, "a list was not folded to a literal");
  typed::Value list = r->value;
  TypeKind elem = r->type.elem;
  TypeKind k = l->type.kind;
  if (elem != TypeKind::Null && elem != k) {
    if (k == TypeKind::Int && elem == TypeKind::Float) {
      l = widen(std::move(l), TypeKind::Float);
    } else if (k == TypeKind::Float && elem == TypeKind::Int) {
      for (auto &v : list.list) {
        v.kind = TypeKind::Float;
        v.f = static_cast<double>(v.i);
        v.i = 0;
      }
    } else {
      error(e.range, "cannot look for a `" + typeText(l->type) + "` in a `list<" +
                         typeKindName(elem) + ">`");
      return errorNode(e.range);
    }
  }
  auto n =
      node(e.negated ? Op::NotIn : Op::In, Type::of(TypeKind::Bool, l->type.nullable), e.range);
  n->value = std::move(list);
  n->args.push_back(std::move(l));
  fold(n);
  return n;
}

} // namespace cep::lang
