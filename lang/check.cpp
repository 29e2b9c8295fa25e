// The checker's driver: runs the passes in order and assembles the typed program. Also the small
// helpers every pass uses to report diagnostics and to name types in messages.
#include "lang/check.hpp"

#include "lang/checker.hpp"
#include "support/internal_error.hpp"

namespace cep::lang {

std::optional<typed::Program>
checkProgram(const std::vector<ast::Module> &modules,
             const std::vector<std::vector<std::size_t>> &resolved_imports,
             const SourceManager &sources, DiagnosticEngine &diags) {
  Checker checker(modules, resolved_imports, sources, diags);
  return checker.run();
}

Checker::Checker(const std::vector<ast::Module> &modules,
                 const std::vector<std::vector<std::size_t>> &resolved_imports,
                 const SourceManager &sources, DiagnosticEngine &diags)
    : modules_(modules), imports_(resolved_imports), sources_(sources), diags_(diags) {}

std::optional<typed::Program> Checker::run() {
  computeVisibility();
  collectEventTypes();
  buildScopes();
  checkDefs();
  checkConsts();
  checkPatterns();
  warnUnused();
  if (!diags_.hasErrors()) {
    warnMixedTime();
  }
  if (diags_.hasErrors()) {
    return std::nullopt;
  }
  verify();
  return std::move(program_);
}

Checker::Report &Checker::Report::note(std::string message, std::optional<SourceRange> range) {
  if (d_ != nullptr) {
    d_->notes.push_back({range, std::move(message)});
  }
  return *this;
}

Checker::Report Checker::error(SourceRange range, std::string message) {
  if (quiet_ > 0) {
    ++quiet_errors_;
    return Report(nullptr);
  }
  return Report(&diags_.error(range, std::move(message)));
}

Checker::Report Checker::warning(SourceRange range, std::string message) {
  if (quiet_ > 0) {
    return Report(nullptr);
  }
  return Report(&diags_.warning(range, std::move(message)));
}

std::string Checker::fileName(std::size_t module) const {
  return sources_.file(modules_[module].file).path();
}

std::string Checker::sourceText(SourceRange range) const {
  return std::string(sources_.slice(range));
}

std::string Checker::eventName(std::int32_t event) const {
  if (event < 0 || static_cast<std::size_t>(event) >= program_.event_types.size()) {
    return "event";
  }
  return program_.event_types[static_cast<std::size_t>(event)].name;
}

std::string Checker::typeText(const Type &t) const {
  switch (t.kind) {
  case TypeKind::Event:
    return eventName(t.event) + (t.nullable ? "?" : "");
  case TypeKind::Loop:
    return "several `" + eventName(t.event) + "` events";
  case TypeKind::Null:
    return "null";
  default:
    return typeName(t);
  }
}

namespace {

// Every expression of a checked program has a value type; step references only as fields.
void verifyExpr(const typed::Expr &e, const typed::Program &program, const typed::Pattern &p) {
  using typed::Op;
  TypeKind k = e.type.kind;
  CEP_ASSERT(k != TypeKind::Error && k != TypeKind::Event && k != TypeKind::Loop &&
                 k != TypeKind::List,
             "an expression without a value type in pattern " + p.name);
  CEP_ASSERT(k != TypeKind::Null || e.op == Op::Literal, "a null-typed operator in " + p.name);
  switch (e.op) {
  case Op::Field:
  case Op::First:
  case Op::Last: {
    CEP_ASSERT(e.step >= typed::kCandidate && e.step < static_cast<std::int32_t>(p.steps.size()),
               "a field of an unknown step in " + p.name);
    CEP_ASSERT(e.field >= 0, "a step used as a value in " + p.name);
    break;
  }
  case Op::Count:
  case Op::CountOf:
  case Op::Sum:
  case Op::Avg:
  case Op::Min:
  case Op::Max:
    CEP_ASSERT(e.step >= 0 && p.steps[static_cast<std::size_t>(e.step)].looping(),
               "an aggregate over a step that is not a loop in " + p.name);
    CEP_ASSERT(e.args.size() == (e.op == Op::Count ? 0U : 1U), "aggregate arity in " + p.name);
    break;
  case Op::Call:
    CEP_ASSERT(e.function >= 0, "a call without a function in " + p.name);
    break;
  default:
    break;
  }
  for (const auto &a : e.args) {
    CEP_ASSERT(a != nullptr, "a missing operand in " + p.name);
    verifyExpr(*a, program, p);
  }
}

// An expression of aggregate `a`: in its step's condition (`condition`) fields are of the event
// being tested and no aggregate function occurs; in `having` and `emit` every aggregate node
// reads one of a.calls and fields occur only inside their arguments, of step 0.
void verifyAggregateExpr(const typed::Expr &e, const typed::Aggregate &a, bool condition,
                         bool in_call) {
  using typed::Op;
  TypeKind k = e.type.kind;
  CEP_ASSERT(k != TypeKind::Error && k != TypeKind::Event && k != TypeKind::Loop &&
                 k != TypeKind::List,
             "an expression without a value type in aggregate " + a.name);
  switch (e.op) {
  case Op::Field:
    CEP_ASSERT(condition ? e.step == typed::kCandidate : in_call && e.step == 0,
               "a field out of place in aggregate " + a.name);
    break;
  case Op::First:
  case Op::Last:
  case Op::Count:
  case Op::CountOf:
  case Op::Sum:
  case Op::Avg:
  case Op::Min:
  case Op::Max:
  case Op::CountDistinct:
    CEP_ASSERT(!condition && !in_call && e.step == 0 && e.call >= 0 &&
                   static_cast<std::size_t>(e.call) < a.calls.size() &&
                   a.calls[static_cast<std::size_t>(e.call)].op == e.op,
               "an aggregate function out of place in aggregate " + a.name);
    in_call = true;
    break;
  default:
    CEP_ASSERT(e.call < 0, "an accumulator read on a plain node in aggregate " + a.name);
    break;
  }
  for (const auto &arg : e.args) {
    CEP_ASSERT(arg != nullptr, "a missing operand in aggregate " + a.name);
    verifyAggregateExpr(*arg, a, condition, in_call);
  }
}

} // namespace

void Checker::verify() const {
  for (const auto &a : program_.aggregates) {
    CEP_ASSERT(a.step.event_type >= 0, "an aggregate step without an event type");
    CEP_ASSERT(a.key_index.size() == program_.event_types.size(), "aggregate key_index size");
    CEP_ASSERT(a.emit.stream >= 0, "an aggregate emit without a stream");
    CEP_ASSERT((a.window.kind == typed::WindowKind::None) == (a.window.size_ms == 0),
               "an aggregate window without its size");
    if (a.step.condition) {
      verifyAggregateExpr(*a.step.condition, a, true, false);
    }
    if (a.having) {
      verifyAggregateExpr(*a.having, a, false, false);
    }
    for (const auto &f : a.emit.fields) {
      verifyAggregateExpr(*f.value, a, false, false);
    }
  }
  for (const auto &p : program_.patterns) {
    CEP_ASSERT(p.key_index.size() == program_.event_types.size(), "key_index size");
    for (const auto &s : p.steps) {
      CEP_ASSERT(s.event_type >= 0, "a step without an event type");
      CEP_ASSERT(s.min >= 1 && s.min <= s.max, "quantifier not normalised in " + p.name);
      if (s.condition) {
        verifyExpr(*s.condition, program_, p);
      }
      if (s.until) {
        verifyExpr(*s.until, program_, p);
      }
    }
    CEP_ASSERT(p.emit.stream >= 0, "an emit without a stream");
    for (const auto &f : p.emit.fields) {
      verifyExpr(*f.value, program_, p);
    }
    if (p.timeout_emit) {
      CEP_ASSERT(p.timeout_emit->stream >= 0, "a timeout emit without a stream");
      for (const auto &f : p.timeout_emit->fields) {
        verifyExpr(*f.value, program_, p);
      }
    }
  }
}

} // namespace cep::lang
