// Names and fields: what a bare name means in each scope (candidate fields, steps, consts, def
// parameters), step references (earlier only, never negated, loops only through aggregates),
// and field access on steps, event parameters and `first(s)` / `last(s)`.
#include "lang/checker.hpp"
#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::lang {

using typed::Op;

std::string loopHint(const std::string &s, const std::string &f, const Type &t, bool distinct) {
  std::vector<std::string> uses = {"`first(" + s + ")." + f + "`", "`last(" + s + ")." + f + "`",
                                   "`count(" + s + ")`"};
  if (distinct) {
    uses.push_back("`count_distinct(" + s + "." + f + ")`");
  }
  if (t.kind == TypeKind::Int || t.kind == TypeKind::Float || t.kind == TypeKind::Duration) {
    uses.push_back("`sum(" + s + "." + f + ")`");
  }
  if (t.isNumeric()) {
    uses.push_back("`avg(" + s + "." + f + ")`");
  }
  if (t.kind != TypeKind::Bool) {
    uses.push_back("`min(" + s + "." + f + ")`");
    uses.push_back("`max(" + s + "." + f + ")`");
  }
  std::string out = "use ";
  for (std::size_t i = 0; i < uses.size(); ++i) {
    out += (i == 0 ? "" : (i + 1 == uses.size() ? " or " : ", ")) + uses[i];
  }
  return out;
}

// --- names -----------------------------------------------------------------------------------

typed::ExprPtr Checker::constRef(std::size_t index, SourceRange range) {
  ensureConst(index, range);
  ConstInfo &c = consts_[index];
  c.used = true;
  if (c.type.isError() || !spend(c.value.list.size())) {
    return errorNode(range);
  }
  return literal(c.value, c.type, range);
}

StepRef Checker::lookupStep(const std::string &name, SourceRange range, const Scope &scope) {
  StepRef ref;
  ref.name = name;
  if (scope.kind == ScopeKind::Def) {
    if (scope.params == nullptr) {
      return ref;
    }
    for (const auto &b : *scope.params) {
      if (b.name == name && b.type.kind == TypeKind::Event) {
        ref.kind = StepRef::Kind::Event;
        ref.step = b.step;
        ref.event = b.type.event;
        ref.nullable = b.type.nullable;
        return ref;
      }
    }
    return ref;
  }
  if (scope.steps == nullptr || name.empty()) {
    return ref;
  }
  const auto &steps = *scope.steps;
  std::int32_t index = -1;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].name == name) {
      index = static_cast<std::int32_t>(i);
      break;
    }
  }
  if (index < 0) {
    return ref;
  }
  const StepInfo &s = steps[static_cast<std::size_t>(index)];
  ref.event = s.event;
  if (scope.kind == ScopeKind::Condition) {
    if (index == scope.current) {
      if (s.looping) {
        ref.kind = StepRef::Kind::Loop;
        ref.step = index;
        ref.own = true;
      } else {
        ref.kind = StepRef::Kind::Event;
        ref.step = typed::kCandidate;
      }
      return ref;
    }
    if (index > scope.current) {
      error(range, "step `" + name + "` comes later in the pattern; a condition can only refer " +
                       "to earlier steps")
          .note("`" + name + "` is declared here", s.name_range);
      ref.kind = StepRef::Kind::Error;
      return ref;
    }
  }
  if (s.negated) {
    error(range, "step `" + name + "` is negated: it never binds an event, so nothing can " +
                     "refer to it")
        .note("`" + name + "` is declared here", s.name_range);
    ref.kind = StepRef::Kind::Error;
    return ref;
  }
  ref.step = index;
  if (s.looping) {
    ref.kind = StepRef::Kind::Loop;
  } else {
    ref.kind = StepRef::Kind::Event;
    ref.nullable = s.optional || scope.timeout;
  }
  return ref;
}

namespace {

// The typed node a step reference stands for until a field is taken from it.
typed::ExprPtr stepNode(const StepRef &ref, SourceRange range) {
  auto e = std::make_unique<typed::Expr>();
  e->op = Op::Field;
  e->step = ref.step;
  e->field = -1;
  e->type =
      Type::of(ref.kind == StepRef::Kind::Loop ? TypeKind::Loop : TypeKind::Event, ref.nullable);
  e->type.event = ref.event;
  e->range = range;
  return e;
}

} // namespace

typed::ExprPtr Checker::checkName(const ast::Expr &e, const Scope &scope) {
  const std::string &name = e.text;
  switch (scope.kind) {
  case ScopeKind::Const: {
    if (const DeclRef *d = lookupDecl(scope.module, name)) {
      if (d->kind == DeclRef::Kind::Const) {
        return constRef(d->index, e.range);
      }
      defs_[d->index].used = true;
      error(e.range, "`" + name + "` is a def, not a value: " +
                         (scope.clause != nullptr
                              ? "`" + std::string(scope.clause) +
                                    "` takes a constant duration built from literals, operators "
                                    "and consts"
                              : std::string("a const can only use literals, lists, operators and "
                                            "other consts")));
      return errorNode(e.range);
    }
    Report r = error(e.range, "unknown const `" + name + "`" +
                                  (scope.clause != nullptr ? ": `" + std::string(scope.clause) +
                                                                 "` takes a constant duration"
                                                           : std::string()));
    if (auto best = closestMatch(name, constNamesIn(scope.module))) {
      r.note("did you mean `" + *best + "`?");
    }
    noteNotImported(r, scope.module, name);
    return errorNode(e.range);
  }
  case ScopeKind::Def: {
    std::vector<std::string> candidates;
    if (scope.params != nullptr) {
      for (std::size_t i = 0; i < scope.params->size(); ++i) {
        const ParamBinding &b = (*scope.params)[i];
        candidates.push_back(b.name);
        if (b.name != name) {
          continue;
        }
        if (b.type.isError()) {
          return errorNode(e.range);
        }
        if (b.type.kind == TypeKind::Event) {
          StepRef ref = lookupStep(name, e.range, scope);
          return stepNode(ref, nodeRange(e.range));
        }
        if (b.arg != nullptr) {
          if (!spend(expansionSize(*b.arg))) {
            return errorNode(e.range);
          }
          return cloneExpr(*b.arg);
        }
        auto x = node(Op::Field, b.type, e.range);
        x->step = kUncheckedDefParam;
        x->field = static_cast<std::int32_t>(i);
        return x;
      }
    }
    if (const DeclRef *d = lookupDecl(scope.module, name)) {
      if (d->kind == DeclRef::Kind::Const) {
        return constRef(d->index, e.range);
      }
      defs_[d->index].used = true;
      error(e.range, "`" + name + "` is a def: call it with arguments, as in `" + name + "(...)`");
      return errorNode(e.range);
    }
    for (auto &c : constNamesIn(scope.module)) {
      candidates.push_back(c);
    }
    Report r = error(e.range, "unknown name `" + name + "` in def `" + scope.def_name +
                                  "`: it is neither a parameter nor a const");
    if (auto best = closestMatch(name, candidates)) {
      r.note("did you mean `" + *best + "`?");
    }
    noteNotImported(r, scope.module, name);
    return errorNode(e.range);
  }
  case ScopeKind::Condition: {
    const StepInfo &current = (*scope.steps)[static_cast<std::size_t>(scope.current)];
    const typed::EventType *candidate =
        current.event >= 0 ? &program_.event_types[static_cast<std::size_t>(current.event)]
                           : nullptr;
    if (candidate != nullptr) {
      std::int32_t f = candidate->fieldIndex(name);
      if (f >= 0) {
        auto x = node(Op::Field, candidate->fields[static_cast<std::size_t>(f)].type, e.range);
        x->step = typed::kCandidate;
        x->field = f;
        return x;
      }
    }
    StepRef ref = lookupStep(name, e.range, scope);
    if (ref.kind == StepRef::Kind::Error) {
      return errorNode(e.range);
    }
    if (ref.kind != StepRef::Kind::NotAStep) {
      return stepNode(ref, nodeRange(e.range));
    }
    if (const DeclRef *d = lookupDecl(scope.module, name)) {
      if (d->kind == DeclRef::Kind::Const) {
        return constRef(d->index, e.range);
      }
      defs_[d->index].used = true;
      error(e.range, "`" + name + "` is a def: call it with arguments, as in `" + name + "(...)`");
      return errorNode(e.range);
    }
    if (candidate == nullptr) {
      return errorNode(e.range); // the step's event type is unknown (reported)
    }
    std::vector<std::string> fields, others;
    for (const auto &f : candidate->fields) {
      fields.push_back(f.name);
    }
    for (std::int32_t i = 0; i <= scope.current; ++i) {
      const StepInfo &s = (*scope.steps)[static_cast<std::size_t>(i)];
      if (!s.name.empty() && !s.negated) {
        others.push_back(s.name);
      }
    }
    for (auto &c : constNamesIn(scope.module)) {
      others.push_back(c);
    }
    std::vector<std::string> all = fields;
    all.insert(all.end(), others.begin(), others.end());
    auto best = closestMatch(name, all);
    bool field_like = (!best || std::find(fields.begin(), fields.end(), *best) != fields.end()) &&
                      all_decls_.count(name) == 0;
    Report r =
        field_like
            ? error(e.range, "unknown field `" + name + "` on event type `" + candidate->name + "`")
            : error(e.range, "unknown name `" + name + "`: not a field of `" + candidate->name +
                                 "`, a step or a const");
    if (best) {
      r.note("did you mean `" + *best + "`?");
    }
    noteNotImported(r, scope.module, name);
    return errorNode(e.range);
  }
  case ScopeKind::Emit: {
    StepRef ref = lookupStep(name, e.range, scope);
    if (ref.kind == StepRef::Kind::Error) {
      return errorNode(e.range);
    }
    if (ref.kind != StepRef::Kind::NotAStep) {
      return stepNode(ref, nodeRange(e.range));
    }
    if (const DeclRef *d = lookupDecl(scope.module, name)) {
      if (d->kind == DeclRef::Kind::Const) {
        return constRef(d->index, e.range);
      }
      defs_[d->index].used = true;
      error(e.range, "`" + name + "` is a def: call it with arguments, as in `" + name + "(...)`");
      return errorNode(e.range);
    }
    // A bare field name: say which step has it.
    const StepInfo *owner = nullptr;
    for (const auto &s : *scope.steps) {
      if (s.negated || s.event < 0 || s.name.empty() ||
          program_.event_types[static_cast<std::size_t>(s.event)].fieldIndex(name) < 0) {
        continue;
      }
      if (owner == nullptr || (owner->looping && !s.looping)) {
        owner = &s; // the first single step that has it, else the first loop
      }
    }
    if (owner != nullptr) {
      std::string example =
          owner->looping ? "last(" + owner->name + ")." + name : owner->name + "." + name;
      error(e.range, "`" + name + "` is a field: in `emit`, name the step it comes from, as in `" +
                         example + "`");
      return errorNode(e.range);
    }
    std::vector<std::string> candidates;
    for (const auto &s : *scope.steps) {
      if (!s.name.empty() && !s.negated) {
        candidates.push_back(s.name);
      }
    }
    for (auto &c : constNamesIn(scope.module)) {
      candidates.push_back(c);
    }
    Report r = error(e.range, "unknown name `" + name + "`: `emit` can use the pattern's steps " +
                                  "(as `step.field`) and consts");
    if (auto best = closestMatch(name, candidates)) {
      r.note("did you mean `" + *best + "`?");
    }
    noteNotImported(r, scope.module, name);
    return errorNode(e.range);
  }
  }
  return errorNode(e.range);
}

// --- fields ----------------------------------------------------------------------------------

typed::ExprPtr Checker::fieldOf(const StepRef &ref, const ast::Expr &e, const ast::Ident &field,
                                Op op) {
  if (ref.event < 0) {
    return errorNode(e.range); // unknown event type (reported)
  }
  const typed::EventType &et = program_.event_types[static_cast<std::size_t>(ref.event)];
  std::int32_t f = et.fieldIndex(field.name);
  if (f < 0) {
    std::vector<std::string> names;
    for (const auto &fd : et.fields) {
      names.push_back(fd.name);
    }
    Report r =
        error(field.range, "unknown field `" + field.name + "` on event type `" + et.name + "`");
    if (auto best = closestMatch(field.name, names)) {
      r.note("did you mean `" + *best + "`?");
    }
    return errorNode(e.range);
  }
  Type t = et.fields[static_cast<std::size_t>(f)].type;
  if (t.isError()) {
    return errorNode(e.range);
  }
  if (ref.kind == StepRef::Kind::Loop && op == Op::Field) {
    if (aggregate_ == nullptr) {
      const std::string &s = ref.name;
      const std::string &fn = field.name;
      Report r = error(e.range, "`" + s + "` is a looping step: it matches several events, so `" +
                                    s + "." + fn + "` has no single value")
                     .note(loopHint(s, fn, t, in_aggregate_decl_));
      if (ref.own) {
        r.note("the event being tested is written as the bare field name `" + fn + "`");
      }
      return errorNode(e.range);
    }
    if (aggregate_->loop >= 0 && aggregate_->loop != ref.step) {
      if (!aggregate_->reported) {
        error(e.range, "an aggregate ranges over one looping step, but this one uses both `" +
                           aggregate_->loop_name + "` and `" + ref.name + "`");
        aggregate_->reported = true;
      }
      return errorNode(e.range);
    }
    aggregate_->loop = ref.step;
    aggregate_->loop_name = ref.name;
  } else if (aggregate_ != nullptr && ref.step >= 0 && aggregate_->single_name.empty()) {
    aggregate_->single_name = ref.name;
    aggregate_->single_field = field.name;
  }
  // first/last of a loop that bound nothing are null; a window an aggregate declaration writes
  // holds at least one event.
  if (ref.nullable || ((op == Op::First || op == Op::Last) && !in_aggregate_decl_)) {
    t.nullable = true;
  }
  auto x = node(op, t, e.range);
  x->step = ref.step;
  x->field = f;
  return x;
}

typed::ExprPtr Checker::checkMember(const ast::Expr &e, const Scope &scope) {
  CEP_ASSERT(e.children.size() == 1, "member access without an object");
  const ast::Expr &obj = *e.children[0];
  if (obj.kind == ast::ExprKind::Call && (obj.name.name == "first" || obj.name.name == "last")) {
    return checkFirstLast(e, scope);
  }
  if (obj.kind == ast::ExprKind::Name) {
    // In object position a step (or event parameter) wins over a field of the same name.
    StepRef ref = lookupStep(obj.text, obj.range, scope);
    if (ref.kind == StepRef::Kind::Error) {
      return errorNode(e.range);
    }
    if (ref.kind != StepRef::Kind::NotAStep) {
      return fieldOf(ref, e, e.name, Op::Field);
    }
    // Not a step: unless the name means something else here, it is an unknown step.
    bool known = lookupDecl(scope.module, obj.text) != nullptr;
    if (scope.kind == ScopeKind::Condition) {
      std::int32_t ev = (*scope.steps)[static_cast<std::size_t>(scope.current)].event;
      known = known || ev < 0 ||
              program_.event_types[static_cast<std::size_t>(ev)].fieldIndex(obj.text) >= 0;
    }
    if (scope.kind == ScopeKind::Def && scope.params != nullptr) {
      for (const auto &b : *scope.params) {
        known = known || b.name == obj.text;
      }
    }
    if (!known) {
      std::vector<std::string> candidates;
      if (scope.steps != nullptr) {
        std::int32_t last = scope.kind == ScopeKind::Condition
                                ? scope.current
                                : static_cast<std::int32_t>(scope.steps->size()) - 1;
        for (std::int32_t i = 0; i <= last; ++i) {
          const StepInfo &s = (*scope.steps)[static_cast<std::size_t>(i)];
          if (!s.name.empty() && !s.negated) {
            candidates.push_back(s.name);
          }
        }
      }
      if (scope.params != nullptr) {
        for (const auto &b : *scope.params) {
          if (b.type.kind == TypeKind::Event) {
            candidates.push_back(b.name);
          }
        }
      }
      Report r =
          scope.kind == ScopeKind::Def ? error(obj.range, "unknown event parameter `" + obj.text +
                                                              "` in def `" + scope.def_name + "`")
          : scope.kind == ScopeKind::Const
              ? error(obj.range,
                      "unknown name `" + obj.text + "`: " +
                          (scope.clause != nullptr
                               ? "`" + std::string(scope.clause) + "` takes a constant duration"
                               : std::string("a const is a constant")) +
                          " and cannot refer to steps or fields")
              : error(obj.range, "unknown step `" + obj.text + "`");
      if (auto best = closestMatch(obj.text, candidates)) {
        r.note("did you mean `" + *best + "`?");
      }
      return errorNode(e.range);
    }
  }
  typed::ExprPtr x = checkExpr(obj, scope);
  if (x->type.isError()) {
    return errorNode(e.range);
  }
  if (x->type.kind == TypeKind::Event && x->op == Op::Field && x->field < 0) {
    StepRef ref;
    ref.kind = StepRef::Kind::Event;
    ref.step = x->step;
    ref.event = x->type.event;
    ref.nullable = x->type.nullable;
    ref.name = sourceText(obj.range);
    return fieldOf(ref, e, e.name, Op::Field);
  }
  error(obj.range, "`" + sourceText(obj.range) + "` is a `" + typeText(x->type) +
                       "`, not an event: it has no field `" + e.name.name + "`");
  return errorNode(e.range);
}

} // namespace cep::lang
