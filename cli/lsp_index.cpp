#include "cli/lsp_index.hpp"

#include <filesystem>

namespace cep::cli::lsp {

namespace {

using namespace lang;

bool contains(SourceRange r, std::uint32_t offset) {
  return offset >= r.begin && offset <= r.end && r.end > r.begin;
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
  return t.nullable ? s + "?" : s;
}

struct Finder {
  const std::vector<ast::Module> &modules;
  const SourceManager &sources;
  std::uint32_t offset;
  std::optional<Lookup> found;

  // Scope of an expression: the steps of the pattern or aggregate (`scope` names it), the step
  // whose condition it is, a def's params.
  std::vector<const ast::Step *> steps;
  std::string scope;
  const ast::Step *own_step = nullptr;
  const ast::Def *def = nullptr;

  const ast::EventDecl *event(const std::string &name) const {
    for (const ast::Module &m : modules) {
      for (const ast::EventDecl &e : m.events) {
        if (e.name.name == name) {
          return &e;
        }
      }
    }
    return nullptr;
  }

  const ast::FieldDecl *field(const ast::EventDecl *e, const std::string &name) const {
    if (e != nullptr) {
      for (const ast::FieldDecl &f : e->fields) {
        if (f.name.name == name) {
          return &f;
        }
      }
    }
    return nullptr;
  }

  const ast::Step *step(const std::string &name) const {
    for (const ast::Step *s : steps) {
      if (s->name && s->name->name == name) {
        return s;
      }
    }
    return nullptr;
  }

  void set(SourceRange at, SourceRange definition, std::string hover) {
    found = Lookup{at, definition, std::nullopt, std::move(hover)};
  }

  std::string eventHover(const ast::EventDecl &e) const {
    std::string s = "event " + e.name.name + " {";
    for (std::size_t i = 0; i < e.fields.size(); ++i) {
      s += (i ? ", " : " ") + e.fields[i].name.name + ": " + typeText(e.fields[i].type);
    }
    return s + (e.fields.empty() ? "}" : " }");
  }

  void fieldHit(SourceRange at, const ast::EventDecl &e, const ast::FieldDecl &f) {
    set(at, f.name.range,
        f.name.name + ": " + typeText(f.type) + "\n(field of event " + e.name.name + ")");
  }

  void stepHit(SourceRange at, const ast::Step &s) {
    std::string text = s.name->name + ": " + s.type.name;
    if (s.quantifier) {
      text += std::string(sources.slice(s.quantifier->range));
    }
    set(at, s.name->range, text + "\n(step of " + scope + ")");
  }

  void eventHit(SourceRange at, const std::string &name) {
    if (const ast::EventDecl *e = event(name)) {
      set(at, e->name.range, eventHover(*e));
    }
  }

  // The event type a step-valued expression (`a`, `first(a)`, `last(a)`) stands for.
  const ast::EventDecl *eventOf(const ast::Expr &object) const {
    const ast::Expr *e = &object;
    if (e->kind == ast::ExprKind::Call && e->children.size() == 1) {
      e = e->children[0].get();
    }
    if (e->kind == ast::ExprKind::Name) {
      if (const ast::Step *s = step(e->text)) {
        return event(s->type.name);
      }
    }
    return nullptr;
  }

  void name(const ast::Expr &e) {
    if (def != nullptr) {
      for (const ast::Param &p : def->params) {
        if (p.name.name == e.text) {
          set(e.range, p.name.range,
              p.name.name + ": " + typeText(p.type) + "\n(parameter of def " + def->name.name +
                  ")");
          return;
        }
      }
    }
    if (own_step != nullptr) {
      const ast::EventDecl *ev = event(own_step->type.name);
      if (const ast::FieldDecl *f = field(ev, e.text)) {
        fieldHit(e.range, *ev, *f);
        return;
      }
    }
    if (const ast::Step *s = step(e.text)) {
      stepHit(e.range, *s);
      return;
    }
    for (const ast::Module &m : modules) {
      for (const ast::Const &c : m.consts) {
        if (c.name.name == e.text) {
          std::string value = c.value ? std::string(sources.slice(c.value->range)) : "";
          set(e.range, c.name.range, "const " + c.name.name + " = " + value);
          return;
        }
      }
    }
  }

  void call(const ast::Expr &e) {
    for (const ast::Module &m : modules) {
      for (const ast::Def &d : m.defs) {
        if (d.name.name == e.name.name) {
          std::string text = "def " + d.name.name + "(";
          for (std::size_t i = 0; i < d.params.size(); ++i) {
            text += (i ? ", " : "") + d.params[i].name.name + ": " + typeText(d.params[i].type);
          }
          set(e.name.range, d.name.range, text + ")");
          return;
        }
      }
    }
    found = Lookup{e.name.range, std::nullopt, std::nullopt,
                   e.name.name + ": a built-in function (docs/language.md)"};
  }

  void expr(const ast::Expr *e) {
    if (e == nullptr || found || !contains(e->range, offset)) {
      return;
    }
    for (const ast::ExprPtr &child : e->children) {
      expr(child.get());
      if (found) {
        return;
      }
    }
    switch (e->kind) {
    case ast::ExprKind::Name:
      name(*e);
      break;
    case ast::ExprKind::Member:
      if (contains(e->name.range, offset) && !e->children.empty()) {
        const ast::EventDecl *ev = eventOf(*e->children[0]);
        if (const ast::FieldDecl *f = field(ev, e->name.name)) {
          fieldHit(e->name.range, *ev, *f);
        }
      }
      break;
    case ast::ExprKind::Call:
      if (contains(e->name.range, offset)) {
        call(*e);
      }
      break;
    default:
      break;
    }
  }

  void emit(const ast::Emit &em) {
    for (const ast::EmitField &f : em.fields) {
      expr(f.value.get());
    }
  }

  // A step's name, event type and clauses; true when the cursor was on one of them.
  bool stepDecl(const ast::Step &s) {
    if (s.name && contains(s.name->range, offset)) {
      stepHit(s.name->range, s);
      return true;
    }
    if (contains(s.type.range, offset)) {
      eventHit(s.type.range, s.type.name);
      return true;
    }
    own_step = &s;
    expr(s.condition.get());
    for (const ast::Modifier &m : s.modifiers) {
      expr(m.condition.get());
    }
    own_step = nullptr;
    expr(s.within.get());
    return found.has_value();
  }

  void patternDecl(const ast::Pattern &p) {
    scope = "pattern " + p.name.name;
    steps.clear();
    for (const ast::Step &s : p.steps) {
      steps.push_back(&s);
    }
    if (contains(p.name.range, offset)) {
      set(p.name.range, p.name.range,
          "pattern " + p.name.name + " (" + std::to_string(p.steps.size()) + " steps)");
      return;
    }
    for (const ast::Step &s : p.steps) {
      if (stepDecl(s)) {
        return;
      }
    }
    if (p.skip && p.skip->step && contains(p.skip->step->range, offset)) {
      if (const ast::Step *s = step(p.skip->step->name)) {
        stepHit(p.skip->step->range, *s);
      }
      return;
    }
    emit(p.emit);
    if (p.timeout_emit) {
      emit(*p.timeout_emit);
    }
  }

  void aggregateDecl(const ast::Aggregate &a) {
    scope = "aggregate " + a.name.name;
    steps = {&a.step};
    if (contains(a.name.range, offset)) {
      set(a.name.range, a.name.range, "aggregate " + a.name.name);
      return;
    }
    if (stepDecl(a.step)) {
      return;
    }
    expr(a.having.get());
    emit(a.emit);
  }

  void module(const ast::Module &m) {
    std::string dir = std::filesystem::path(sources.file(m.file).path()).parent_path().string();
    for (const ast::Import &imp : m.imports) {
      if (contains(imp.path_range, offset)) {
        std::string target = (std::filesystem::path(dir) / imp.path).lexically_normal().string();
        found = Lookup{imp.path_range, std::nullopt, target, "import " + target};
        return;
      }
    }
    for (const ast::EventDecl &e : m.events) {
      if (contains(e.name.range, offset)) {
        set(e.name.range, e.name.range, eventHover(e));
        return;
      }
      for (const ast::FieldDecl &f : e.fields) {
        if (contains(f.name.range, offset)) {
          fieldHit(f.name.range, e, f);
          return;
        }
        if (contains(f.type.name.range, offset)) {
          eventHit(f.type.name.range, f.type.name.name);
          return;
        }
      }
    }
    for (const ast::Const &c : m.consts) {
      expr(c.value.get());
    }
    for (const ast::Def &d : m.defs) {
      def = &d;
      for (const ast::Param &p : d.params) {
        if (contains(p.type.name.range, offset)) {
          eventHit(p.type.name.range, p.type.name.name);
        }
      }
      expr(d.body.get());
      def = nullptr;
    }
    for (const ast::Pattern &p : m.patterns) {
      if (!found && contains(p.range, offset)) {
        patternDecl(p);
      }
    }
    for (const ast::Aggregate &a : m.aggregates) {
      if (!found && contains(a.range, offset)) {
        aggregateDecl(a);
      }
    }
    for (const ast::Test &t : m.tests) {
      for (const ast::Ident &rule : t.rules) {
        if (!contains(rule.range, offset)) {
          continue;
        }
        for (const ast::Module &other : modules) {
          for (const ast::Pattern &p : other.patterns) {
            if (p.name.name == rule.name) {
              set(rule.range, p.name.range,
                  "pattern " + p.name.name + " (" + std::to_string(p.steps.size()) + " steps)");
            }
          }
        }
      }
    }
  }
};

} // namespace

std::optional<Lookup> lookupAt(const std::vector<lang::ast::Module> &modules, std::size_t index,
                               const lang::SourceManager &sources, std::uint32_t offset) {
  Finder finder{modules, sources, offset, std::nullopt, {}, {}};
  finder.module(modules.at(index));
  return finder.found;
}

} // namespace cep::cli::lsp
