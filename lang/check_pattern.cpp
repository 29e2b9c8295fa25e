// Patterns (spec §3): step names and event types, quantifier normalisation, modifiers, negation,
// the structural restrictions of Flink CEP, conditions, `within`, `partition by`, `skip`, and
// the emits (check_emit.cpp).
#include "lang/checker.hpp"
#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::lang {

namespace {

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr std::int64_t kMaxCount = static_cast<std::int64_t>(typed::kUnbounded) - 1;

const char *modifierName(ast::Modifier::Kind k) {
  switch (k) {
  case ast::Modifier::Kind::Optional:
    return "optional";
  case ast::Modifier::Kind::Greedy:
    return "greedy";
  case ast::Modifier::Kind::Consecutive:
    return "consecutive";
  case ast::Modifier::Kind::Combinations:
    return "combinations";
  case ast::Modifier::Kind::Until:
    return "until";
  }
  return "?";
}

// `not name: Type`: where negation errors point.
SourceRange negationHead(const ast::Step &s) {
  return SourceRange::cover(s.not_range, s.type.range);
}

std::string stepLabel(const ast::Step &s, std::size_t i) {
  return s.name ? "`" + s.name->name + "`" : "step " + std::to_string(i + 1);
}

} // namespace

void Checker::checkPatterns() {
  // Patterns and aggregates share one namespace (spec §8); in source order, so that a duplicate
  // is reported at the second declaration.
  std::unordered_map<std::string, bool> is_aggregate;
  auto declare = [&](const ast::Ident &name, bool aggregate) {
    auto [it, inserted] = pattern_names_.emplace(name.name, name.range);
    if (inserted) {
      is_aggregate.emplace(name.name, aggregate);
      return;
    }
    bool other = is_aggregate[name.name];
    if (!aggregate && !other) {
      error(name.range, "duplicate pattern name `" + name.name + "`")
          .note("first declared here", it->second);
      return;
    }
    error(name.range, "duplicate name `" + name.name + "`: it is already the name of " +
                          (other ? "an aggregate" : "a pattern") +
                          " (patterns and aggregates share one namespace)")
        .note("first declared here", it->second);
  };
  for (std::size_t m = 0; m < modules_.size(); ++m) {
    const ast::Module &module = modules_[m];
    std::vector<std::pair<const ast::Ident *, bool>> names; // name, is an aggregate
    for (const auto &p : module.patterns) {
      names.emplace_back(&p.name, false);
    }
    for (const auto &a : module.aggregates) {
      names.emplace_back(&a.name, true);
    }
    std::stable_sort(names.begin(), names.end(), [](const auto &x, const auto &y) {
      return x.first->range.begin < y.first->range.begin;
    });
    for (const auto &[name, aggregate] : names) {
      declare(*name, aggregate);
    }
    for (const auto &p : module.patterns) {
      if (auto typed_pattern = checkPattern(m, p)) {
        program_.patterns.push_back(std::move(*typed_pattern));
      }
    }
    for (const auto &a : module.aggregates) {
      if (auto typed_aggregate = checkAggregateDecl(m, a)) {
        program_.aggregates.push_back(std::move(*typed_aggregate));
      }
    }
  }
}

void Checker::normaliseQuantifier(const ast::Step &s, typed::Step &out) {
  out.min = 1;
  out.max = 1;
  out.optional = false;
  if (!s.quantifier || s.negated) {
    return;
  }
  const ast::Quantifier &q = *s.quantifier;
  auto too_large = [&](std::int64_t n) {
    if (n < 0 || n > kMaxCount) {
      error(q.range, "`" + sourceText(q.range) + "` is too large: a step can repeat at most " +
                         std::to_string(kMaxCount) + " times");
      return true;
    }
    return false;
  };
  auto zero = [&] {
    error(q.range, "`" + sourceText(q.range) + "` would match no event at all")
        .note("to require that no such event occurs, negate the step: `not " +
              (s.name ? s.name->name + ": " : std::string()) + s.type.name + "`");
  };
  switch (q.kind) {
  case ast::Quantifier::Kind::Optional:
    out.optional = true;
    return;
  case ast::Quantifier::Kind::Plus:
    out.max = typed::kUnbounded;
    return;
  case ast::Quantifier::Kind::Star:
    out.max = typed::kUnbounded;
    out.optional = true;
    return;
  case ast::Quantifier::Kind::Exact:
    if (q.min == 0) {
      zero();
      return;
    }
    if (too_large(q.min)) {
      return;
    }
    out.min = out.max = static_cast<std::uint32_t>(q.min);
    return;
  case ast::Quantifier::Kind::AtLeast:
    if (too_large(q.min)) {
      return;
    }
    out.max = typed::kUnbounded;
    if (q.min == 0) { // {0,} is *
      out.optional = true;
    } else {
      out.min = static_cast<std::uint32_t>(q.min);
    }
    return;
  case ast::Quantifier::Kind::Range:
    if (q.max == 0) {
      zero();
      return;
    }
    if (too_large(q.min) || too_large(q.max)) {
      return;
    }
    if (q.min > q.max) {
      error(q.range, "the lower bound of `" + sourceText(q.range) + "` is greater than its " +
                         "upper bound");
      return;
    }
    out.max = static_cast<std::uint32_t>(q.max);
    if (q.min == 0) { // {0,m} is {1,m} optional
      out.optional = true;
    } else {
      out.min = static_cast<std::uint32_t>(q.min);
    }
    return;
  }
}

void Checker::checkModifiers(const ast::Step &s, const StepInfo &info, typed::Step &out) {
  std::string label = s.name ? "`" + s.name->name + "`" : "this step";
  std::map<ast::Modifier::Kind, SourceRange> seen;
  for (const auto &mod : s.modifiers) {
    const char *name = modifierName(mod.kind);
    if (s.negated) {
      error(mod.range, std::string("a negated step cannot have modifiers such as `") + name +
                           "`: it only asserts that no such event occurs");
      continue;
    }
    auto [it, inserted] = seen.emplace(mod.kind, mod.range);
    if (!inserted) {
      error(mod.range, std::string("`") + name + "` is given twice")
          .note("first given here", it->second);
      continue;
    }
    switch (mod.kind) {
    case ast::Modifier::Kind::Optional:
      if (out.optional) {
        error(mod.range, label + " is already optional through its quantifier `" +
                             sourceText(s.quantifier->range) + "`; remove `optional`");
      }
      out.optional = true;
      continue;
    case ast::Modifier::Kind::Greedy:
    case ast::Modifier::Kind::Consecutive:
    case ast::Modifier::Kind::Combinations:
    case ast::Modifier::Kind::Until:
      break;
    }
    if (!info.looping) {
      error(mod.range, std::string("`") + name + "` applies to looping steps only, but " + label +
                           " matches one event")
          .note("make the step a loop with a quantifier such as `+`, `*` or `{2,5}`");
      continue;
    }
    switch (mod.kind) {
    case ast::Modifier::Kind::Greedy:
      if (auto c = seen.find(ast::Modifier::Kind::Combinations); c != seen.end()) {
        error(mod.range, "`greedy` cannot be combined with `combinations` (as in Flink)")
            .note("`combinations` is given here", c->second);
        continue;
      }
      out.greedy = true;
      break;
    case ast::Modifier::Kind::Consecutive:
      if (auto c = seen.find(ast::Modifier::Kind::Combinations); c != seen.end()) {
        error(mod.range, "`consecutive` cannot be combined with `combinations`: a loop's events " +
                             std::string("are either strictly consecutive or any combination"))
            .note("`combinations` is given here", c->second);
        continue;
      }
      out.consecutive = true;
      break;
    case ast::Modifier::Kind::Combinations:
      if (auto c = seen.find(ast::Modifier::Kind::Consecutive); c != seen.end()) {
        error(mod.range, "`combinations` cannot be combined with `consecutive`: a loop's events " +
                             std::string("are either strictly consecutive or any combination"))
            .note("`consecutive` is given here", c->second);
        continue;
      }
      if (auto g = seen.find(ast::Modifier::Kind::Greedy); g != seen.end()) {
        error(mod.range, "`combinations` cannot be combined with `greedy` (as in Flink)")
            .note("`greedy` is given here", g->second);
        continue;
      }
      out.combinations = true;
      break;
    case ast::Modifier::Kind::Until:
      if (out.max != typed::kUnbounded) {
        error(mod.range, "`until` needs an unbounded loop (`+`, `*` or `{n,}`), but " + label +
                             " matches at most " + std::to_string(out.max) + " events (as in " +
                             "Flink)");
      }
      break;
    default:
      break;
    }
  }
}

void Checker::checkNegation(const ast::Pattern &p, std::size_t i,
                            const std::vector<StepInfo> &steps, bool pattern_within) {
  const ast::Step &s = p.steps[i];
  SourceRange head = negationHead(s);
  if (i == 0) {
    error(head, "a pattern cannot start with a negated step: an absence needs an event before " +
                    std::string("it to follow"));
    return;
  }
  if (s.quantifier) {
    error(s.quantifier->range, "a negated step cannot have a quantifier: it asserts that no " +
                                   std::string("such event occurs"));
  }
  if (s.contiguity == ast::Contiguity::NonDeterministic) {
    error(s.contiguity_range, "a negated step cannot follow `->>`: use `->` (no such event " +
                                  std::string("anywhere before the next step) or `,` (not the ") +
                                  "very next event)");
  }
  const StepInfo &prev = steps[i - 1];
  if (!prev.negated && prev.optional) {
    error(head, "a negated step cannot come right after an optional step (as in Flink): `" +
                    prev.name + "` may match no event")
        .note("write two patterns instead, one with `" + prev.name + "` and one without it",
              prev.name_range);
  }
  // A trailing absence after `->` is only decided when a time bound passes.
  bool trailing = true;
  for (std::size_t j = i + 1; j < p.steps.size(); ++j) {
    trailing = trailing && p.steps[j].negated;
  }
  if (trailing && s.contiguity == ast::Contiguity::Relaxed && !s.within && !pattern_within) {
    error(head, "an absence at the end of a pattern needs a time limit: add `within 15m` (or " +
                    std::string("another duration) to the pattern or to this step"));
  }
  // A negated step's own `within` is the window of an absence at the end; anywhere else it
  // would be silently meaningless (Flink ignores it too), so say so.
  if (s.within && !(trailing && s.contiguity == ast::Contiguity::Relaxed)) {
    if (s.contiguity == ast::Contiguity::Strict) {
      error(s.within->range, "a `, not` step is decided by the very next event, so a `within` "
                             "on it has no effect: remove it");
    } else {
      error(s.within->range, "a `within` on a negated step only sets the window of an absence "
                             "at the end of the pattern; here a step follows it: put the bound "
                             "on that step or on the pattern");
    }
  }
}

std::optional<std::int64_t> Checker::checkWithin(const ast::Expr &e, std::size_t module) {
  Scope scope;
  scope.kind = ScopeKind::Const;
  scope.module = module;
  scope.clause = "within";
  typed::ExprPtr x = checkExpr(e, scope);
  if (x->type.isError()) {
    return std::nullopt;
  }
  if (x->type.kind != TypeKind::Duration || x->value.is_null) {
    Report r =
        error(e.range, "`within` needs a duration such as `10m`, not `" + typeText(x->type) + "`");
    if (x->type.isNumeric()) {
      r.note("write the unit: `250ms`, `30s`, `5m`, `2h`, `1d`");
    }
    return std::nullopt;
  }
  CEP_ASSERT(x->op == typed::Op::Literal, "a `within` did not fold to a literal");
  std::int64_t ms = x->value.i;
  if (ms <= 0) {
    error(e.range, "`within` must be a positive duration");
    return std::nullopt;
  }
  if (ms > kDayMs) {
    warning(e.range, "`within " + sourceText(e.range) + "` is longer than a day: partial " +
                         "matches are kept in memory that long");
  }
  return ms;
}

void Checker::checkPartition(const ast::Pattern &p, const std::vector<StepInfo> &steps,
                             typed::Pattern &out) {
  std::vector<const ast::Ident *> step_types;
  for (const auto &s : p.steps) {
    step_types.push_back(&s.type);
  }
  checkKey(p.partition_by, step_types, steps, "pattern", out.key_fields, out.key_types,
           out.key_index);
}

void Checker::checkKey(const std::optional<std::vector<ast::Ident>> &partition_by,
                       const std::vector<const ast::Ident *> &step_types,
                       const std::vector<StepInfo> &steps, const char *what,
                       std::vector<std::string> &key_fields, std::vector<Type> &key_types_out,
                       std::vector<std::vector<std::int32_t>> &key_index) {
  key_index.assign(program_.event_types.size(), {});
  if (!partition_by) {
    return;
  }
  const auto &keys = *partition_by;
  std::unordered_map<std::string, SourceRange> seen;
  std::vector<const ast::Ident *> unique_keys;
  for (const auto &k : keys) {
    auto [it, inserted] = seen.emplace(k.name, k.range);
    if (!inserted) {
      error(k.range, "duplicate partition key `" + k.name + "`")
          .note("first given here", it->second);
      continue;
    }
    unique_keys.push_back(&k);
  }
  // The key's type comes from the first step's event type that has it.
  std::vector<std::optional<Type>> key_types(unique_keys.size());
  std::vector<std::int32_t> key_source(unique_keys.size(), -1);
  std::vector<bool> done(program_.event_types.size(), false);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    std::int32_t ev = steps[i].event;
    if (ev < 0 || done[static_cast<std::size_t>(ev)]) {
      continue;
    }
    done[static_cast<std::size_t>(ev)] = true;
    const typed::EventType &et = program_.event_types[static_cast<std::size_t>(ev)];
    const ast::Ident &type_name = *step_types[i];
    auto &index = key_index[static_cast<std::size_t>(ev)];
    for (std::size_t k = 0; k < unique_keys.size(); ++k) {
      const ast::Ident &key = *unique_keys[k];
      std::int32_t f = et.fieldIndex(key.name);
      index.push_back(f);
      if (f < 0) {
        std::vector<std::string> names;
        for (const auto &fd : et.fields) {
          names.push_back(fd.name);
        }
        Report r = error(type_name.range, "event type `" + et.name + "` has no field `" + key.name +
                                              "`, but the " + what + " is partitioned by it");
        r.note("partition key `" + key.name + "` given here", key.range);
        if (auto best = closestMatch(key.name, names)) {
          r.note("`" + et.name + "` has a field `" + *best + "`");
        }
        continue;
      }
      Type t = et.fields[static_cast<std::size_t>(f)].type;
      if (t.isError()) {
        continue;
      }
      if (t.nullable) {
        error(type_name.range, "partition keys must always be present, but `" + key.name +
                                   "` is nullable (`" + typeText(t) + "`) in event type `" +
                                   et.name + "`")
            .note("partition key `" + key.name + "` given here", key.range);
        continue;
      }
      if (!key_types[k]) {
        key_types[k] = t;
        key_source[k] = ev;
      } else if (key_types[k]->kind != t.kind) {
        error(type_name.range, "partition key `" + key.name + "` is `" + typeText(t) + "` in `" +
                                   et.name + "` but `" + typeText(*key_types[k]) + "` in `" +
                                   eventName(key_source[k]) +
                                   "`: a key must have one type in every event type of the pattern")
            .note("partition key `" + key.name + "` given here", key.range);
      }
    }
  }
  for (std::size_t k = 0; k < unique_keys.size(); ++k) {
    key_fields.push_back(unique_keys[k]->name);
    key_types_out.push_back(key_types[k] ? *key_types[k] : Type::error());
  }
}

void Checker::checkSkip(const ast::Pattern &p, const std::vector<StepInfo> &steps,
                        typed::Pattern &out) {
  if (!p.skip) {
    return;
  }
  const ast::Skip &skip = *p.skip;
  switch (skip.kind) {
  case ast::SkipKind::None:
    out.skip = typed::SkipStrategy::None;
    return;
  case ast::SkipKind::ToNext:
    out.skip = typed::SkipStrategy::ToNext;
    return;
  case ast::SkipKind::PastLast:
    out.skip = typed::SkipStrategy::PastLast;
    return;
  case ast::SkipKind::ToFirst:
    out.skip = typed::SkipStrategy::ToFirst;
    break;
  case ast::SkipKind::ToLast:
    out.skip = typed::SkipStrategy::ToLast;
    break;
  }
  CEP_ASSERT(skip.step.has_value(), "skip to first/last without a step");
  const ast::Ident &target = *skip.step;
  const char *clause = skip.kind == ast::SkipKind::ToFirst ? "skip to first" : "skip to last";
  std::int32_t index = -1;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!steps[i].name.empty() && !steps[i].negated) {
      names.push_back(steps[i].name);
    }
    if (index < 0 && !steps[i].name.empty() && steps[i].name == target.name) {
      index = static_cast<std::int32_t>(i);
    }
  }
  if (index < 0) {
    Report r = error(target.range, "unknown step `" + target.name + "` in `" + clause + "`");
    if (auto best = closestMatch(target.name, names)) {
      r.note("did you mean `" + *best + "`?");
    }
    return;
  }
  const StepInfo &s = steps[static_cast<std::size_t>(index)];
  if (s.negated) {
    error(target.range,
          "cannot skip to `" + target.name + "`: it is a negated step and binds " + "no event")
        .note("`" + target.name + "` is declared here", s.name_range);
    return;
  }
  out.skip_step = index;
  if (skip.kind == ast::SkipKind::ToFirst && index == 0) {
    warning(target.range, "`skip to first " + target.name + "` can never skip: `" + target.name +
                              "` is the first step, so every match starts with it (as in Flink)");
  }
}

std::optional<typed::Pattern> Checker::checkPattern(std::size_t module, const ast::Pattern &p) {
  typed::Pattern out;
  out.name = p.name.name;
  out.range = p.range;
  if (p.steps.size() > kMaxPatternSteps) {
    error(p.name.range, "pattern `" + p.name.name + "` has " + std::to_string(p.steps.size()) +
                            " steps; the limit is " + std::to_string(kMaxPatternSteps))
        .note("this is step " + std::to_string(kMaxPatternSteps + 1) +
                  ": split the pattern, or match a repeated condition with a quantifier such as "
                  "`{n}`",
              p.steps[kMaxPatternSteps].range);
    return std::nullopt; // the steps are not checked: that would cost what the limit prevents
  }
  const std::size_t errors_before = diags_.errorCount();

  // Steps: names, event types, quantifiers, modifiers.
  std::vector<StepInfo> steps;
  std::unordered_map<std::string, SourceRange> names;
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const ast::Step &s = p.steps[i];
    if (!s.name && !s.negated) {
      // The grammar should not produce this (only negated steps may omit their name); say what
      // is wrong rather than fail.
      error(s.type.range, "step `" + s.type.name + "` needs a name, as in `" +
                              std::string(i == 0 ? "a" : "s" + std::to_string(i + 1)) + ": " +
                              s.type.name + "`; only a negated step may omit it");
    }
    StepInfo info;
    typed::Step step;
    if (s.name) {
      info.name = s.name->name;
      info.name_range = s.name->range;
      auto [it, inserted] = names.emplace(s.name->name, s.name->range);
      if (!inserted) {
        error(s.name->range,
              "duplicate step name `" + s.name->name + "` in pattern `" + p.name.name + "`")
            .note("first declared here", it->second);
      }
      step.name = s.name->name;
    } else {
      info.name_range = s.type.range;
      step.name = (s.negated ? "$not" : "$step") + std::to_string(i + 1);
    }
    info.event = lookupEvent(module, s.type);
    normaliseQuantifier(s, step);
    info.looping = step.max > 1;
    info.negated = s.negated;
    checkModifiers(s, info, step);
    info.optional = step.optional;
    step.event_type = info.event;
    step.negated = s.negated;
    step.contiguity = s.contiguity;
    step.range = s.range;
    steps.push_back(info);
    out.steps.push_back(std::move(step));
  }

  // Structure: negation, and what Flink cannot compile.
  bool has_bound = p.within != nullptr;
  for (const auto &s : p.steps) {
    has_bound = has_bound || s.within != nullptr;
  }
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const ast::Step &s = p.steps[i];
    if (s.negated) {
      checkNegation(p, i, steps, p.within != nullptr);
      continue;
    }
    if (i > 0 && steps[i].optional && out.steps[i - 1].greedy) {
      SourceRange at = s.quantifier ? s.quantifier->range : s.range;
      for (const auto &mod : s.modifiers) {
        if (mod.kind == ast::Modifier::Kind::Optional) {
          at = mod.range;
        }
      }
      error(at, stepLabel(s, i) + " cannot be optional right after the greedy loop `" +
                    steps[i - 1].name + "` (as in Flink)");
    }
  }

  if (p.within) {
    out.within_ms = checkWithin(*p.within, module);
  }

  // Conditions, `until`, per-step `within`.
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const ast::Step &s = p.steps[i];
    typed::Step &step = out.steps[i];
    Scope scope;
    scope.kind = ScopeKind::Condition;
    scope.module = module;
    scope.steps = &steps;
    scope.current = static_cast<std::int32_t>(i);
    if (s.condition) {
      typed::ExprPtr c = checkBool(*s.condition, scope, "a step's condition");
      requireSize(c, *s.condition, "this condition");
      if (!c->type.isError()) {
        step.condition = std::move(c);
      }
    }
    for (const auto &mod : s.modifiers) {
      if (mod.kind == ast::Modifier::Kind::Until && mod.condition) {
        typed::ExprPtr u = checkBool(*mod.condition, scope, "the condition of `until`");
        requireSize(u, *mod.condition, "this condition");
        if (!u->type.isError() && step.looping() && !s.negated && !step.until) {
          step.until = std::move(u);
        }
      }
    }
    if (s.within) {
      if (i == 0) {
        error(s.within->range, "the first step's `within` has nothing to measure from (a " +
                                   std::string("step's `within` bounds the time since the ") +
                                   "previous step): put it in the pattern's header instead");
      } else {
        step.within_ms = checkWithin(*s.within, module);
        if (step.within_ms && out.within_ms && *step.within_ms >= *out.within_ms) {
          warning(s.within->range,
                  "this step's `within` is not shorter than the pattern's `within " +
                      sourceText(p.within->range) + "`, so it never applies");
        }
      }
    }
  }

  checkPartition(p, steps, out);
  checkSkip(p, steps, out);

  out.emit = checkEmit(p.emit, module, steps, false);
  if (p.timeout_emit) {
    if (!has_bound) {
      error(p.timeout_emit->stream.range,
            "`on timeout emit` can never fire: pattern `" + p.name.name + "` has no time limit")
          .note("add a `within` such as `within 10m` to the pattern");
    }
    out.timeout_emit = checkEmit(*p.timeout_emit, module, steps, true);
  }
  // Only for a pattern that checked clean: its errors come first and are what to fix.
  if (diags_.errorCount() == errors_before) {
    warnUnboundedState(p, out);
    warnCannotWork(p, out);
  }
  return out;
}

} // namespace cep::lang
