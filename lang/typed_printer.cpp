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

std::string durationText(std::int64_t ms) {
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

std::string valueText(const typed::Value &v) {
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
    return durationText(v.i);
  case TypeKind::List: {
    std::string s = "[";
    for (std::size_t i = 0; i < v.list.size(); ++i) {
      s += (i > 0 ? ", " : "") + valueText(v.list[i]);
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
    return nullptr;
  }
}

class ExprPrinter {
public:
  ExprPrinter(const typed::Program &program, const typed::Pattern *pattern)
      : program_(program), pattern_(pattern) {}

  std::string print(const typed::Expr &e) const { return text(e, false); }

private:
  std::string stepName(std::int32_t step) const {
    if (step == typed::kCandidate) {
      return "$";
    }
    if (pattern_ != nullptr && step >= 0 &&
        static_cast<std::size_t>(step) < pattern_->steps.size()) {
      return pattern_->steps[static_cast<std::size_t>(step)].name;
    }
    return "step" + std::to_string(step);
  }

  std::string fieldName(std::int32_t step, std::int32_t field) const {
    std::int32_t ev = -1;
    if (pattern_ != nullptr && step >= 0 &&
        static_cast<std::size_t>(step) < pattern_->steps.size()) {
      ev = pattern_->steps[static_cast<std::size_t>(step)].event_type;
    }
    if (ev >= 0 && field >= 0 &&
        static_cast<std::size_t>(field) <
            program_.event_types[static_cast<std::size_t>(ev)].fields.size()) {
      return program_.event_types[static_cast<std::size_t>(ev)]
          .fields[static_cast<std::size_t>(field)]
          .name;
    }
    return "field" + std::to_string(field);
  }

  // The candidate's event type is the step whose condition is printed; the printer does not
  // know it, so candidate fields are resolved through `current_event`.
  std::string candidateField(std::int32_t field) const {
    if (current_event_ >= 0 &&
        static_cast<std::size_t>(field) <
            program_.event_types[static_cast<std::size_t>(current_event_)].fields.size()) {
      return program_.event_types[static_cast<std::size_t>(current_event_)]
          .fields[static_cast<std::size_t>(field)]
          .name;
    }
    return "field" + std::to_string(field);
  }

  std::string args(const typed::Expr &e) const {
    std::string s;
    for (std::size_t i = 0; i < e.args.size(); ++i) {
      s += (i > 0 ? ", " : "") + text(*e.args[i], false);
    }
    return s;
  }

  std::string text(const typed::Expr &e, bool nested) const {
    std::string s;
    switch (e.op) {
    case Op::Literal:
      return valueText(e.value);
    case Op::Field:
      if (e.step == typed::kCandidate) {
        return "$." + candidateField(e.field);
      }
      return stepName(e.step) + "." + fieldName(e.step, e.field);
    case Op::First:
      return "first(" + stepName(e.step) + ")." + fieldName(e.step, e.field);
    case Op::Last:
      return "last(" + stepName(e.step) + ")." + fieldName(e.step, e.field);
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
    case Op::Cast:
      return "float(" + args(e) + ")";
    case Op::Neg:
      return "-" + text(*e.args[0], true);
    case Op::Not:
      s = "not " + text(*e.args[0], true);
      break;
    case Op::IsNull:
      s = text(*e.args[0], true) + " is null";
      break;
    case Op::IsNotNull:
      s = text(*e.args[0], true) + " is not null";
      break;
    case Op::In:
      s = text(*e.args[0], true) + " in " + valueText(e.value);
      break;
    case Op::NotIn:
      s = text(*e.args[0], true) + " not in " + valueText(e.value);
      break;
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
    default: {
      const char *op = binaryText(e.op);
      s = text(*e.args[0], true) + " " + (op != nullptr ? op : "?") + " " + text(*e.args[1], true);
      break;
    }
    }
    return nested ? "(" + s + ")" : s;
  }

public:
  std::int32_t current_event_ = -1;

private:
  const typed::Program &program_;
  const typed::Pattern *pattern_;
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

const char *contiguityText(ast::Contiguity c) {
  switch (c) {
  case ast::Contiguity::Strict:
    return ",";
  case ast::Contiguity::Relaxed:
    return "->";
  case ast::Contiguity::NonDeterministic:
    return "->>";
  }
  return "?";
}

void printEmit(std::ostream &out, const typed::Program &program, const typed::Pattern &p,
               const typed::Emit &emit, const char *keyword) {
  std::string stream = emit.stream >= 0
                           ? program.streams[static_cast<std::size_t>(emit.stream)].name
                           : std::string("?");
  out << "  " << keyword << ' ' << stream << '\n';
  ExprPrinter printer(program, &p);
  for (const auto &f : emit.fields) {
    out << "    " << f.name << ": " << typeText(program, f.value->type) << " = "
        << printer.print(*f.value) << '\n';
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
    out << "  within " << durationText(*p.within_ms) << '\n';
  }
  out << "  " << skipText(p.skip);
  if (p.skip_step >= 0) {
    out << ' ' << p.steps[static_cast<std::size_t>(p.skip_step)].name;
  }
  out << '\n';
  ExprPrinter printer(program, &p);
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const typed::Step &s = p.steps[i];
    std::string lead = i == 0 ? "" : contiguityText(s.contiguity);
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
      out << " within " << durationText(*s.within_ms);
    }
    out << '\n';
    printer.current_event_ = s.event_type;
    if (s.condition) {
      out << "        where " << printer.print(*s.condition) << '\n';
    }
    if (s.until) {
      out << "        until " << printer.print(*s.until) << '\n';
    }
  }
  printEmit(out, program, p, p.emit, "emit");
  if (p.timeout_emit) {
    printEmit(out, program, p, *p.timeout_emit, "on timeout emit");
  }
}

} // namespace

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
