// Calls: the built-in functions of stdlib/functions.def with their signatures, aggregates over
// looping steps (count sum avg min max first last), `if`, `coalesce`, and defs, which are
// inlined at every call.
#include "lang/checker.hpp"
#include "stdlib/functions.hpp"
#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::lang {

using stdlib::FunctionId;
using typed::Op;

namespace {

struct Signature {
  std::vector<TypeKind> params;
  TypeKind result;
};

// Fixed signatures; abs, min and max are handled on their own. Ints widen to float arguments.
std::optional<Signature> fixedSignature(FunctionId id) {
  const TypeKind F = TypeKind::Float, I = TypeKind::Int, S = TypeKind::String, B = TypeKind::Bool,
                 T = TypeKind::Time, D = TypeKind::Duration;
  switch (id) {
  case FunctionId::Round:
  case FunctionId::Floor:
  case FunctionId::Ceil:
  case FunctionId::Sqrt:
  case FunctionId::Ln:
  case FunctionId::Exp:
    return Signature{{F}, F};
  case FunctionId::Pow:
    return Signature{{F, F}, F};
  case FunctionId::Len:
    return Signature{{S}, I};
  case FunctionId::Lower:
  case FunctionId::Upper:
    return Signature{{S}, S};
  case FunctionId::Contains:
  case FunctionId::StartsWith:
  case FunctionId::EndsWith:
    return Signature{{S, S}, B};
  case FunctionId::Substr:
    return Signature{{S, I, I}, S};
  case FunctionId::Hour:
  case FunctionId::Minute:
  case FunctionId::DayOfWeek:
    return Signature{{T}, I};
  case FunctionId::Seconds:
  case FunctionId::Minutes:
  case FunctionId::Hours:
    return Signature{{D}, F};
  case FunctionId::HaversineKm:
    return Signature{{F, F, F, F}, F};
  default:
    return std::nullopt;
  }
}

// A `null` literal among the arguments of `if` or `coalesce` takes the type they share.
void retypeNull(typed::Expr &x, const Type &t) {
  if (x.type.kind == TypeKind::Null && t.kind != TypeKind::Null) {
    x.type = t.asNullable();
    x.value.kind = t.kind;
  }
}

std::string ordinal(std::size_t i) {
  return std::to_string(i + 1);
}

std::string argumentsText(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " argument" : " arguments");
}

bool isOrdered(TypeKind k) {
  return k == TypeKind::Int || k == TypeKind::Float || k == TypeKind::String ||
         k == TypeKind::Time || k == TypeKind::Duration;
}

} // namespace

std::vector<std::string> Checker::functionNames(std::size_t module) const {
  std::vector<std::string> out = {"count", "sum",  "avg", "min",      "max",
                                  "first", "last", "if",  "coalesce", "count_distinct"};
  for (const auto &f : stdlib::kFunctions) {
    out.emplace_back(f.name);
  }
  for (auto &d : defNamesIn(module)) {
    out.push_back(d);
  }
  return out;
}

bool Checker::arityOk(const ast::Expr &e, std::size_t min, std::size_t max,
                      const std::string &signature) {
  std::size_t n = e.children.size();
  if (n >= min && n <= max) {
    return true;
  }
  std::string expected = min == max ? argumentsText(min)
                         : max == static_cast<std::size_t>(-1)
                             ? "at least " + argumentsText(min)
                             : std::to_string(min) + " to " + argumentsText(max);
  error(e.range, "`" + e.name.name + "` takes " + expected + ", but " + std::to_string(n) +
                     (n == 1 ? " was" : " were") + " given")
      .note("expected `" + signature + "`");
  return false;
}

typed::ExprPtr Checker::checkCall(const ast::Expr &e, const Scope &scope) {
  const std::string &name = e.name.name;
  std::size_t n = e.children.size();
  if (name == "count") {
    return checkAggregate(e, scope, Op::Count);
  }
  if (name == "sum") {
    return checkAggregate(e, scope, Op::Sum);
  }
  if (name == "avg") {
    return checkAggregate(e, scope, Op::Avg);
  }
  if (name == "count_distinct") {
    if (!scope.aggregate_decl) {
      error(e.range, "`count_distinct` is for aggregate declarations (`aggregate ... window ...`), "
                     "not for a pattern's loop")
          .note("on a loop, `count(s)` counts its events and `count(s.f)` its non-null values");
      return errorNode(e.range);
    }
    return checkAggregate(e, scope, Op::CountDistinct);
  }
  if (name == "min" && n == 1) {
    return checkAggregate(e, scope, Op::Min);
  }
  if (name == "max" && n == 1) {
    return checkAggregate(e, scope, Op::Max);
  }
  if (name == "first" || name == "last") {
    std::string example = n == 1 ? sourceText(e.children[0]->range) : "s";
    error(e.range, "`" + sourceText(e.range) + "` is a whole event, not a value: use one of its " +
                       "fields, as in `" + name + "(" + example + ").amount`");
    return errorNode(e.range);
  }
  if (name == "if") {
    return checkIf(e, scope);
  }
  if (name == "coalesce") {
    return checkCoalesce(e, scope);
  }
  const DeclRef *decl = lookupDecl(scope.module, name);
  const stdlib::FunctionInfo *builtin = stdlib::findFunction(name);
  if ((decl != nullptr && decl->kind == DeclRef::Kind::Def) || builtin != nullptr) {
    if (scope.kind == ScopeKind::Const) {
      if (decl != nullptr && decl->kind == DeclRef::Kind::Def) {
        defs_[decl->index].used = true;
      }
      error(e.range, (scope.clause != nullptr ? "`" + std::string(scope.clause) +
                                                    "` takes a constant duration: it can only "
                                                    "use literals, operators and consts"
                                              : std::string("a const can only use literals, lists, "
                                                            "operators and other consts")) +
                         ", not calls to `" + name + "`");
      return errorNode(e.range);
    }
    if (builtin != nullptr) {
      return checkBuiltin(e, scope);
    }
    return inlineDef(decl->index, e, scope);
  }
  if (decl != nullptr) {
    consts_[decl->index].used = true;
    error(e.name.range, "`" + name + "` is a const, not a function");
    return errorNode(e.range);
  }
  Report r = error(e.name.range, "unknown function `" + name + "`");
  if (auto best = closestMatch(name, functionNames(scope.module))) {
    r.note("did you mean `" + *best + "`?");
  }
  noteNotImported(r, scope.module, name);
  for (const auto &arg : e.children) {
    checkExpr(*arg, scope); // errors inside the arguments still count
  }
  return errorNode(e.range);
}

// --- built-ins -------------------------------------------------------------------------------

typed::ExprPtr Checker::checkBuiltin(const ast::Expr &e, const Scope &scope) {
  const stdlib::FunctionInfo &info = *stdlib::findFunction(e.name.name);
  std::string signature(info.signature);
  auto max =
      info.max_args < 0 ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(info.max_args);
  if (!arityOk(e, static_cast<std::size_t>(info.min_args), max, signature)) {
    for (const auto &arg : e.children) {
      checkExpr(*arg, scope);
    }
    return errorNode(e.range);
  }
  std::vector<typed::ExprPtr> args;
  bool failed = false;
  bool nullable = false;
  for (const auto &arg : e.children) {
    args.push_back(checkValue(*arg, scope));
    failed = failed || args.back()->type.isError();
    nullable = nullable || args.back()->type.nullable;
  }
  if (failed) {
    return errorNode(e.range);
  }
  auto wrong = [&](std::size_t i, const std::string &expected) {
    error(e.children[i]->range, "argument " + ordinal(i) + " of `" + e.name.name + "` must be " +
                                    expected + ", not `" + typeText(args[i]->type) + "`")
        .note("expected `" + signature + "`");
    return errorNode(e.range);
  };
  TypeKind result = TypeKind::Error;
  if (info.id == FunctionId::Abs) {
    TypeKind k = args[0]->type.kind;
    if (k != TypeKind::Int && k != TypeKind::Float && k != TypeKind::Duration) {
      return wrong(0, "a number or a duration");
    }
    result = k;
  } else if (info.id == FunctionId::Min || info.id == FunctionId::Max) {
    Type common = args[0]->type;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (!isOrdered(args[i]->type.kind)) {
        return wrong(i, "`int`, `float`, `time`, `duration` or `string`");
      }
      auto u = unify(common, args[i]->type);
      if (!u) {
        return wrong(i, "`" + typeText(common.asNullable(false)) + "` like the first argument");
      }
      common = *u;
    }
    result = common.kind;
    for (auto &a : args) {
      a = widen(std::move(a), result);
    }
  } else {
    auto sig = fixedSignature(info.id);
    CEP_ASSERT(sig.has_value(), "a built-in function without a signature");
    for (std::size_t i = 0; i < args.size(); ++i) {
      TypeKind want = sig->params[i];
      TypeKind have = args[i]->type.kind;
      if (have == want) {
        continue;
      }
      if (want == TypeKind::Float && have == TypeKind::Int) {
        args[i] = widen(std::move(args[i]), TypeKind::Float);
        continue;
      }
      return wrong(i, "`" + std::string(typeKindName(want)) + "`");
    }
    result = sig->result;
  }
  auto call = node(Op::Call, Type::of(result, nullable), e.range);
  call->function = static_cast<std::int32_t>(info.id);
  call->args = std::move(args);
  return call;
}

// --- if, coalesce ----------------------------------------------------------------------------

typed::ExprPtr Checker::checkIf(const ast::Expr &e, const Scope &scope) {
  const std::string signature = "if(condition: bool, then, else) -> the type of both branches";
  if (!arityOk(e, 3, 3, signature)) {
    for (const auto &arg : e.children) {
      checkExpr(*arg, scope);
    }
    return errorNode(e.range);
  }
  typed::ExprPtr c = checkBool(*e.children[0], scope, "the condition of `if`");
  typed::ExprPtr a = checkExpr(*e.children[1], scope);
  requireValue(a, *e.children[1], true);
  typed::ExprPtr b = checkExpr(*e.children[2], scope);
  requireValue(b, *e.children[2], true);
  if (c->type.isError() || a->type.isError() || b->type.isError()) {
    return errorNode(e.range);
  }
  auto t = unify(a->type, b->type);
  if (!t) {
    error(e.range, "the two branches of `if` must have one type, but they are `" +
                       typeText(a->type) + "` and `" + typeText(b->type) + "`");
    return errorNode(e.range);
  }
  retypeNull(*a, *t);
  retypeNull(*b, *t);
  auto n = node(Op::If, *t, e.range);
  n->args.push_back(std::move(c));
  n->args.push_back(widen(std::move(a), t->kind));
  n->args.push_back(widen(std::move(b), t->kind));
  fold(n);
  return n;
}

typed::ExprPtr Checker::checkCoalesce(const ast::Expr &e, const Scope &scope) {
  const std::string signature = "coalesce(a, b, ...) -> the first argument that is not null";
  if (!arityOk(e, 2, static_cast<std::size_t>(-1), signature)) {
    for (const auto &arg : e.children) {
      checkExpr(*arg, scope);
    }
    return errorNode(e.range);
  }
  std::vector<typed::ExprPtr> args;
  bool failed = false;
  for (const auto &arg : e.children) {
    args.push_back(checkExpr(*arg, scope));
    requireValue(args.back(), *arg, true);
    failed = failed || args.back()->type.isError();
  }
  if (failed) {
    return errorNode(e.range);
  }
  Type common = args[0]->type;
  bool any_non_null = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto u = unify(common, args[i]->type);
    if (!u) {
      error(e.children[i]->range,
            "the arguments of `coalesce` must have one type, but this one is `" +
                typeText(args[i]->type) + "` and the first is `" + typeText(args[0]->type) + "`");
      return errorNode(e.range);
    }
    common = *u;
    any_non_null = any_non_null || !args[i]->type.nullable;
  }
  // Non-null as soon as one argument can never be null: that one is picked at the latest.
  common.nullable = !any_non_null;
  auto n = node(Op::Coalesce, common, e.range);
  for (auto &a : args) {
    retypeNull(*a, common);
    n->args.push_back(widen(std::move(a), common.kind));
  }
  fold(n);
  return n;
}

// --- aggregates ------------------------------------------------------------------------------

typed::ExprPtr Checker::checkAggregate(const ast::Expr &e, const Scope &scope, Op op) {
  const std::string &name = e.name.name;
  if (scope.kind == ScopeKind::Condition && scope.aggregate_decl) {
    reportAggregateInStep(e.range, name, scope);
    return errorNode(e.range);
  }
  if (aggregate_ != nullptr) {
    if (!aggregate_->reported) {
      error(e.range, "aggregates cannot be nested: `" + name + "` inside another aggregate");
      aggregate_->reported = true;
    }
    return errorNode(e.range);
  }
  std::string example = op == Op::Count ? "count(s)` or `count(s.merchant)" : name + "(s.amount)";
  if (e.children.size() != 1) {
    error(e.range, "`" + name + "` takes one argument, as in `" + example + "`");
    return errorNode(e.range);
  }
  const ast::Expr &arg = *e.children[0];

  // A bare step name: count(s) counts its events; other aggregates need a value per event.
  if (arg.kind == ast::ExprKind::Name) {
    bool is_field = false;
    if (scope.kind == ScopeKind::Condition) {
      std::int32_t ev = (*scope.steps)[static_cast<std::size_t>(scope.current)].event;
      is_field =
          ev >= 0 && program_.event_types[static_cast<std::size_t>(ev)].fieldIndex(arg.text) >= 0;
    }
    StepRef ref = is_field ? StepRef{} : lookupStep(arg.text, arg.range, scope);
    if (ref.kind == StepRef::Kind::Error) {
      return errorNode(e.range);
    }
    if (ref.kind == StepRef::Kind::Event) {
      std::string example_field = "f";
      if (ref.event >= 0 &&
          !program_.event_types[static_cast<std::size_t>(ref.event)].fields.empty()) {
        example_field = program_.event_types[static_cast<std::size_t>(ref.event)].fields[0].name;
      }
      Report r = error(e.range, "`" + name + "` ranges over a looping step, but `" + arg.text +
                                    "` matches a single event");
      if (op != Op::Count) {
        r.note("use its field directly, as in `" + arg.text + "." + example_field + "`");
      }
      return errorNode(e.range);
    }
    if (ref.kind == StepRef::Kind::Loop) {
      if (op == Op::Count) {
        auto n = node(Op::Count, Type::of(TypeKind::Int), e.range);
        n->step = ref.step;
        return n;
      }
      std::string f = "amount";
      if (ref.event >= 0) {
        f = exampleField(program_.event_types[static_cast<std::size_t>(ref.event)],
                         [](const Type &t) { return t.isNumeric(); });
      }
      error(e.range, "`" + name + "` needs a value for each event of `" + arg.text + "`, as in `" +
                         name + "(" + arg.text + "." + f + ")`");
      return errorNode(e.range);
    }
  }

  AggregateState state;
  aggregate_ = &state;
  typed::ExprPtr x = checkValue(arg, scope);
  aggregate_ = nullptr;
  if (x->type.isError() || state.reported) {
    return errorNode(e.range);
  }
  if (state.loop < 0) {
    if (!state.single_name.empty()) {
      error(e.range, "`" + name + "` ranges over a looping step, but `" + state.single_name +
                         "` matches a single event")
          .note("use its field directly, as in `" + state.single_name + "." + state.single_field +
                "`");
    } else if (op == Op::Min || op == Op::Max) {
      error(e.range, "`" + name + "` with one argument is an aggregate over a looping step, as " +
                         "in `" + name + "(s.amount)`")
          .note("to pick the " + std::string(op == Op::Min ? "smaller" : "larger") +
                " of several values, give it two or more: `" + name + "(a, b)`");
    } else {
      error(e.range,
            "`" + name + "` needs an expression over a looping step, as in `" + example + "`");
    }
    return errorNode(e.range);
  }
  TypeKind k = x->type.kind;
  Type t;
  switch (op) {
  case Op::Count:
    op = Op::CountOf;
    t = Type::of(TypeKind::Int);
    break;
  case Op::Sum:
    if (k != TypeKind::Int && k != TypeKind::Float && k != TypeKind::Duration) {
      error(arg.range, "`sum` adds numbers or durations, not `" + typeText(x->type) + "`");
      return errorNode(e.range);
    }
    t = Type::of(k);
    break;
  case Op::Avg:
    if (k != TypeKind::Int && k != TypeKind::Float) {
      error(arg.range, "`avg` averages numbers, not `" + typeText(x->type) + "`");
      return errorNode(e.range);
    }
    // Over a loop that may bind no value: nullable. A window an aggregate declaration writes
    // holds at least one event, so there only a nullable argument makes it nullable.
    t = Type::of(TypeKind::Float, !in_aggregate_decl_ || x->type.nullable);
    x = widen(std::move(x), TypeKind::Float);
    break;
  case Op::CountDistinct: // every scalar value can be hashed; lists and `null` are not values
    t = Type::of(TypeKind::Int);
    break;
  default: // Min, Max
    if (!isOrdered(k)) {
      error(arg.range, "`" + name + "` needs `int`, `float`, `time`, `duration` or `string` " +
                           "values, not `" + typeText(x->type) + "`");
      return errorNode(e.range);
    }
    t = Type::of(k, !in_aggregate_decl_ || x->type.nullable); // as avg
    break;
  }
  auto n = node(op, t, e.range);
  n->step = state.loop;
  n->args.push_back(std::move(x));
  return n;
}

typed::ExprPtr Checker::checkFirstLast(const ast::Expr &member, const Scope &scope) {
  const ast::Expr &call = *member.children[0];
  const std::string &name = call.name.name;
  Op op = name == "first" ? Op::First : Op::Last;
  if (scope.kind == ScopeKind::Condition && scope.aggregate_decl) {
    reportAggregateInStep(call.range, name, scope);
    return errorNode(member.range);
  }
  if (aggregate_ != nullptr) {
    if (!aggregate_->reported) {
      error(call.range, "aggregates cannot be nested: `" + name + "` inside another aggregate");
      aggregate_->reported = true;
    }
    return errorNode(member.range);
  }
  if (call.children.size() != 1 || call.children[0]->kind != ast::ExprKind::Name) {
    error(call.range,
          "`" + name + "` takes a looping step, as in `" + name + "(s)." + member.name.name + "`");
    return errorNode(member.range);
  }
  const ast::Expr &arg = *call.children[0];
  StepRef ref = lookupStep(arg.text, arg.range, scope);
  switch (ref.kind) {
  case StepRef::Kind::Error:
    return errorNode(member.range);
  case StepRef::Kind::NotAStep: {
    std::vector<std::string> candidates;
    if (scope.steps != nullptr) {
      for (const auto &s : *scope.steps) {
        if (s.looping && !s.negated) {
          candidates.push_back(s.name);
        }
      }
    }
    Report r = error(arg.range,
                     "`" + name + "` takes a looping step, and `" + arg.text + "` is not a step");
    if (auto best = closestMatch(arg.text, candidates)) {
      r.note("did you mean `" + *best + "`?");
    }
    return errorNode(member.range);
  }
  case StepRef::Kind::Event:
    error(call.range, "`" + arg.text + "` matches a single event: write `" + arg.text + "." +
                          member.name.name + "` instead of `" + name + "(" + arg.text + ")." +
                          member.name.name + "`");
    return errorNode(member.range);
  case StepRef::Kind::Loop:
    break;
  }
  return fieldOf(ref, member, member.name, op);
}

// --- defs ------------------------------------------------------------------------------------

bool Checker::spend(std::size_t nodes) {
  if (expansion_.chain.empty()) {
    return true;
  }
  if (expansion_.exceeded) {
    return false;
  }
  expansion_.nodes += nodes;
  if (expansion_.nodes > kMaxDefExpansion) {
    expansion_.exceeded = true;
    expansion_.over = expansion_.chain;
    return false;
  }
  return true;
}

void Checker::reportTooLarge(std::size_t index, const ast::Expr &call) {
  if (!too_large_.insert(index).second) {
    return; // one error per def: its other calls would repeat it
  }
  std::string chain;
  for (std::size_t d : expansion_.over) {
    chain += (chain.empty() ? "`" : " -> `") + defs_[d].decl->name.name + "`";
  }
  error(call.range, "this call of `" + call.name.name + "` expands to more than " +
                        std::to_string(kMaxDefExpansion) +
                        " expression nodes, the limit for one def call")
      .note("defs are inlined at every call, and this one grows through " + chain +
            ": a def that calls another several times multiplies its size");
}

typed::ExprPtr Checker::checkDefBody(std::size_t index, const std::vector<ParamBinding> &params) {
  const DefInfo &def = defs_[index];
  Scope scope;
  scope.kind = ScopeKind::Def;
  scope.module = def.module;
  scope.params = &params;
  scope.def_name = def.decl->name.name;
  typed::ExprPtr x = checkExpr(*def.decl->body, scope);
  if (!x->type.isError() && x->type.kind == TypeKind::Null) {
    error(def.decl->body->range, "the body of `" + def.decl->name.name + "` is always `null`, " +
                                     "so its type is unknown");
    return errorNode(def.decl->body->range);
  }
  requireValue(x, *def.decl->body, false);
  return x;
}

typed::ExprPtr Checker::inlineDef(std::size_t index, const ast::Expr &e, const Scope &scope) {
  defs_[index].used = true;
  ensureDef(index, e.range);
  const DefInfo &def = defs_[index];
  std::string signature = def.decl->name.name + "(";
  for (std::size_t i = 0; i < def.params.size(); ++i) {
    signature += (i > 0 ? ", " : "") + def.params[i].name + ": " + typeText(def.params[i].type);
  }
  signature += ")";
  if (!def.result.isError()) {
    signature += " -> " + typeText(def.result.asNullable(false));
  }
  if (e.children.size() != def.params.size()) {
    error(e.range, "`" + e.name.name + "` takes " + argumentsText(def.params.size()) + ", but " +
                       std::to_string(e.children.size()) +
                       (e.children.size() == 1 ? " was" : " were") + " given")
        .note("`" + signature + "` is declared here", def.decl->name.range);
    for (const auto &arg : e.children) {
      checkExpr(*arg, scope);
    }
    return errorNode(e.range);
  }

  std::vector<typed::ExprPtr> args(def.params.size());
  std::vector<ParamBinding> bindings(def.params.size());
  bool failed = def.result.isError();
  for (std::size_t i = 0; i < def.params.size(); ++i) {
    const DefParam &p = def.params[i];
    const ast::Expr &arg = *e.children[i];
    ParamBinding &b = bindings[i];
    b.name = p.name;
    if (p.type.kind == TypeKind::Event) {
      std::string want = "a single `" + eventName(p.type.event) + "` step";
      StepRef ref;
      if (arg.kind == ast::ExprKind::Name) {
        ref = lookupStep(arg.text, arg.range, scope);
      } else {
        checkExpr(arg, scope);
      }
      if (ref.kind == StepRef::Kind::Error) {
        failed = true;
        continue;
      }
      if (ref.kind == StepRef::Kind::NotAStep || ref.kind == StepRef::Kind::Loop) {
        Report r = error(arg.range,
                         "argument `" + p.name + "` of `" + e.name.name + "` must be " + want +
                             ", and `" + sourceText(arg.range) + "` is " +
                             (ref.kind == StepRef::Kind::Loop ? "a looping step" : "not a step"));
        r.note("`" + signature + "` is declared here", def.decl->name.range);
        failed = true;
        continue;
      }
      if (ref.event >= 0 && p.type.event >= 0 && ref.event != p.type.event) {
        error(arg.range, "argument `" + p.name + "` of `" + e.name.name + "` must be " + want +
                             ", but `" + arg.text + "` is a `" + eventName(ref.event) + "` step")
            .note("`" + signature + "` is declared here", def.decl->name.range);
        failed = true;
        continue;
      }
      b.type = Type::of(TypeKind::Event, ref.nullable);
      b.type.event = p.type.event;
      b.step = ref.step;
      if (ref.event < 0 || p.type.event < 0) {
        failed = true;
      }
      continue;
    }
    if (p.type.isError()) {
      checkExpr(arg, scope); // the parameter's type was reported; only the argument's own errors
      failed = true;
      continue;
    }
    args[i] = checkValue(arg, scope);
    if (args[i]->type.isError()) {
      failed = true;
      continue;
    }
    TypeKind have = args[i]->type.kind;
    if (have != p.type.kind) {
      if (have == TypeKind::Int && p.type.kind == TypeKind::Float) {
        args[i] = widen(std::move(args[i]), TypeKind::Float);
      } else {
        error(arg.range, "argument `" + p.name + "` of `" + e.name.name + "` must be `" +
                             typeText(p.type.asNullable(false)) + "`, not `" +
                             typeText(args[i]->type) + "`")
            .note("`" + signature + "` is declared here", def.decl->name.range);
        failed = true;
        continue;
      }
    }
    b.type = p.type.asNullable(p.type.nullable || args[i]->type.nullable);
    b.arg = args[i].get();
  }
  if (failed) {
    return errorNode(e.range);
  }

  bool outermost = expansion_.chain.empty();
  if (outermost) {
    expansion_ = Expansion{};
  }
  expansion_.chain.push_back(index);
  auto saved_range = inline_range_;
  if (!inline_range_) {
    inline_range_ = e.range;
  }
  ++quiet_;
  std::size_t errors_before = quiet_errors_;
  typed::ExprPtr body = checkDefBody(index, bindings);
  --quiet_;
  inline_range_ = saved_range;
  expansion_.chain.pop_back();
  if (expansion_.exceeded) {
    if (outermost) {
      reportTooLarge(index, e);
    }
    return errorNode(e.range);
  }
  if (quiet_errors_ != errors_before) {
    // The body checked on its own but not with these arguments (e.g. a division by a constant
    // zero once the argument is substituted).
    error(e.range, "`" + e.name.name + "` cannot be used with these arguments: its body has an " +
                       "error once they are substituted (for example a division by zero)");
    return errorNode(e.range);
  }
  return body;
}

} // namespace cep::lang
