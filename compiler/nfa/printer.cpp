#include "compiler/nfa/printer.hpp"

#include "lang/typed_printer.hpp"
#include "stdlib/functions.hpp"

#include <charconv>
#include <ostream>
#include <sstream>

namespace cep::compiler::nfa {

namespace {

namespace typed = lang::typed;
using lang::durationText;
constexpr int kOr = lang::kPrecOr, kAnd = lang::kPrecAnd, kNot = lang::kPrecNot,
              kUnary = lang::kPrecUnary, kAtom = lang::kPrecAtom;
using typed::Op;

// Guards. Precedences: or 1, and 2, not 3, leaves 4.
class GuardPrinter {
public:
  GuardPrinter(const Nfa &nfa, const State &state) : nfa_(nfa), state_(state) {}

  std::string print(const Guard &g, int min_prec) const {
    int prec = 4;
    std::string s = text(g, prec);
    return prec < min_prec ? "(" + s + ")" : s;
  }

private:
  // The condition of `step`, whose candidate is an event of that step's type.
  std::string exprText(std::int32_t step, const typed::Expr &e, int min_prec) const {
    const typed::Pattern &pattern = nfa_.patternDecl();
    lang::ExprTextOptions options;
    if (step >= 0 && static_cast<std::size_t>(step) < pattern.steps.size()) {
      options.candidate_event = pattern.steps[static_cast<std::size_t>(step)].event_type;
    }
    return lang::exprText(*nfa_.program, &pattern, e, options, min_prec);
  }

  std::string typeName(std::int32_t t) const {
    if (t >= 0 && static_cast<std::size_t>(t) < nfa_.program->event_types.size()) {
      return nfa_.program->event_types[static_cast<std::size_t>(t)].name;
    }
    return "type" + std::to_string(t);
  }

  std::string stepName() const {
    const auto &steps = nfa_.patternDecl().steps;
    if (state_.step >= 0 && static_cast<std::size_t>(state_.step) < steps.size()) {
      return steps[static_cast<std::size_t>(state_.step)].name;
    }
    return "counter";
  }

  // Conditions on the event's fields only (no TypeIs, no counter): printed inside `T(...)`.
  static bool eventLocal(const Guard &g) {
    switch (g.kind) {
    case Guard::Kind::Cond:
      return true;
    case Guard::Kind::Not:
    case Guard::Kind::And:
    case Guard::Kind::Or:
      for (const auto &a : g.args) {
        if (!a || !eventLocal(*a)) {
          return false;
        }
      }
      return !g.args.empty();
    default:
      return false;
    }
  }

  // An event-local guard as a source expression.
  std::string local(const Guard &g, int min_prec) const {
    int prec = kAtom;
    std::string s;
    switch (g.kind) {
    case Guard::Kind::Cond:
      return exprText(g.step, *g.expr, min_prec);
    case Guard::Kind::Not:
      prec = kNot;
      s = "not " + local(*g.args[0], kUnary);
      break;
    case Guard::Kind::And:
    case Guard::Kind::Or: {
      bool is_and = g.kind == Guard::Kind::And;
      prec = is_and ? kAnd : kOr;
      for (std::size_t i = 0; i < g.args.size(); ++i) {
        s += (i > 0 ? (is_and ? " and " : " or ") : "") + local(*g.args[i], prec);
      }
      break;
    }
    default:
      return "?";
    }
    return prec < min_prec ? "(" + s + ")" : s;
  }

  std::string text(const Guard &g, int &prec) const {
    prec = 4;
    switch (g.kind) {
    case Guard::Kind::True:
      return "true";
    case Guard::Kind::False:
      return "false";
    case Guard::Kind::TypeIs:
      return typeName(g.event_type);
    case Guard::Kind::Cond:
      return "(" + local(g, kOr) + ")";
    case Guard::Kind::CountBelow:
      return "count(" + stepName() + ") < " + std::to_string(g.count);
    case Guard::Kind::CountAtLeast:
      return "count(" + stepName() + ") >= " + std::to_string(g.count);
    case Guard::Kind::Not:
      prec = 3;
      return "not " + print(*g.args[0], 3);
    case Guard::Kind::Or: {
      prec = 1;
      std::string s;
      for (std::size_t i = 0; i < g.args.size(); ++i) {
        s += (i > 0 ? " or " : "") + print(*g.args[i], 1);
      }
      return s;
    }
    case Guard::Kind::And:
      return conjunction(g, prec);
    }
    return "?";
  }

  // TypeIs(T) followed by conditions prints as `T(cond and ...)`; other conjuncts follow.
  std::string conjunction(const Guard &g, int &prec) const {
    std::vector<std::string> parts;
    std::size_t i = 0;
    if (!g.args.empty() && g.args[0]->kind == Guard::Kind::TypeIs) {
      std::string inner;
      for (std::size_t k = 1; k < g.args.size(); ++k) {
        if (eventLocal(*g.args[k])) {
          inner += (inner.empty() ? "" : " and ") + local(*g.args[k], kAnd);
        }
      }
      std::string head = typeName(g.args[0]->event_type);
      parts.push_back(inner.empty() ? head : head + "(" + inner + ")");
      i = 1;
    }
    bool grouped = i == 1;
    for (; i < g.args.size(); ++i) {
      if (grouped && eventLocal(*g.args[i])) {
        continue;
      }
      parts.push_back(print(*g.args[i], 2));
    }
    prec = parts.size() > 1 ? 2 : 4;
    std::string s;
    for (std::size_t k = 0; k < parts.size(); ++k) {
      s += (k > 0 ? " and " : "") + parts[k];
    }
    return s;
  }

  const Nfa &nfa_;
  const State &state_;
};

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

std::string skipLine(const Nfa &nfa) {
  std::string s = skipText(nfa.skip);
  if ((nfa.skip == typed::SkipStrategy::ToFirst || nfa.skip == typed::SkipStrategy::ToLast) &&
      nfa.skip_step >= 0 &&
      static_cast<std::size_t>(nfa.skip_step) < nfa.patternDecl().steps.size()) {
    s += " " + nfa.patternDecl().steps[static_cast<std::size_t>(nfa.skip_step)].name;
  }
  return s;
}

std::vector<std::string> stateAttributes(const State &s) {
  std::vector<std::string> attrs;
  if (s.kind != StateKind::Normal) {
    attrs.emplace_back(stateKindName(s.kind));
  }
  if (s.loop) {
    attrs.emplace_back("loop");
  }
  if (s.within_ms) {
    attrs.push_back("within " + durationText(*s.within_ms));
  }
  if (s.completes_at_end) {
    attrs.emplace_back("completes at end of input");
  }
  return attrs;
}

std::string targetName(const Nfa &nfa, StateId t) {
  if (t >= 0 && static_cast<std::size_t>(t) < nfa.states.size()) {
    return nfa.states[static_cast<std::size_t>(t)].name;
  }
  return "#" + std::to_string(t);
}

std::string dotEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// Breaks a label into lines of about `width` characters at spaces (DOT `\n`).
std::string wrap(const std::string &s, std::size_t width) {
  std::string out, line;
  std::istringstream words(s);
  std::string w;
  while (words >> w) {
    if (!line.empty() && line.size() + 1 + w.size() > width) {
      out += dotEscape(line) + "\\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  return out + dotEscape(line);
}

} // namespace

std::string guardText(const Nfa &nfa, const State &state, const Guard &guard) {
  return GuardPrinter(nfa, state).print(guard, 0);
}

void printText(std::ostream &out, const Nfa &nfa) {
  out << "pattern " << nfa.pattern << '\n';
  if (nfa.within_ms) {
    out << "  within " << durationText(*nfa.within_ms) << '\n';
  }
  out << "  " << skipLine(nfa) << '\n';
  if (nfa.has_timeout_emit) {
    out << "  on timeout emit\n";
  }
  out << "  start " << targetName(nfa, nfa.start) << '\n';
  for (const State &s : nfa.states) {
    out << s.name;
    auto attrs = stateAttributes(s);
    for (std::size_t i = 0; i < attrs.size(); ++i) {
      out << (i == 0 ? " (" : ", ") << attrs[i];
    }
    out << (attrs.empty() ? "" : ")") << '\n';
    for (const Edge &e : s.edges) {
      out << "  " << edgeKindName(e.kind) << " -> " << targetName(nfa, e.target);
      if (e.guard) {
        out << " [" << guardText(nfa, s, *e.guard) << "]";
      }
      if (e.counts) {
        out << " count+1";
      }
      out << '\n';
    }
  }
}

void printDot(std::ostream &out, const std::vector<const Nfa *> &nfas) {
  out << "digraph nfa {\n"
      << "  rankdir=LR;\n"
      << "  node [shape=ellipse, fontname=\"Helvetica\", fontsize=11];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  const bool clusters = nfas.size() > 1;
  for (std::size_t p = 0; p < nfas.size(); ++p) {
    const Nfa &nfa = *nfas[p];
    std::string indent = clusters ? "    " : "  ";
    std::string id = "p" + std::to_string(p) + "_";
    std::string title = "pattern " + nfa.pattern;
    if (nfa.within_ms) {
      title += ", within " + durationText(*nfa.within_ms);
    }
    title += ", " + skipLine(nfa);
    if (clusters) {
      out << "  subgraph cluster_" << p << " {\n";
    }
    out << indent << "label=\"" << dotEscape(title) << "\";\n" << indent << "labelloc=t;\n";
    out << indent << id << "start [shape=point, width=0.1, label=\"\"];\n";
    for (std::size_t i = 0; i < nfa.states.size(); ++i) {
      const State &s = nfa.states[i];
      std::string label = s.name;
      std::string extra;
      if (s.within_ms) {
        label += "\\nwithin " + durationText(*s.within_ms);
      }
      if (s.completes_at_end) {
        label += "\\ncompletes at end";
      }
      switch (s.kind) {
      case StateKind::Final:
        extra = ", shape=doublecircle, style=filled, fillcolor=\"#d8f0d8\"";
        break;
      case StateKind::Stop:
        extra = ", shape=octagon, color=red, fontcolor=red";
        break;
      case StateKind::Pending:
        extra = ", shape=doublecircle, style=dashed, color=darkorange";
        break;
      case StateKind::Normal:
        if (s.loop) {
          extra = ", shape=box, style=rounded";
        }
        break;
      }
      out << indent << id << i << " [label=\"" << dotEscape(s.name) << label.substr(s.name.size())
          << "\"" << extra << "];\n";
    }
    out << indent << id << "start -> " << id << nfa.start << ";\n";
    for (std::size_t i = 0; i < nfa.states.size(); ++i) {
      const State &s = nfa.states[i];
      for (const Edge &e : s.edges) {
        std::string label = edgeKindName(e.kind);
        if (e.guard) {
          label += "\\n" + wrap(guardText(nfa, s, *e.guard), 36);
        }
        if (e.counts) {
          label += "\\ncount+1";
        }
        std::string style;
        switch (e.kind) {
        case EdgeKind::Take:
          style = "color=black";
          break;
        case EdgeKind::Ignore:
          style = "style=dashed, color=gray45, fontcolor=gray35";
          break;
        case EdgeKind::Proceed:
          style = "style=dotted, color=blue, fontcolor=blue";
          break;
        }
        out << indent << id << i << " -> " << id << e.target << " [label=\"" << label << "\", "
            << style << "];\n";
      }
    }
    if (clusters) {
      out << "  }\n";
    }
  }
  out << "}\n";
}

} // namespace cep::compiler::nfa
