#include "lang/typed_printer.hpp"

#include "lang/diagnostics.hpp"
#include "stdlib/functions.hpp"

#include <charconv>
#include <ostream>
#include <string>

namespace cep::lang {

namespace {

using typed::Op;

std::string floatText(double f) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) { // keep floats recognisable: 1.0, not 1
    s += ".0";
  }
  return s;
}

std::string durationTextImpl(std::int64_t ms) {
  struct Unit {
    std::int64_t ms;
    const char *suffix;
  };
  static const Unit kUnits[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (const auto &u : kUnits) {
    if (ms != 0 && ms % u.ms == 0) {
      return std::to_string(ms / u.ms) + u.suffix;
    }
  }
  return std::to_string(ms) + "ms";
}

std::string valueTextImpl(const typed::Value &v) {
  if (v.is_null) {
    return "null";
  }
  switch (v.kind) {
  case TypeKind::Bool:
    return v.b ? "true" : "false";
  case TypeKind::Int:
    return std::to_string(v.i);
  case TypeKind::Float:
    return floatText(v.f);
  case TypeKind::String:
    return "\"" + jsonEscape(v.s) + "\"";
  case TypeKind::Time:
    return "time(" + std::to_string(v.i) + "ms)";
  case TypeKind::Duration:
    return durationTextImpl(v.i);
  case TypeKind::List: {
    std::string s = "[";
    for (std::size_t i = 0; i < v.list.size(); ++i) {
      s += (i > 0 ? ", " : "") + valueTextImpl(v.list[i]);
    }
    return s + "]";
  }
  default:
    return "null";
  }
}

const char *binaryText(Op op) {
  switch (op) {
  case Op::And:
    return "and";
  case Op::Or:
    return "or";
  case Op::Eq:
    return "==";
  case Op::Ne:
    return "!=";
  case Op::Lt:
    return "<";
  case Op::Le:
    return "<=";
  case Op::Gt:
    return ">";
  case Op::Ge:
    return ">=";
  case Op::Add:
    return "+";
  case Op::Sub:
    return "-";
  case Op::Mul:
    return "*";
  case Op::Div:
    return "/";
  case Op::Mod:
    return "%";
  default:
    return "?";
  }
}

constexpr int kOr = kPrecOr, kAnd = kPrecAnd, kNot = kPrecNot, kCompare = kPrecCompare,
              kAdd = kPrecAdd, kMul = kPrecMul, kUnary = kPrecUnary, kAtom = kPrecAtom;

int binaryPrec(Op op) {
  switch (op) {
  case Op::Or:
    return kOr;
  case Op::And:
    return kAnd;
  case Op::Add:
  case Op::Sub:
    return kAdd;
  case Op::Mul:
  case Op::Div:
  case Op::Mod:
    return kMul;
  default:
    return kCompare;
  }
}

class ExprText {
public:
  ExprText(const typed::Program &program, const typed::Pattern *pattern,
           const ExprTextOptions &options)
      : program_(program), steps_(pattern != nullptr ? pattern->steps.data() : nullptr),
        step_count_(pattern != nullptr ? pattern->steps.size() : 0), options_(options) {}
  // The expressions of an aggregate: its one step is step 0.
  ExprText(const typed::Program &program, const typed::Aggregate &aggregate,
           const ExprTextOptions &options)
      : program_(program), steps_(&aggregate.step), step_count_(1), options_(options) {}

  std::string print(const typed::Expr &e, int min_prec) const {
    int prec = kAtom;
    std::string s = text(e, prec);
    return prec < min_prec ? "(" + s + ")" : s;
  }

  // An aggregate declaration's accumulator as the aggregate function it computes.
  std::string call(const typed::AggregateCall &c) const {
    switch (c.op) {
    case Op::Count:
      return "count(" + stepName(0) + ")";
    case Op::First:
      return "first(" + stepName(0) + ")." + fieldOf(0, c.field);
    case Op::Last:
      return "last(" + stepName(0) + ")." + fieldOf(0, c.field);
    case Op::CountOf:
      return "count(" + print(*c.arg, kOr) + ")";
    case Op::Sum:
      return "sum(" + print(*c.arg, kOr) + ")";
    case Op::Avg:
      return "avg(" + print(*c.arg, kOr) + ")";
    case Op::Min:
      return "min(" + print(*c.arg, kOr) + ")";
    case Op::Max:
      return "max(" + print(*c.arg, kOr) + ")";
    case Op::CountDistinct:
      return "count_distinct(" + print(*c.arg, kOr) + ")";
    default:
      return "?";
    }
  }

private:
  std::string stepName(std::int32_t step) const {
    if (step >= 0 && static_cast<std::size_t>(step) < step_count_) {
      return steps_[step].name;
    }
    return "step" + std::to_string(step);
  }

  std::string fieldOf(std::int32_t step, std::int32_t field) const {
    std::int32_t ev = -1;
    if (step >= 0 && static_cast<std::size_t>(step) < step_count_) {
      ev = steps_[step].event_type;
    }
    return fieldOfType(ev, field);
  }

  std::string fieldOfType(std::int32_t ev, std::int32_t field) const {
    if (ev >= 0 && static_cast<std::size_t>(ev) < program_.event_types.size()) {
      const auto &fields = program_.event_types[static_cast<std::size_t>(ev)].fields;
      if (field >= 0 && static_cast<std::size_t>(field) < fields.size()) {
        return fields[static_cast<std::size_t>(field)].name;
      }
    }
    return "field" + std::to_string(field);
  }

  std::string args(const typed::Expr &e) const {
    std::string s;
    for (std::size_t i = 0; i < e.args.size(); ++i) {
      s += (i > 0 ? ", " : "") + print(*e.args[i], kOr);
    }
    return s;
  }

  std::string text(const typed::Expr &e, int &prec) const {
    if (e.call >= 0 && options_.show_calls) {
      std::string s = callText(e, prec);
      return s + "#" + std::to_string(e.call);
    }
    return callText(e, prec);
  }

  std::string callText(const typed::Expr &e, int &prec) const {
    prec = kAtom;
    switch (e.op) {
    case Op::Literal:
      if (!e.value.is_null && e.value.kind != lang::TypeKind::Bool &&
          e.value.kind != lang::TypeKind::String && e.value.kind != lang::TypeKind::List &&
          (e.value.kind == lang::TypeKind::Float ? e.value.f < 0 : e.value.i < 0)) {
        prec = kUnary;
      }
      return valueTextImpl(e.value);
    case Op::Field:
      if (e.step == typed::kCandidate) {
        return (options_.mark_candidate ? "$." : "") +
               fieldOfType(options_.candidate_event, e.field);
      }
      return stepName(e.step) + "." + fieldOf(e.step, e.field);
    case Op::First:
      return "first(" + stepName(e.step) + ")." + fieldOf(e.step, e.field);
    case Op::Last:
      return "last(" + stepName(e.step) + ")." + fieldOf(e.step, e.field);
    case Op::Count:
      return "count(" + stepName(e.step) + ")";
    case Op::CountOf:
      return "count(" + args(e) + ")";
    case Op::Sum:
      return "sum(" + args(e) + ")";
    case Op::Avg:
      return "avg(" + args(e) + ")";
    case Op::Min:
      return "min(" + args(e) + ")";
    case Op::Max:
      return "max(" + args(e) + ")";
    case Op::CountDistinct:
      return "count_distinct(" + args(e) + ")";
    case Op::Cast: // int -> float widening: as written in the source, or shown
      if (options_.show_casts) {
        return "float(" + args(e) + ")";
      }
      return text(*e.args[0], prec);
    case Op::Neg:
      prec = kUnary;
      return "-" + print(*e.args[0], kUnary);
    case Op::Not:
      prec = kNot;
      return "not " + print(*e.args[0], kUnary); // `not (a > b)` reads better than `not a > b`
    case Op::IsNull:
      prec = kCompare;
      return print(*e.args[0], kAdd) + " is null";
    case Op::IsNotNull:
      prec = kCompare;
      return print(*e.args[0], kAdd) + " is not null";
    case Op::In:
      prec = kCompare;
      return print(*e.args[0], kAdd) + " in " + valueTextImpl(e.value);
    case Op::NotIn:
      prec = kCompare;
      return print(*e.args[0], kAdd) + " not in " + valueTextImpl(e.value);
    case Op::Call: {
      std::string name = "fn" + std::to_string(e.function);
      if (e.function >= 0 && static_cast<std::size_t>(e.function) <
                                 sizeof(stdlib::kFunctions) / sizeof(stdlib::kFunctions[0])) {
        name = std::string(stdlib::kFunctions[e.function].name);
      }
      return name + "(" + args(e) + ")";
    }
    case Op::If:
      return "if(" + args(e) + ")";
    case Op::Coalesce:
      return "coalesce(" + args(e) + ")";
    default:
      break;
    }
    // Binary operators: left-associative, comparisons not associative.
    prec = binaryPrec(e.op);
    int right = prec + 1;
    int left = prec == kCompare ? prec + 1 : prec;
    return print(*e.args[0], left) + " " + binaryText(e.op) + " " + print(*e.args[1], right);
  }

  const typed::Program &program_;
  const typed::Step *steps_; // of the pattern or aggregate; null when none
  std::size_t step_count_;
  ExprTextOptions options_;
};

std::string typeText(const typed::Program &program, const Type &t) {
  if ((t.kind == TypeKind::Event || t.kind == TypeKind::Loop) && t.event >= 0) {
    return program.event_types[static_cast<std::size_t>(t.event)].name;
  }
  return typeName(t);
}

std::string quantifierText(const typed::Step &s) {
  if (s.min == 1 && s.max == 1) {
    return "";
  }
  if (s.max == typed::kUnbounded) {
    return " {" + std::to_string(s.min) + ",}";
  }
  if (s.min == s.max) {
    return " {" + std::to_string(s.min) + "}";
  }
  return " {" + std::to_string(s.min) + "," + std::to_string(s.max) + "}";
}

const char *skipText(typed::SkipStrategy s) {
  switch (s) {
  case typed::SkipStrategy::None:
    return "skip none";
  case typed::SkipStrategy::ToNext:
    return "skip to next";
  case typed::SkipStrategy::PastLast:
    return "skip past last";
  case typed::SkipStrategy::ToFirst:
    return "skip to first";
  case typed::SkipStrategy::ToLast:
    return "skip to last";
  }
  return "skip ?";
}

void printEmit(std::ostream &out, const typed::Program &program, const typed::Pattern &p,
               const typed::Emit &emit, const char *keyword) {
  std::string stream = emit.stream >= 0
                           ? program.streams[static_cast<std::size_t>(emit.stream)].name
                           : std::string("?");
  out << "  " << keyword << ' ' << stream << '\n';
  ExprTextOptions options;
  options.mark_candidate = true;
  options.show_casts = true;
  for (const auto &f : emit.fields) {
    out << "    " << f.name << ": " << typeText(program, f.value->type) << " = "
        << exprText(program, &p, *f.value, options) << '\n';
  }
}

void printPattern(std::ostream &out, const typed::Program &program, const typed::Pattern &p) {
  out << "pattern " << p.name << '\n';
  if (!p.key_fields.empty()) {
    out << "  partition by ";
    for (std::size_t k = 0; k < p.key_fields.size(); ++k) {
      out << (k > 0 ? ", " : "") << p.key_fields[k] << ": " << typeText(program, p.key_types[k]);
    }
    out << '\n';
  }
  if (p.within_ms) {
    out << "  within " << durationTextImpl(*p.within_ms) << '\n';
  }
  out << "  " << skipText(p.skip);
  if (p.skip_step >= 0) {
    out << ' ' << p.steps[static_cast<std::size_t>(p.skip_step)].name;
  }
  out << '\n';
  ExprTextOptions options;
  options.mark_candidate = true;
  options.show_casts = true;
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const typed::Step &s = p.steps[i];
    std::string lead = i == 0 ? "" : ast::contiguityText(s.contiguity);
    lead.resize(4, ' ');
    out << "  " << lead;
    out << (s.negated ? "not " : "") << s.name << ": "
        << (s.event_type >= 0 ? program.event_types[static_cast<std::size_t>(s.event_type)].name
                              : std::string("?"))
        << quantifierText(s);
    if (s.optional) {
      out << " optional";
    }
    if (s.greedy) {
      out << " greedy";
    }
    if (s.consecutive) {
      out << " consecutive";
    }
    if (s.combinations) {
      out << " combinations";
    }
    if (s.within_ms) {
      out << " within " << durationTextImpl(*s.within_ms);
    }
    out << '\n';
    options.candidate_event = s.event_type;
    if (s.condition) {
      out << "        where " << exprText(program, &p, *s.condition, options) << '\n';
    }
    if (s.until) {
      out << "        until " << exprText(program, &p, *s.until, options) << '\n';
    }
  }
  printEmit(out, program, p, p.emit, "emit");
  if (p.timeout_emit) {
    printEmit(out, program, p, *p.timeout_emit, "on timeout emit");
  }
}

const char *windowText(typed::WindowKind k) {
  switch (k) {
  case typed::WindowKind::Tumbling:
    return "tumbling";
  case typed::WindowKind::Hopping:
    return "hopping";
  case typed::WindowKind::Cumulate:
    return "cumulate";
  case typed::WindowKind::Session:
    return "session gap";
  case typed::WindowKind::Rolling:
    return "rolling";
  case typed::WindowKind::None:
    return "none";
  }
  return "?";
}

// An aggregate: its window, its one step, `having`, the distinct aggregate calls (`#k` marks the
// nodes that read accumulator k) and the emit.
void printAggregate(std::ostream &out, const typed::Program &program, const typed::Aggregate &a) {
  out << "aggregate " << a.name << '\n';
  if (!a.key_fields.empty()) {
    out << "  partition by ";
    for (std::size_t k = 0; k < a.key_fields.size(); ++k) {
      out << (k > 0 ? ", " : "") << a.key_fields[k] << ": " << typeText(program, a.key_types[k]);
    }
    out << '\n';
  }
  out << "  window " << windowText(a.window.kind);
  if (a.window.size_ms > 0) {
    out << ' ' << durationTextImpl(a.window.size_ms);
  }
  if (a.window.slide_ms > 0) {
    out << (a.window.kind == typed::WindowKind::Hopping ? " every " : " step ")
        << durationTextImpl(a.window.slide_ms);
  }
  out << '\n';
  if (a.lateness_ms) {
    out << "  lateness " << durationTextImpl(*a.lateness_ms) << '\n';
  }
  if (a.ttl_ms) {
    out << "  ttl " << durationTextImpl(*a.ttl_ms) << '\n';
  }
  ExprTextOptions options;
  options.mark_candidate = true;
  options.show_casts = true;
  options.show_calls = true;
  options.candidate_event = a.step.event_type;
  out << "  step " << a.step.name << ": "
      << (a.step.event_type >= 0
              ? program.event_types[static_cast<std::size_t>(a.step.event_type)].name
              : std::string("?"))
      << '\n';
  if (a.step.condition) {
    out << "        where " << ExprText(program, a, options).print(*a.step.condition, 0) << '\n';
  }
  if (a.having) {
    out << "  having " << ExprText(program, a, options).print(*a.having, 0) << '\n';
  }
  out << "  calls\n";
  for (std::size_t i = 0; i < a.calls.size(); ++i) {
    const typed::AggregateCall &c = a.calls[i];
    out << "    #" << i << ' ' << ExprText(program, a, options).call(c) << ": "
        << typeText(program, c.type) << '\n';
  }
  std::string stream = a.emit.stream >= 0
                           ? program.streams[static_cast<std::size_t>(a.emit.stream)].name
                           : std::string("?");
  out << "  emit " << stream << '\n';
  for (const auto &f : a.emit.fields) {
    out << "    " << f.name << ": " << typeText(program, f.value->type) << " = "
        << ExprText(program, a, options).print(*f.value, 0) << '\n';
  }
}

} // namespace

std::string valueText(const typed::Value &v) {
  return valueTextImpl(v);
}
std::string durationText(std::int64_t ms) {
  return durationTextImpl(ms);
}

std::string exprText(const typed::Program &program, const typed::Pattern *pattern,
                     const typed::Expr &e, const ExprTextOptions &options, int min_prec) {
  return ExprText(program, pattern, options).print(e, min_prec);
}

std::string aggregateExprText(const typed::Program &program, const typed::Aggregate &aggregate,
                              const typed::Expr &e, const ExprTextOptions &options, int min_prec) {
  return ExprText(program, aggregate, options).print(e, min_prec);
}

std::string aggregateCallText(const typed::Program &program, const typed::Aggregate &aggregate,
                              const typed::AggregateCall &call, const ExprTextOptions &options) {
  return ExprText(program, aggregate, options).call(call);
}

void printTyped(std::ostream &out, const typed::Program &program) {
  for (const auto &et : program.event_types) {
    out << "event " << et.name << " (event time: "
        << (et.time_field >= 0 ? et.fields[static_cast<std::size_t>(et.time_field)].name
                               : std::string("ingestion time"))
        << ")\n";
    for (const auto &f : et.fields) {
      out << "  " << f.name << ": " << typeText(program, f.type) << '\n';
    }
    out << '\n';
  }
  for (const auto &s : program.streams) {
    out << "stream " << s.name << " {";
    for (std::size_t i = 0; i < s.field_names.size(); ++i) {
      out << (i > 0 ? ", " : " ") << s.field_names[i] << ": "
          << typeText(program, s.field_types[i]);
    }
    out << (s.field_names.empty() ? "}" : " }") << '\n';
  }
  if (!program.streams.empty()) {
    out << '\n';
  }
  for (std::size_t i = 0; i < program.patterns.size(); ++i) {
    if (i > 0) {
      out << '\n';
    }
    printPattern(out, program, program.patterns[i]);
  }
  for (std::size_t i = 0; i < program.aggregates.size(); ++i) {
    if (i > 0 || !program.patterns.empty()) {
      out << '\n';
    }
    printAggregate(out, program, program.aggregates[i]);
  }
}

} // namespace cep::lang
