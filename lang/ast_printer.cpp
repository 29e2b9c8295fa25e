// printAstTree: one node per line, children indented by two spaces, `@line:col` of the node's
// first character at the end of the line (when `positions`). Roles that a parent has more than
// one of are written as a label before the child (`condition:`, `within:`, `body:`). Header
// clauses are printed in a fixed order (partition_by, within, skip), whatever the source order.
// Durations are shown in milliseconds, as the AST keeps them. From tests/golden/parse/:
//
//   pattern card_testing @2:1
//     partition_by card @3:18
//     within: duration 600000ms @4:12
//     skip past last @5:5
//     step small: Payment @7:5
//       condition: binary < @7:20
//         name amount @7:20
//         float 1.0 @7:29
//       quantifier {3,} @7:34
//     step -> big: Payment @8:8
//       condition: binary and @8:21
//       ...
//     emit CardTesting @10:1
//       field card @11:5
//         member card @11:13
//           name big @11:13
//     on_timeout_emit CardTestingAborted @15:1
//
// printSource: canonical source, four-space indents, one blank line between declarations.
// Expressions are parenthesised wherever precedence would otherwise decide, and also around
// `and` under `or` and around anything but a primary under `not` and unary `-`, for the reader.
#include "lang/ast_printer.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <ostream>
#include <string>

namespace cep::lang {

namespace {

using ast::BinaryOp;
using ast::Expr;
using ast::ExprKind;
using ast::UnaryOp;

const char *binaryOpText(BinaryOp op) {
  switch (op) {
  case BinaryOp::Or:
    return "or";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Mod:
    return "%";
  }
  return "?";
}

// Shortest text that reads back as the same double, and always looks like a float.
std::string formatFloat(double v) {
  if (std::isnan(v)) {
    return "nan";
  }
  if (std::isinf(v)) {
    return v < 0 ? "-inf" : "inf";
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos) {
    s += ".0";
  }
  return s;
}

// Durations in the largest unit that divides them exactly.
std::string formatDuration(std::int64_t ms) {
  struct Unit {
    std::int64_t ms;
    const char *name;
  };
  static constexpr Unit kUnits[] = {
      {24 * 60 * 60 * 1000, "d"}, {60 * 60 * 1000, "h"}, {60 * 1000, "m"}, {1000, "s"}};
  if (ms != 0) {
    for (const Unit &u : kUnits) {
      if (ms % u.ms == 0) {
        return std::to_string(ms / u.ms) + u.name;
      }
    }
  }
  return std::to_string(ms) + "ms";
}

std::string quoteString(const std::string &s) {
  static const char *hex = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20 || c == 0x7F) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += ch;
      }
    }
  }
  out += '"';
  return out;
}

std::string typeText(const ast::TypeRef &t) {
  std::string s = t.name.name;
  if (!t.args.empty()) {
    s += '<';
    for (std::size_t i = 0; i < t.args.size(); ++i) {
      s += (i ? ", " : "") + typeText(t.args[i]);
    }
    s += '>';
  }
  if (t.nullable) {
    s += '?';
  }
  return s;
}

std::string quantifierText(const ast::Quantifier &q) {
  using Kind = ast::Quantifier::Kind;
  switch (q.kind) {
  case Kind::Optional:
    return "?";
  case Kind::Plus:
    return "+";
  case Kind::Star:
    return "*";
  case Kind::Exact:
    return "{" + std::to_string(q.min) + "}";
  case Kind::AtLeast:
    return "{" + std::to_string(q.min) + ",}";
  case Kind::Range:
    return "{" + std::to_string(q.min) + "," + std::to_string(q.max) + "}";
  }
  return "";
}

const char *modifierText(ast::Modifier::Kind k) {
  using Kind = ast::Modifier::Kind;
  switch (k) {
  case Kind::Optional:
    return "optional";
  case Kind::Greedy:
    return "greedy";
  case Kind::Consecutive:
    return "consecutive";
  case Kind::Combinations:
    return "combinations";
  case Kind::Until:
    return "until";
  }
  return "";
}

std::string skipText(const ast::Skip &s) {
  switch (s.kind) {
  case ast::SkipKind::None:
    return "none";
  case ast::SkipKind::ToNext:
    return "to next";
  case ast::SkipKind::PastLast:
    return "past last";
  case ast::SkipKind::ToFirst:
    return "to first " + (s.step ? s.step->name : std::string());
  case ast::SkipKind::ToLast:
    return "to last " + (s.step ? s.step->name : std::string());
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Tree
// ---------------------------------------------------------------------------------------------

class TreePrinter {
public:
  TreePrinter(std::ostream &out, const SourceManager &sources, bool positions)
      : out_(out), sources_(sources), positions_(positions) {}

  void module(const ast::Module &m) {
    using Kind = ast::Module::DeclKind;
    for (const auto &ref : m.order) {
      switch (ref.kind) {
      case Kind::Import: {
        const auto &d = m.imports.at(ref.index);
        line(0, "import " + quoteString(d.path), d.range);
        break;
      }
      case Kind::Const: {
        const auto &d = m.consts.at(ref.index);
        line(0, "const " + d.name.name, d.range);
        expr(1, "", d.value.get());
        break;
      }
      case Kind::Def:
        def(m.defs.at(ref.index));
        break;
      case Kind::Event:
        event(m.events.at(ref.index));
        break;
      case Kind::Pattern:
        pattern(m.patterns.at(ref.index));
        break;
      case Kind::Aggregate:
        aggregate(m.aggregates.at(ref.index));
        break;
      case Kind::Test:
        test(m.tests.at(ref.index));
        break;
      }
    }
  }

private:
  void test(const ast::Test &t) {
    std::string head = "test " + t.name.name;
    for (std::size_t i = 0; i < t.rules.size(); ++i) {
      head += (i ? ", " : " for ") + t.rules[i].name;
    }
    line(0, head, t.range);
    for (const ast::TestOption &o : t.options) {
      line(1, "option " + o.name + (o.value.empty() ? "" : " " + o.value), o.range);
    }
    auto records = [&](const char *what, const std::vector<ast::TestRecords> &all) {
      for (const ast::TestRecords &r : all) {
        if (r.file) {
          line(1, std::string(what) + " " + quoteString(*r.file), r.range);
        } else if (r.none) {
          line(1, std::string(what) + " none", r.range);
        } else {
          line(1, std::string(what), r.range);
          for (const ast::JsonRecord &j : r.records) {
            // One line per record: a line break and the indentation after it become a space.
            std::string text;
            for (std::size_t i = 0; i < j.text.size(); ++i) {
              if (j.text[i] == '\n' || j.text[i] == '\r') {
                while (i + 1 < j.text.size() &&
                       std::isspace(static_cast<unsigned char>(j.text[i + 1]))) {
                  ++i;
                }
                text += ' ';
              } else {
                text += j.text[i];
              }
            }
            line(2, text, j.range);
          }
        }
      }
    };
    records("input", t.inputs);
    records("expect", t.expects);
    records("expect late", t.expects_late);
  }

  void line(int indent, const std::string &text, SourceRange r) {
    out_ << std::string(static_cast<std::size_t>(indent) * 2, ' ') << text;
    if (positions_ && r.file != 0 && r.file < sources_.size()) {
      LineCol lc = sources_.file(r.file).lineCol(r.begin);
      out_ << " @" << lc.line << ':' << lc.column;
    }
    out_ << '\n';
  }

  void def(const ast::Def &d) {
    line(0, "def " + d.name.name, d.range);
    for (const auto &p : d.params) {
      line(1, "param " + p.name.name + ": " + typeText(p.type), p.name.range);
    }
    expr(1, "body: ", d.body.get());
  }

  void event(const ast::EventDecl &e) {
    line(0, "event " + e.name.name, e.range);
    for (const auto &f : e.fields) {
      line(1, "field " + f.name.name + ": " + typeText(f.type), f.range);
    }
  }

  void pattern(const ast::Pattern &p) {
    line(0, "pattern " + p.name.name, p.range);
    if (p.partition_by) {
      for (const auto &key : *p.partition_by) {
        line(1, "partition_by " + key.name, key.range);
      }
    }
    if (p.within) {
      expr(1, "within: ", p.within.get());
    }
    if (p.skip) {
      line(1, "skip " + skipText(*p.skip), p.skip->range);
    }
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
      step(p.steps[i], i == 0);
    }
    emit("emit ", p.emit);
    if (p.timeout_emit) {
      emit("on_timeout_emit ", *p.timeout_emit);
    }
  }

  void aggregate(const ast::Aggregate &a) {
    line(0, "aggregate " + a.name.name, a.range);
    if (a.partition_by) {
      for (const auto &key : *a.partition_by) {
        line(1, "partition_by " + key.name, key.range);
      }
    }
    if (a.window) {
      line(1, std::string("window ") + ast::windowKindText(a.window->kind), a.window->range);
      if (a.window->size) {
        expr(2,
             a.window->kind == ast::WindowKind::Session ? "gap: " : "size: ", a.window->size.get());
      }
      if (a.window->slide) {
        expr(2, a.window->kind == ast::WindowKind::Hopping ? "every: " : "step: ",
             a.window->slide.get());
      }
    }
    if (a.lateness) {
      expr(1, "lateness: ", a.lateness.get());
    }
    if (a.ttl) {
      expr(1, "ttl: ", a.ttl.get());
    }
    step(a.step, true);
    if (a.having) {
      expr(1, "having: ", a.having.get());
    }
    emit("emit ", a.emit);
  }

  void step(const ast::Step &s, bool first) {
    std::string head = "step";
    if (!first) {
      head += ' ';
      head += ast::contiguityText(s.contiguity);
    }
    if (s.negated) {
      head += " not";
    }
    if (s.name) {
      head += ' ' + s.name->name + ':';
    }
    head += ' ' + s.type.name;
    if (s.has_parens && !s.condition) {
      head += "()";
    }
    line(1, head, s.range);
    if (s.condition) {
      expr(2, "condition: ", s.condition.get());
    }
    if (s.quantifier) {
      line(2, "quantifier " + quantifierText(*s.quantifier), s.quantifier->range);
    }
    for (const auto &m : s.modifiers) {
      line(2, std::string("modifier ") + modifierText(m.kind), m.range);
      if (m.condition) {
        expr(3, "", m.condition.get());
      }
    }
    if (s.within) {
      expr(2, "within: ", s.within.get());
    }
  }

  void emit(const char *head, const ast::Emit &e) {
    line(1, head + e.stream.name, e.range);
    for (const auto &f : e.fields) {
      line(2, "field " + f.name.name, f.range);
      expr(3, "", f.value.get());
    }
  }

  void expr(int indent, const std::string &label, const Expr *e) {
    if (e == nullptr) {
      line(indent, label + "<missing>", {});
      return;
    }
    std::string text;
    switch (e->kind) {
    case ExprKind::IntLit:
      text = "int " + std::to_string(e->int_value);
      break;
    case ExprKind::FloatLit:
      text = "float " + formatFloat(e->float_value);
      break;
    case ExprKind::StringLit:
      text = "string " + quoteString(e->text);
      break;
    case ExprKind::BoolLit:
      text = e->bool_value ? "bool true" : "bool false";
      break;
    case ExprKind::NullLit:
      text = "null";
      break;
    case ExprKind::DurationLit:
      text = "duration " + std::to_string(e->int_value) + "ms";
      break;
    case ExprKind::ListLit:
      text = "list";
      break;
    case ExprKind::Name:
      text = "name " + e->text;
      break;
    case ExprKind::Member:
      text = "member " + e->name.name;
      break;
    case ExprKind::Call:
      text = "call " + e->name.name;
      break;
    case ExprKind::Unary:
      text = e->unary_op == UnaryOp::Neg ? "unary -" : "unary not";
      break;
    case ExprKind::Binary:
      text = std::string("binary ") + binaryOpText(e->binary_op);
      break;
    case ExprKind::IsNull:
      text = e->negated ? "is_not_null" : "is_null";
      break;
    case ExprKind::In:
      text = e->negated ? "not_in" : "in";
      break;
    }
    line(indent, label + text, e->range);
    for (const auto &child : e->children) {
      expr(indent + 1, "", child.get());
    }
  }

  std::ostream &out_;
  const SourceManager &sources_;
  bool positions_;
};

// ---------------------------------------------------------------------------------------------
// Source
// ---------------------------------------------------------------------------------------------

// Binding strength, loosest first (spec §3.5).
enum Level : int {
  kOr = 1,
  kAnd,
  kNot,
  kComparison,
  kAdditive,
  kMultiplicative,
  kNegation,
  kPrimary,
};

int level(const Expr &e) {
  switch (e.kind) {
  case ExprKind::Binary:
    switch (e.binary_op) {
    case BinaryOp::Or:
      return kOr;
    case BinaryOp::And:
      return kAnd;
    case BinaryOp::Add:
    case BinaryOp::Sub:
      return kAdditive;
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Mod:
      return kMultiplicative;
    default:
      return kComparison;
    }
  case ExprKind::Unary:
    return e.unary_op == UnaryOp::Not ? kNot : kNegation;
  case ExprKind::IsNull:
  case ExprKind::In:
    return kComparison;
  default:
    return kPrimary;
  }
}

bool isBinary(const Expr &e, BinaryOp op) {
  return e.kind == ExprKind::Binary && e.binary_op == op;
}

std::string exprText(const Expr *e);

// `e` in a position that needs at least `min_level`, in parentheses otherwise.
std::string operand(const Expr *e, int min_level) {
  std::string text = exprText(e);
  if (e != nullptr && level(*e) < min_level) {
    return "(" + text + ")";
  }
  return text;
}

std::string exprText(const Expr *e) {
  if (e == nullptr) {
    return "null";
  }
  auto child = [&](std::size_t i) {
    return i < e->children.size() ? e->children[i].get() : nullptr;
  };
  switch (e->kind) {
  case ExprKind::IntLit:
    return std::to_string(e->int_value);
  case ExprKind::FloatLit:
    return formatFloat(e->float_value);
  case ExprKind::StringLit:
    return quoteString(e->text);
  case ExprKind::BoolLit:
    return e->bool_value ? "true" : "false";
  case ExprKind::NullLit:
    return "null";
  case ExprKind::DurationLit:
    return formatDuration(e->int_value);
  case ExprKind::Name:
    return e->text;
  case ExprKind::ListLit:
  case ExprKind::Call: {
    std::string s = e->kind == ExprKind::Call ? e->name.name + "(" : "[";
    for (std::size_t i = 0; i < e->children.size(); ++i) {
      s += (i ? ", " : "") + exprText(e->children[i].get());
    }
    return s + (e->kind == ExprKind::Call ? ")" : "]");
  }
  case ExprKind::Member: {
    const Expr *object = child(0);
    bool literal = object != nullptr &&
                   (object->kind == ExprKind::IntLit || object->kind == ExprKind::FloatLit ||
                    object->kind == ExprKind::DurationLit);
    std::string s = literal ? "(" + exprText(object) + ")" : operand(object, kPrimary);
    return s + "." + e->name.name;
  }
  case ExprKind::Unary: {
    const Expr *x = child(0);
    if (e->unary_op == UnaryOp::Not) {
      bool bare = x != nullptr && (level(*x) == kPrimary ||
                                   (x->kind == ExprKind::Unary && x->unary_op == UnaryOp::Not));
      return "not " + (bare ? exprText(x) : "(" + exprText(x) + ")");
    }
    return "-" + operand(x, kPrimary);
  }
  case ExprKind::Binary: {
    const Expr *l = child(0);
    const Expr *r = child(1);
    int lmin = 0, rmin = 0;
    switch (level(*e)) {
    case kOr:
    case kAnd:
      // Same operator on the left reads naturally; anything looser than `not` gets parentheses
      // (so `and` under `or` is always parenthesised).
      lmin = l != nullptr && isBinary(*l, e->binary_op) ? kOr : kNot;
      rmin = kNot;
      break;
    case kComparison:
      lmin = rmin = kAdditive; // non-associative
      break;
    default:
      lmin = level(*e);
      rmin = level(*e) + 1;
      break;
    }
    return operand(l, lmin) + " " + binaryOpText(e->binary_op) + " " + operand(r, rmin);
  }
  case ExprKind::IsNull:
    return operand(child(0), kAdditive) + (e->negated ? " is not null" : " is null");
  case ExprKind::In:
    return operand(child(0), kAdditive) + (e->negated ? " not in " : " in ") +
           operand(child(1), kAdditive);
  }
  return "null";
}

class SourcePrinter {
public:
  explicit SourcePrinter(std::ostream &out) : out_(out) {}

  void module(const ast::Module &m) {
    using Kind = ast::Module::DeclKind;
    bool first = true;
    for (const auto &ref : m.order) {
      if (!first) {
        out_ << '\n';
      }
      first = false;
      switch (ref.kind) {
      case Kind::Import:
        out_ << "import " << quoteString(m.imports.at(ref.index).path) << '\n';
        break;
      case Kind::Const: {
        const auto &c = m.consts.at(ref.index);
        out_ << "const " << c.name.name << " = " << exprText(c.value.get()) << '\n';
        break;
      }
      case Kind::Def:
        def(m.defs.at(ref.index));
        break;
      case Kind::Event:
        event(m.events.at(ref.index));
        break;
      case Kind::Pattern:
        pattern(m.patterns.at(ref.index));
        break;
      case Kind::Aggregate:
        aggregate(m.aggregates.at(ref.index));
        break;
      case Kind::Test:
        test(m.tests.at(ref.index));
        break;
      }
    }
  }

private:
  void test(const ast::Test &t) {
    out_ << "test " << t.name.name;
    for (std::size_t i = 0; i < t.rules.size(); ++i) {
      out_ << (i ? ", " : " for ") << t.rules[i].name;
    }
    out_ << " {\n";
    if (!t.options.empty()) {
      out_ << "    options";
      for (const ast::TestOption &o : t.options) {
        out_ << ' ' << o.name << (o.value.empty() ? "" : " " + o.value);
      }
      out_ << '\n';
    }
    auto records = [&](const char *what, const std::vector<ast::TestRecords> &all) {
      for (const ast::TestRecords &r : all) {
        out_ << "    " << what << ' ';
        if (r.file) {
          out_ << quoteString(*r.file) << '\n';
        } else if (r.none) {
          out_ << "none\n";
        } else {
          out_ << "{\n";
          for (const ast::JsonRecord &j : r.records) {
            out_ << "        " << j.text << '\n';
          }
          out_ << "    }\n";
        }
      }
    };
    records("input", t.inputs);
    records("expect", t.expects);
    records("expect late", t.expects_late);
    out_ << "}\n";
  }

  void def(const ast::Def &d) {
    out_ << "def " << d.name.name << '(';
    for (std::size_t i = 0; i < d.params.size(); ++i) {
      out_ << (i ? ", " : "") << d.params[i].name.name << ": " << typeText(d.params[i].type);
    }
    out_ << ") = " << exprText(d.body.get()) << '\n';
  }

  void event(const ast::EventDecl &e) {
    out_ << "event " << e.name.name << " {";
    if (e.fields.empty()) {
      out_ << "}\n";
      return;
    }
    out_ << '\n';
    for (const auto &f : e.fields) {
      out_ << "    " << f.name.name << ": " << typeText(f.type) << '\n';
    }
    out_ << "}\n";
  }

  void pattern(const ast::Pattern &p) {
    out_ << "pattern " << p.name.name;
    bool header = false;
    if (p.partition_by) {
      out_ << "\n    partition by ";
      for (std::size_t i = 0; i < p.partition_by->size(); ++i) {
        out_ << (i ? ", " : "") << (*p.partition_by)[i].name;
      }
      header = true;
    }
    if (p.within) {
      out_ << "\n    within " << exprText(p.within.get());
      header = true;
    }
    if (p.skip) {
      out_ << "\n    skip " << skipText(*p.skip);
      header = true;
    }
    out_ << (header ? "\n{\n" : " {\n");
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
      const ast::Step &s = p.steps[i];
      out_ << "    ";
      if (i > 0 && s.contiguity != ast::Contiguity::Strict) {
        out_ << ast::contiguityText(s.contiguity) << ' ';
      }
      step(s);
      bool next_strict =
          i + 1 < p.steps.size() && p.steps[i + 1].contiguity == ast::Contiguity::Strict;
      out_ << (next_strict ? ",\n" : "\n");
    }
    out_ << "}\n";
    emit("emit ", p.emit);
    if (p.timeout_emit) {
      emit("on timeout emit ", *p.timeout_emit);
    }
  }

  void aggregate(const ast::Aggregate &a) {
    out_ << "aggregate " << a.name.name;
    if (a.partition_by) {
      out_ << "\n    partition by ";
      for (std::size_t i = 0; i < a.partition_by->size(); ++i) {
        out_ << (i ? ", " : "") << (*a.partition_by)[i].name;
      }
    }
    if (a.window) {
      const ast::Window &w = *a.window;
      out_ << "\n    window " << ast::windowKindText(w.kind);
      if (w.kind == ast::WindowKind::Session) {
        out_ << " gap";
      }
      if (w.size) {
        out_ << ' ' << exprText(w.size.get());
      }
      if (w.slide) {
        out_ << (w.kind == ast::WindowKind::Hopping ? " every " : " step ")
             << exprText(w.slide.get());
      }
    }
    if (a.lateness) {
      out_ << "\n    lateness " << exprText(a.lateness.get());
    }
    if (a.ttl) {
      out_ << "\n    ttl " << exprText(a.ttl.get());
    }
    out_ << "\n{\n    ";
    step(a.step);
    out_ << "\n}\n";
    if (a.having) {
      out_ << "having " << exprText(a.having.get()) << '\n';
    }
    emit("emit ", a.emit);
  }

  void step(const ast::Step &s) {
    if (s.negated) {
      out_ << "not ";
    }
    if (s.name) {
      out_ << s.name->name << ": ";
    }
    out_ << s.type.name;
    if (s.has_parens || s.condition) {
      out_ << '(' << (s.condition ? exprText(s.condition.get()) : "") << ')';
    }
    if (s.quantifier) {
      out_ << quantifierText(*s.quantifier);
    }
    for (const auto &m : s.modifiers) {
      out_ << ' ' << modifierText(m.kind);
      if (m.kind == ast::Modifier::Kind::Until) {
        out_ << '(' << exprText(m.condition.get()) << ')';
      }
    }
    if (s.within) {
      out_ << " within " << exprText(s.within.get());
    }
  }

  void emit(const char *head, const ast::Emit &e) {
    out_ << head << e.stream.name << " {";
    if (e.fields.empty()) {
      out_ << "}\n";
      return;
    }
    out_ << '\n';
    for (const auto &f : e.fields) {
      out_ << "    " << f.name.name << ": " << exprText(f.value.get()) << ",\n";
    }
    out_ << "}\n";
  }

  std::ostream &out_;
};

} // namespace

void printAstTree(std::ostream &out, const ast::Module &module, const SourceManager &sources,
                  bool positions) {
  TreePrinter(out, sources, positions).module(module);
}

void printSource(std::ostream &out, const ast::Module &module) {
  SourcePrinter(out).module(module);
}

} // namespace cep::lang
