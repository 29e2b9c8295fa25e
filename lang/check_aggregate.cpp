// Aggregate declarations (spec §8): the window and its sizes, `lateness`, `ttl`, the key, the
// one step and its condition (no aggregate functions there), `having`, the emit, and the
// distinct aggregate calls a backend keeps one accumulator for. What an aggregate cannot have
// at all (`within`, `skip`, more steps, quantifiers, ...) is reported by the parser.
#include "lang/checker.hpp"
#include "lang/typed_printer.hpp"
#include "support/internal_error.hpp"

#include <cstring>

namespace cep::lang {

using typed::Op;

namespace {

bool isAggregateCall(const typed::Expr &e) {
  switch (e.op) {
  case Op::Count:
  case Op::CountOf:
  case Op::Sum:
  case Op::Avg:
  case Op::Min:
  case Op::Max:
  case Op::CountDistinct:
  case Op::First:
  case Op::Last:
    return true;
  default:
    return false;
  }
}

bool sameValue(const typed::Value &a, const typed::Value &b) {
  if (a.kind != b.kind || a.is_null != b.is_null || a.b != b.b || a.i != b.i || a.s != b.s ||
      std::memcmp(&a.f, &b.f, sizeof a.f) != 0 || a.list.size() != b.list.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.list.size(); ++i) {
    if (!sameValue(a.list[i], b.list[i])) {
      return false;
    }
  }
  return true;
}

// Structural equality: the same computation over the same fields.
bool sameExpr(const typed::Expr &a, const typed::Expr &b) {
  if (a.op != b.op || a.type != b.type || a.step != b.step || a.field != b.field ||
      a.function != b.function || !sameValue(a.value, b.value) || a.args.size() != b.args.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.args.size(); ++i) {
    if (!sameExpr(*a.args[i], *b.args[i])) {
      return false;
    }
  }
  return true;
}

bool timeWindow(typed::WindowKind k) {
  return k != typed::WindowKind::Rolling && k != typed::WindowKind::None;
}

} // namespace

void Checker::reportAggregateInStep(SourceRange range, const std::string &function,
                                    const Scope &scope) {
  std::string step = scope.steps != nullptr && !scope.steps->empty() ? scope.steps->front().name
                                                                     : std::string("p");
  error(range, "an aggregate's step condition cannot use `" + function +
                   "`: it tests each event on its own, before the event is counted")
      .note("to keep only some windows, test the aggregate in `having`, as in `having count(" +
            step + ") > 10`");
}

std::optional<std::int64_t> Checker::checkDuration(const ast::Expr &e, std::size_t module,
                                                   const char *clause, bool zero_ok) {
  Scope scope;
  scope.kind = ScopeKind::Const;
  scope.module = module;
  scope.clause = clause;
  typed::ExprPtr x = checkExpr(e, scope);
  if (x->type.isError()) {
    return std::nullopt;
  }
  if (x->type.kind != TypeKind::Duration || x->value.is_null) {
    Report r = error(e.range, "`" + std::string(clause) + "` needs a duration such as `1h`, not `" +
                                  typeText(x->type) + "`");
    if (x->type.isNumeric()) {
      r.note("write the unit: `250ms`, `30s`, `5m`, `2h`, `1d`");
    }
    return std::nullopt;
  }
  CEP_ASSERT(x->op == Op::Literal, "a duration clause did not fold to a literal");
  std::int64_t ms = x->value.i;
  if (ms < 0 || (ms == 0 && !zero_ok)) {
    error(e.range, "`" + std::string(clause) + "` must be " +
                       (zero_ok ? "zero or a positive duration" : "a positive duration") +
                       ", not `" + sourceText(e.range) + "`");
    return std::nullopt;
  }
  return ms;
}

void Checker::checkWindow(const ast::Window &w, std::size_t module, typed::Aggregate &out) {
  switch (w.kind) {
  case ast::WindowKind::Tumbling:
    out.window.kind = typed::WindowKind::Tumbling;
    break;
  case ast::WindowKind::Hopping:
    out.window.kind = typed::WindowKind::Hopping;
    break;
  case ast::WindowKind::Cumulate:
    out.window.kind = typed::WindowKind::Cumulate;
    break;
  case ast::WindowKind::Session:
    out.window.kind = typed::WindowKind::Session;
    break;
  case ast::WindowKind::Rolling:
    out.window.kind = typed::WindowKind::Rolling;
    break;
  case ast::WindowKind::None:
    out.window.kind = typed::WindowKind::None;
    return;
  }
  std::optional<std::int64_t> size, slide;
  if (w.size) {
    size = checkDuration(*w.size, module, "window", false);
  }
  if (w.slide) {
    slide = checkDuration(*w.slide, module, "window", false);
  }
  if (size) {
    out.window.size_ms = *size;
  }
  if (!w.slide || !size || !slide) {
    return;
  }
  out.window.slide_ms = *slide;
  if (*size % *slide != 0) {
    const bool hopping = w.kind == ast::WindowKind::Hopping;
    const char *word = hopping ? "every" : "step";
    std::int64_t up = (*size / *slide + 1) * *slide;
    error(w.slide->range, std::string("the size of a ") + (hopping ? "hopping" : "cumulate") +
                              " window must be a multiple of its " +
                              (hopping ? "hop (`every`)" : "`step`") + ", but " +
                              sourceText(w.size->range) + " is not a multiple of " +
                              sourceText(w.slide->range))
        .note(std::string(hopping ? "use a hop" : "use a step") +
              " that divides the size, or a size such as `window " + ast::windowKindText(w.kind) +
              " " + durationText(up) + " " + word + " " + sourceText(w.slide->range) + "`");
  }
}

void Checker::collectCalls(typed::Expr &e, typed::Aggregate &out) {
  if (!isAggregateCall(e)) {
    for (auto &a : e.args) {
      collectCalls(*a, out);
    }
    return;
  }
  for (std::size_t i = 0; i < out.calls.size(); ++i) {
    const typed::AggregateCall &c = out.calls[i];
    bool same = c.op == e.op && c.type == e.type && c.field == e.field &&
                (c.arg == nullptr) == e.args.empty() &&
                (c.arg == nullptr || sameExpr(*c.arg, *e.args[0]));
    if (same) {
      e.call = static_cast<std::int32_t>(i);
      return;
    }
  }
  typed::AggregateCall c;
  c.op = e.op;
  c.type = e.type;
  c.field = e.field;
  c.range = e.range;
  if (!e.args.empty()) {
    c.arg = cloneExpr(*e.args[0]);
  }
  e.call = static_cast<std::int32_t>(out.calls.size());
  out.calls.push_back(std::move(c));
}

std::optional<typed::Aggregate> Checker::checkAggregateDecl(std::size_t module,
                                                            const ast::Aggregate &a) {
  typed::Aggregate out;
  out.name = a.name.name;
  out.range = a.range;
  const std::size_t errors_before = diags_.errorCount();
  in_aggregate_decl_ = true;

  if (a.window) {
    checkWindow(*a.window, module, out);
  }
  const bool time_window = a.window && timeWindow(out.window.kind);
  if (a.lateness) {
    if (a.window && !time_window) {
      error(a.lateness_range, std::string("`lateness` applies to time windows, not to a `") +
                                  ast::windowKindText(a.window->kind) +
                                  "` window: it writes a record at each event, so a late event "
                                  "has no window to revise")
          .note("remove `" + sourceText(a.lateness_range) +
                "`; late events go to the late output (`--late-output`)");
    } else {
      out.lateness_ms = checkDuration(*a.lateness, module, "lateness", true);
    }
  }
  if (a.ttl) {
    if (time_window) {
      error(a.ttl_range, std::string("`ttl` applies to `rolling` and `none` windows, not to a `") +
                             ast::windowKindText(a.window->kind) +
                             "` window: its state is dropped when the window closes")
          .note("remove `" + sourceText(a.ttl_range) + "`");
    } else {
      out.ttl_ms = checkDuration(*a.ttl, module, "ttl", false);
    }
  }

  // The step: read as a single event in its condition, as a complete loop in having and emit.
  const ast::Step &s = a.step;
  if (!s.name) {
    in_aggregate_decl_ = false;
    return std::nullopt; // only a negated step may omit its name: reported by the parser
  }
  StepInfo info;
  info.name = s.name->name;
  info.name_range = s.name->range;
  info.event = lookupEvent(module, s.type);
  out.step.name = s.name->name;
  out.step.event_type = info.event;
  out.step.min = 1;
  out.step.max = typed::kUnbounded;
  out.step.range = s.range;
  std::vector<StepInfo> single = {info};
  info.looping = true;
  std::vector<StepInfo> loop = {info};

  if (s.condition) {
    Scope scope;
    scope.kind = ScopeKind::Condition;
    scope.module = module;
    scope.steps = &single;
    scope.current = 0;
    scope.aggregate_decl = true;
    typed::ExprPtr c = checkBool(*s.condition, scope, "a step's condition");
    requireSize(c, *s.condition, "this condition");
    if (!c->type.isError()) {
      out.step.condition = std::move(c);
    }
  }

  std::vector<const ast::Ident *> step_types = {&s.type};
  checkKey(a.partition_by, step_types, single, "aggregate", out.key_fields, out.key_types,
           out.key_index);

  if (a.having) {
    Scope scope;
    scope.kind = ScopeKind::Emit;
    scope.module = module;
    scope.steps = &loop;
    scope.aggregate_decl = true;
    typed::ExprPtr h = checkBool(*a.having, scope, "`having`");
    requireSize(h, *a.having, "`having`");
    if (!h->type.isError()) {
      out.having = std::move(h);
    }
  }
  out.emit = checkEmit(a.emit, module, loop, false, true);
  in_aggregate_decl_ = false;

  if (diags_.errorCount() != errors_before) {
    return out; // not part of a program (there is none with errors); calls are not numbered
  }
  if (out.having) {
    collectCalls(*out.having, out);
  }
  for (auto &f : out.emit.fields) {
    collectCalls(*f.value, out);
  }
  warnAggregateCannotWork(a, out);
  return out;
}

} // namespace cep::lang
