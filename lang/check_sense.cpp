// Warnings for rules that check clean but cannot work as their author meant (docs/language.md
// §14, Warnings): a step whose condition can never be true, a count so large that every partial
// match holds that many events, a looping step at the end of a pattern that always stops at its
// minimum, and a program that mixes event types with and without a time field.
//
// The condition analysis is deliberately small: the conjuncts of a condition that compare one
// field of the tested event with a constant (`amount > 100`, `100 < amount`, `country ==
// "NG"`) narrow the field's range; an empty range, or a condition folded to false or null, is
// reported. Anything else (calls, other steps, `or`) leaves the field unconstrained, so the
// warning is never wrong, only sometimes silent.
#include "lang/checker.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cep::lang {

namespace {

// A step needing more events than this in one match is reported: every partial match keeps
// every event it binds until it completes.
constexpr std::uint32_t kHugeCount = 10000;

// What the conjuncts of a condition say about one field of the tested event.
struct FieldRange {
  // Numbers (int, float, time, duration as double; exact for the values people write).
  std::optional<double> lo, hi;
  bool lo_open = false, hi_open = false;
  // Strings and bools: the one value `==` requires, and the values `!=` excludes.
  std::optional<std::string> equal;
  std::vector<std::string> not_equal;
  // The conjuncts that set the bounds, for the message.
  std::vector<SourceRange> why;
  bool empty = false;
};

bool isNumber(TypeKind k) {
  return k == TypeKind::Int || k == TypeKind::Float || k == TypeKind::Time ||
         k == TypeKind::Duration;
}

double numberOf(const typed::Value &v) {
  return v.kind == TypeKind::Float ? v.f : static_cast<double>(v.i);
}

std::string textOf(const typed::Value &v) {
  return v.kind == TypeKind::Bool ? (v.b ? "true" : "false") : v.s;
}

// The tested event's field read by `e` (through an int->float widening), or -1.
std::int32_t candidateField(const typed::Expr &e, std::int32_t self) {
  const typed::Expr *x = &e;
  if (x->op == typed::Op::Cast) {
    x = x->args[0].get();
  }
  if (x->op == typed::Op::Field && (x->step == typed::kCandidate || x->step == self)) {
    return x->field;
  }
  return -1;
}

const typed::Value *literalOf(const typed::Expr &e) {
  if (e.op == typed::Op::Literal && !e.value.is_null) {
    return &e.value;
  }
  return nullptr;
}

typed::Op mirrored(typed::Op op) {
  switch (op) {
  case typed::Op::Lt:
    return typed::Op::Gt;
  case typed::Op::Le:
    return typed::Op::Ge;
  case typed::Op::Gt:
    return typed::Op::Lt;
  case typed::Op::Ge:
    return typed::Op::Le;
  default:
    return op;
  }
}

void narrow(FieldRange &r, typed::Op op, const typed::Value &v, SourceRange why) {
  if (isNumber(v.kind)) {
    double x = numberOf(v);
    if (std::isnan(x)) {
      return;
    }
    auto raiseLo = [&](double b, bool open) {
      if (!r.lo || b > *r.lo || (b == *r.lo && open)) {
        r.lo = b;
        r.lo_open = open;
      }
    };
    auto lowerHi = [&](double b, bool open) {
      if (!r.hi || b < *r.hi || (b == *r.hi && open)) {
        r.hi = b;
        r.hi_open = open;
      }
    };
    switch (op) {
    case typed::Op::Eq:
      raiseLo(x, false);
      lowerHi(x, false);
      break;
    case typed::Op::Lt:
      lowerHi(x, true);
      break;
    case typed::Op::Le:
      lowerHi(x, false);
      break;
    case typed::Op::Gt:
      raiseLo(x, true);
      break;
    case typed::Op::Ge:
      raiseLo(x, false);
      break;
    default:
      return;
    }
    r.why.push_back(why);
    if (r.lo && r.hi && (*r.lo > *r.hi || (*r.lo == *r.hi && (r.lo_open || r.hi_open)))) {
      r.empty = true;
    }
    return;
  }
  if (v.kind != TypeKind::String && v.kind != TypeKind::Bool) {
    return;
  }
  std::string s = textOf(v);
  if (op == typed::Op::Eq) {
    r.why.push_back(why);
    if (r.equal && *r.equal != s) {
      r.empty = true;
    }
    for (const auto &n : r.not_equal) {
      r.empty = r.empty || n == s;
    }
    r.equal = s;
  } else if (op == typed::Op::Ne) {
    r.why.push_back(why);
    if (r.equal && *r.equal == s) {
      r.empty = true;
    }
    r.not_equal.push_back(s);
  }
}

void collectConjuncts(const typed::Expr &e, std::vector<const typed::Expr *> &out) {
  if (e.op == typed::Op::And) {
    collectConjuncts(*e.args[0], out);
    collectConjuncts(*e.args[1], out);
  } else {
    out.push_back(&e);
  }
}

} // namespace

std::optional<std::string> Checker::neverTrue(const typed::Expr &condition, std::int32_t self) {
  if (condition.op == typed::Op::Literal) {
    if (condition.value.is_null || (condition.value.kind == TypeKind::Bool && !condition.value.b)) {
      return "it is always " + std::string(condition.value.is_null ? "null" : "false");
    }
    return std::nullopt;
  }
  std::vector<const typed::Expr *> conjuncts;
  collectConjuncts(condition, conjuncts);
  std::map<std::int32_t, FieldRange> ranges;
  for (const typed::Expr *c : conjuncts) {
    if (const typed::Value *v = literalOf(*c); v != nullptr && v->kind == TypeKind::Bool && !v->b) {
      return "`" + sourceText(c->range) + "` is always false";
    }
    if (c->args.size() != 2) {
      continue;
    }
    typed::Op op = c->op;
    if (op != typed::Op::Eq && op != typed::Op::Ne && op != typed::Op::Lt && op != typed::Op::Le &&
        op != typed::Op::Gt && op != typed::Op::Ge) {
      continue;
    }
    std::int32_t field = candidateField(*c->args[0], self);
    const typed::Value *v = literalOf(*c->args[1]);
    if (field < 0 || v == nullptr) {
      field = candidateField(*c->args[1], self);
      v = literalOf(*c->args[0]);
      op = mirrored(op);
    }
    if (field < 0 || v == nullptr) {
      continue;
    }
    FieldRange &r = ranges[field];
    narrow(r, op, *v, c->range);
    if (r.empty) {
      std::string why;
      for (std::size_t i = 0; i < r.why.size(); ++i) {
        why += (i == 0 ? "`" : (i + 1 == r.why.size() ? "` and `" : "`, `")) + sourceText(r.why[i]);
      }
      return why + (r.why.size() == 2 ? "` cannot both hold" : "` cannot all hold");
    }
  }
  return std::nullopt;
}

void Checker::warnCannotWork(const ast::Pattern &p, const typed::Pattern &out) {
  for (std::size_t i = 0; i < out.steps.size() && i < p.steps.size(); ++i) {
    const typed::Step &s = out.steps[i];
    const ast::Step &a = p.steps[i];
    if (s.condition) {
      if (auto why = neverTrue(*s.condition, static_cast<std::int32_t>(i))) {
        std::string what = s.negated    ? "so this negation never applies"
                           : s.optional ? "so optional step `" + s.name + "` never binds an event"
                                        : "so pattern `" + out.name + "` can never complete";
        warning(a.condition->range,
                "the condition of step `" + s.name + "` is never true: " + *why + ", " + what);
      }
    }
    if (!s.negated && s.min > kHugeCount && a.quantifier) {
      std::string key;
      for (const auto &k : out.key_fields) {
        key += (key.empty() ? "" : ", ") + k;
      }
      if (key.empty()) {
        key = "...";
      }
      warning(a.quantifier->range,
              "step `" + s.name + "` needs " + std::to_string(s.min) +
                  " events in one match, and every partial match keeps each event it has "
                  "taken until it completes: memory grows with this count times the open "
                  "partial matches")
          .note("to alert when a key has more than N events in a time, count them with an "
                "aggregate, which keeps one counter per key and window: `aggregate " +
                out.name + " partition by " + key + " window rolling 1h { p: " +
                program_.event_types[static_cast<std::size_t>(s.event_type)].name +
                " } having count(p) >= " + std::to_string(s.min) + " emit ...`");
    }
  }
  // A looping step at the end: the match completes as soon as it has its minimum, and every
  // skip strategy but `skip none` then ends the partial match, so it never takes more. An
  // optional one at the end after a step that must bind: the match completes before it.
  if (!out.steps.empty() && out.skip != typed::SkipStrategy::None && p.steps.back().name) {
    const typed::Step &last = out.steps.back();
    const SourceRange at = p.steps.back().name->range;
    bool bound_before = false;
    for (std::size_t i = 0; i + 1 < out.steps.size(); ++i) {
      bound_before = bound_before || (!out.steps[i].negated && !out.steps[i].optional);
    }
    const std::string how = "to take every `" + last.name + "` up to some event, add that " +
                            "event as a step after it; for a record at each further event, " +
                            "use `skip none`; to count events per key and time, use an " +
                            "`aggregate`";
    if (!last.negated && last.optional && bound_before) {
      warning(at, "optional step `" + last.name + "` ends pattern `" + out.name +
                      "`: a match completes before it, and the skip strategy then ends the " +
                      "partial match, so `" + last.name + "` never binds an event")
          .note("to require `" + last.name + "`, drop its `?` or `*`; for a record with it " +
                "as well as the one without, use `skip none`");
    } else if (!last.negated && !last.optional && last.max > last.min) {
      warning(at, "looping step `" + last.name + "` ends pattern `" + out.name +
                      "`: a match completes as soon as it has " + std::to_string(last.min) +
                      " event" + (last.min == 1 ? "" : "s") +
                      ", and the skip strategy then ends the partial match, so `" + last.name +
                      "` never takes more")
          .note(how);
    }
  }
}

void Checker::warnAggregateCannotWork(const ast::Aggregate &a, const typed::Aggregate &out) {
  if (out.step.condition && a.step.condition) {
    if (auto why = neverTrue(*out.step.condition, 0)) {
      warning(a.step.condition->range, "the condition of step `" + out.step.name +
                                           "` is never true: " + *why + ", so aggregate `" +
                                           out.name + "` never writes a record");
    }
  }
}

void Checker::warnMixedTime() {
  // The first step (in program order) reading an event type with a time field, and the first
  // reading one without.
  const typed::Step *event_time = nullptr;
  const typed::Step *ingestion = nullptr;
  auto visit = [&](const typed::Step &s) {
    if (s.event_type < 0) {
      return;
    }
    const typed::EventType &t = program_.event_types[static_cast<std::size_t>(s.event_type)];
    const typed::Step *&slot = t.time_field >= 0 ? event_time : ingestion;
    if (slot == nullptr) {
      slot = &s;
    }
  };
  for (const auto &p : program_.patterns) {
    for (const auto &s : p.steps) {
      visit(s);
    }
  }
  for (const auto &a : program_.aggregates) {
    visit(a.step);
  }
  if (event_time == nullptr || ingestion == nullptr) {
    return;
  }
  const typed::EventType &in =
      program_.event_types[static_cast<std::size_t>(ingestion->event_type)];
  const typed::EventType &ev =
      program_.event_types[static_cast<std::size_t>(event_time->event_type)];
  warning(ingestion->range,
          "event type `" + in.name + "` has no `time` field, so its events are stamped with " +
              "the time they are read, while `" + ev.name + "` events carry their own time: " +
              "in one run both share one watermark, so once events of one kind pass the " +
              "other's times, every event of the other kind is late and is not matched")
      .note("`" + in.name + "` is declared here", in.range)
      .note("give `" + in.name + "` a `time` field (e.g. `ts: time`) that the input fills, or " +
            "run with `--time processing` to match every type in arrival order");
}

} // namespace cep::lang
