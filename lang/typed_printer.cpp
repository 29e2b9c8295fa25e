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
      : program_(program), pattern_(pattern), options_(options) {}

  std::string print(const typed::Expr &e, int min_prec) const {
    int prec = kAtom;
    std::string s = text(e, prec);
    return prec < min_prec ? "(" + s + ")" : s;
  }

private:
  std::string stepName(std::int32_t step) const {
    if (pattern_ != nullptr && step >= 0 &&
        static_cast<std::size_t>(step) < pattern_->steps.size()) {
      return pattern_->steps[static_cast<std::size_t>(step)].name;
    }
    return "step" + std::to_string(step);
  }

  std::string fieldOf(std::int32_t step, std::int32_t field) const {
    std::int32_t ev = -1;
    if (pattern_ != nullptr && step >= 0 &&
        static_cast<std::size_t>(step) < pattern_->steps.size()) {
      ev = pattern_->steps[static_cast<std::size_t>(step)].event_type;
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
  const typed::Pattern *pattern_;
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
}

} // namespace cep::lang
