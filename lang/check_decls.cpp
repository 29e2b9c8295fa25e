// Declarations: event types (program-wide names), the per-file scopes of consts and defs (a file
// sees its own and those of every file it imports, transitively), checking each const and def
// once, and the unused-declaration warnings.
#include "lang/checker.hpp"
#include "stdlib/functions.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <array>

namespace cep::lang {

namespace {

constexpr std::array<std::pair<const char *, TypeKind>, 6> kScalarTypes = {{
    {"bool", TypeKind::Bool},
    {"int", TypeKind::Int},
    {"float", TypeKind::Float},
    {"string", TypeKind::String},
    {"time", TypeKind::Time},
    {"duration", TypeKind::Duration},
}};

std::optional<TypeKind> scalarKind(const std::string &name) {
  for (const auto &[n, k] : kScalarTypes) {
    if (name == n) {
      return k;
    }
  }
  return std::nullopt;
}

std::vector<std::string> scalarTypeNames() {
  std::vector<std::string> out;
  for (const auto &[n, k] : kScalarTypes) {
    out.emplace_back(n);
  }
  return out;
}

// Names a def cannot take: they are built in.
bool isBuiltinName(const std::string &name) {
  static const char *const kReserved[] = {
      "count", "sum", "avg", "min", "max", "first", "last", "coalesce", "count_distinct", "if"};
  for (const char *r : kReserved) {
    if (name == r) {
      return true;
    }
  }
  return stdlib::findFunction(name) != nullptr;
}

const ast::Ident &declName(const std::vector<ConstInfo> &consts, const std::vector<DefInfo> &defs,
                           const DeclRef &ref) {
  return ref.kind == DeclRef::Kind::Const ? consts[ref.index].decl->name
                                          : defs[ref.index].decl->name;
}

std::size_t declModule(const std::vector<ConstInfo> &consts, const std::vector<DefInfo> &defs,
                       const DeclRef &ref) {
  return ref.kind == DeclRef::Kind::Const ? consts[ref.index].module : defs[ref.index].module;
}

const char *declKindName(const DeclRef &ref) {
  return ref.kind == DeclRef::Kind::Const ? "const" : "def";
}

} // namespace

void Checker::computeVisibility() {
  std::size_t n = modules_.size();
  visible_.assign(n, std::vector<bool>(n, false));
  for (std::size_t m = 0; m < n; ++m) {
    std::vector<std::size_t> work{m};
    visible_[m][m] = true;
    while (!work.empty()) {
      std::size_t cur = work.back();
      work.pop_back();
      if (cur >= imports_.size()) {
        continue;
      }
      for (std::size_t next : imports_[cur]) {
        CEP_ASSERT(next < n, "resolved import index out of range");
        if (!visible_[m][next]) {
          visible_[m][next] = true;
          work.push_back(next);
        }
      }
    }
  }
}

// --- event types -----------------------------------------------------------------------------

Type Checker::resolveScalarType(const ast::TypeRef &ref, const char *what) {
  const std::string &name = ref.name.name;
  if (auto kind = scalarKind(name)) {
    return Type::of(*kind, ref.nullable);
  }
  if (name == "list") {
    error(ref.range, std::string(what) +
                         " must have a scalar type (bool, int, float, string, time " +
                         "or duration); lists can only be const values");
    return Type::error();
  }
  if (event_index_.count(name) != 0) {
    error(ref.name.range, std::string(what) + " cannot hold a whole event (`" + name +
                              "`): declare the fields you need instead");
    return Type::error();
  }
  Report r = error(ref.name.range, "unknown type `" + name + "`");
  if (auto best = closestMatch(name, scalarTypeNames())) {
    r.note("did you mean `" + *best + "`?");
  }
  return Type::error();
}

void Checker::collectEventTypes() {
  // Names first, so that a field typed with an event name is recognised whatever the order.
  std::unordered_map<std::string, SourceRange> first;
  for (std::size_t m = 0; m < modules_.size(); ++m) {
    for (const auto &ev : modules_[m].events) {
      if (scalarKind(ev.name.name) || ev.name.name == "list") {
        error(ev.name.range, "`" + ev.name.name + "` is a built-in type name; an event type " +
                                 "needs another name");
        continue;
      }
      auto [it, inserted] = first.emplace(ev.name.name, ev.name.range);
      if (!inserted) {
        error(ev.name.range, "duplicate event type `" + ev.name.name + "`" +
                                 (it->second.file != ev.name.range.file
                                      ? ": event type names are shared by every file of the program"
                                      : ""))
            .note("first declared here", it->second)
            .note("rename one of them, or declare `" + ev.name.name +
                  "` once in a file that both import");
        redeclared_events_.emplace(ev.name.name, m);
        continue;
      }
      event_index_.emplace(ev.name.name, static_cast<std::int32_t>(program_.event_types.size()));
      typed::EventType et;
      et.name = ev.name.name;
      et.range = ev.name.range;
      program_.event_types.push_back(std::move(et));
      event_module_.push_back(m);
    }
  }
  for (std::size_t m = 0; m < modules_.size(); ++m) {
    for (const auto &ev : modules_[m].events) {
      auto it = event_index_.find(ev.name.name);
      if (it == event_index_.end()) {
        continue;
      }
      typed::EventType &et = program_.event_types[static_cast<std::size_t>(it->second)];
      if (et.range.begin != ev.name.range.begin || et.range.file != ev.name.range.file) {
        continue; // a duplicate declaration (reported above)
      }
      std::unordered_map<std::string, SourceRange> seen;
      const ast::FieldDecl *time_field = nullptr;
      for (const auto &f : ev.fields) {
        auto [fit, inserted] = seen.emplace(f.name.name, f.name.range);
        if (!inserted) {
          error(f.name.range,
                "duplicate field `" + f.name.name + "` in event type `" + et.name + "`")
              .note("first declared here", fit->second);
          continue;
        }
        Type t = resolveScalarType(f.type, "an event field");
        if (t.kind == TypeKind::Time) {
          if (time_field != nullptr) {
            error(f.name.range, "event type `" + et.name + "` has a second `time` field `" +
                                    f.name.name + "`; only one field can be its event time")
                .note("the event time is `" + time_field->name.name + "`, declared here",
                      time_field->name.range);
            t = Type::error();
          } else {
            time_field = &f;
            if (t.nullable) {
              error(f.type.range, "the event-time field `" + f.name.name +
                                      "` cannot be nullable: every event needs a time");
              t = Type::error();
            }
            et.time_field = static_cast<std::int32_t>(et.fields.size());
          }
        }
        et.fields.push_back({f.name.name, t, f.name.range});
      }
      if (et.fields.size() > typed::kMaxEventFields) {
        error(ev.name.range, "event type `" + et.name + "` has " +
                                 std::to_string(et.fields.size()) + " fields; at most " +
                                 std::to_string(typed::kMaxEventFields) + " are supported")
            .note("this is field " + std::to_string(typed::kMaxEventFields + 1) +
                      ": split the type, or declare only the fields the rules use (a record's "
                      "other members are ignored)",
                  et.fields[typed::kMaxEventFields].range);
      }
    }
  }
}

std::int32_t Checker::lookupEvent(std::size_t module, const ast::Ident &name) {
  if (redeclared_events_.count({name.name, module}) != 0) {
    return -1; // this file's own declaration is the duplicate, reported once
  }
  auto it = event_index_.find(name.name);
  if (it == event_index_.end()) {
    std::vector<std::string> candidates;
    for (std::size_t i = 0; i < program_.event_types.size(); ++i) {
      if (visible_[module][event_module_[i]]) {
        candidates.push_back(program_.event_types[i].name);
      }
    }
    Report r = error(name.range, "unknown event type `" + name.name + "`");
    if (auto best = closestMatch(name.name, candidates)) {
      r.note("did you mean `" + *best + "`?");
    }
    return -1;
  }
  auto index = static_cast<std::size_t>(it->second);
  if (!visible_[module][event_module_[index]]) {
    error(name.range, "event type `" + name.name + "` is declared in `" +
                          fileName(event_module_[index]) + "`, which this file does not import")
        .note("declared here", program_.event_types[index].range);
  }
  return it->second;
}

// --- scopes of consts and defs ---------------------------------------------------------------

void Checker::buildScopes() {
  for (std::size_t m = 0; m < modules_.size(); ++m) {
    for (const auto &c : modules_[m].consts) {
      ConstInfo info;
      info.decl = &c;
      info.module = m;
      consts_.push_back(std::move(info));
      all_decls_[c.name.name].push_back({DeclRef::Kind::Const, consts_.size() - 1});
    }
    for (const auto &d : modules_[m].defs) {
      DefInfo info;
      info.decl = &d;
      info.module = m;
      defs_.push_back(std::move(info));
      all_decls_[d.name.name].push_back({DeclRef::Kind::Def, defs_.size() - 1});
      if (isBuiltinName(d.name.name)) {
        error(d.name.range, "`" + d.name.name + "` is a built-in function; choose another name " +
                                "for this def");
        defs_.back().duplicate = true;
      }
    }
  }

  // Each module's own declarations, in source order; a repeated name is an error.
  std::vector<std::vector<DeclRef>> own(modules_.size());
  for (std::size_t i = 0; i < consts_.size(); ++i) {
    own[consts_[i].module].push_back({DeclRef::Kind::Const, i});
  }
  for (std::size_t i = 0; i < defs_.size(); ++i) {
    own[defs_[i].module].push_back({DeclRef::Kind::Def, i});
  }
  scopes_.assign(modules_.size(), {});
  for (std::size_t m = 0; m < modules_.size(); ++m) {
    std::stable_sort(own[m].begin(), own[m].end(), [&](const DeclRef &a, const DeclRef &b) {
      return declName(consts_, defs_, a).range.begin < declName(consts_, defs_, b).range.begin;
    });
    for (const DeclRef &ref : own[m]) {
      const ast::Ident &name = declName(consts_, defs_, ref);
      if (ref.kind == DeclRef::Kind::Def && defs_[ref.index].duplicate) {
        continue;
      }
      auto [it, inserted] = scopes_[m].emplace(name.name, ref);
      if (!inserted) {
        error(name.range, "duplicate name `" + name.name + "`: a " + declKindName(it->second) +
                              " of this name is already declared in this file")
            .note("first declared here", declName(consts_, defs_, it->second).range);
        (ref.kind == DeclRef::Kind::Const ? consts_[ref.index].duplicate
                                          : defs_[ref.index].duplicate) = true;
      }
    }
  }

  // Then what the imports make visible. A name seen twice is an error, reported once per pair.
  std::set<std::pair<std::size_t, std::size_t>> reported;
  auto id = [&](const DeclRef &r) {
    return r.kind == DeclRef::Kind::Const ? r.index : consts_.size() + r.index;
  };
  for (std::size_t m = 0; m < modules_.size(); ++m) {
    auto &scope = scopes_[m];
    std::unordered_map<std::string, DeclRef> own_scope = scope;
    for (std::size_t n = 0; n < modules_.size(); ++n) {
      if (n == m || !visible_[m][n]) {
        continue;
      }
      for (const auto &[name, ref] : scopes_[n]) {
        if (declModule(consts_, defs_, ref) != n) {
          continue; // only n's own declarations; its imports are visited directly
        }
        auto [it, inserted] = scope.emplace(name, ref);
        if (inserted || id(it->second) == id(ref)) {
          continue;
        }
        // (std::minmax of temporaries would return dangling references.)
        const std::size_t a = id(it->second), b = id(ref);
        const std::pair<std::size_t, std::size_t> key{std::min(a, b), std::max(a, b)};
        if (!reported.insert(key).second) {
          continue;
        }
        // The clash is the problem to fix; do not also call the other declaration unused.
        (ref.kind == DeclRef::Kind::Const ? consts_[ref.index].duplicate
                                          : defs_[ref.index].duplicate) = true;
        const ast::Ident &here = declName(consts_, defs_, it->second);
        const ast::Ident &there = declName(consts_, defs_, ref);
        if (own_scope.count(name) != 0) {
          error(here.range,
                "`" + name + "` is also declared in `" + fileName(n) + "`, which this file imports")
              .note("declared here", there.range);
        } else {
          std::size_t a = declModule(consts_, defs_, it->second);
          // Report at the later of the two declarations, in load order.
          bool later_is_ref = n > a;
          const ast::Ident &at = later_is_ref ? there : here;
          const ast::Ident &other = later_is_ref ? here : there;
          error(at.range, "`" + name + "` is declared in both `" + fileName(a) + "` and `" +
                              fileName(n) + "`, and `" + fileName(m) + "` imports both")
              .note("the other `" + name + "` is declared here", other.range);
        }
      }
    }
  }
  // Iterating an unordered_map above makes the order of insertion (not the outcome) vary; the
  // diagnostics are sorted by position when rendered.
}

const DeclRef *Checker::lookupDecl(std::size_t module, const std::string &name) const {
  const auto &scope = scopes_[module];
  auto it = scope.find(name);
  return it == scope.end() ? nullptr : &it->second;
}

std::vector<std::string> Checker::constNamesIn(std::size_t module) const {
  std::vector<std::string> out;
  for (const auto &[name, ref] : scopes_[module]) {
    if (ref.kind == DeclRef::Kind::Const) {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Checker::defNamesIn(std::size_t module) const {
  std::vector<std::string> out;
  for (const auto &[name, ref] : scopes_[module]) {
    if (ref.kind == DeclRef::Kind::Def) {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Checker::noteNotImported(Report &report, std::size_t module, const std::string &name) {
  auto it = all_decls_.find(name);
  if (it == all_decls_.end()) {
    return;
  }
  for (const DeclRef &ref : it->second) {
    std::size_t m = declModule(consts_, defs_, ref);
    if (!visible_[module][m]) {
      report.note(std::string("`") + name + "` is a " + declKindName(ref) + " declared in `" +
                      fileName(m) + "`, which this file does not import",
                  declName(consts_, defs_, ref).range);
      return;
    }
  }
}

// --- cycles ----------------------------------------------------------------------------------

std::string Checker::cyclePath(DeclRef::Kind kind, std::size_t index) const {
  auto name = [&](std::size_t i) -> const std::string & {
    return kind == DeclRef::Kind::Def ? defs_[i].decl->name.name : consts_[i].decl->name.name;
  };
  std::string path;
  bool on_cycle = false;
  for (const DeclRef &ref : decl_stack_) {
    if (ref.kind == kind && ref.index == index) {
      on_cycle = true;
    }
    if (on_cycle && ref.kind == kind) {
      path += "`" + name(ref.index) + "` -> ";
    }
  }
  return path + "`" + name(index) + "`";
}

// --- defs ------------------------------------------------------------------------------------

void Checker::checkDefs() {
  for (std::size_t i = 0; i < defs_.size(); ++i) {
    ensureDef(i, defs_[i].decl->name.range);
  }
}

void Checker::ensureDef(std::size_t index, SourceRange use) {
  DefInfo &def = defs_[index];
  if (def.state == CheckState::Done) {
    return;
  }
  if (def.state == CheckState::InProgress) {
    // A cycle: the stack holds it from this def's entry to the caller.
    std::string path = cyclePath(DeclRef::Kind::Def, index);
    int saved = quiet_;
    quiet_ = 0;
    error(def.decl->name.range, "def `" + def.decl->name.name + "` is recursive (" + path +
                                    "): a def cannot call itself, directly or through other defs")
        .note("the call that closes the cycle", use);
    quiet_ = saved;
    return;
  }
  def.state = CheckState::InProgress;
  decl_stack_.push_back({DeclRef::Kind::Def, index});
  int saved_quiet = quiet_;
  auto saved_inline = inline_range_;
  AggregateState *saved_aggregate = aggregate_;
  Expansion saved_expansion = std::move(expansion_); // checked on its own, not as a call's part
  quiet_ = 0;
  inline_range_.reset();
  aggregate_ = nullptr;
  expansion_ = Expansion{};

  const ast::Def &decl = *def.decl;
  std::unordered_map<std::string, SourceRange> seen;
  std::vector<ParamBinding> bindings;
  for (const auto &p : decl.params) {
    DefParam param{p.name.name, Type::error(), p.name.range};
    auto [it, inserted] = seen.emplace(p.name.name, p.name.range);
    if (!inserted) {
      error(p.name.range,
            "duplicate parameter `" + p.name.name + "` in def `" + decl.name.name + "`")
          .note("first declared here", it->second);
    }
    const std::string &tn = p.type.name.name;
    if (scalarKind(tn) || tn == "list") {
      param.type = resolveScalarType(p.type, "a def parameter");
    } else if (event_index_.count(tn) != 0) {
      std::int32_t ev = lookupEvent(def.module, p.type.name);
      if (p.type.nullable) {
        error(p.type.range, "an event parameter cannot be nullable: pass a step that always " +
                                std::string("binds an event"));
      } else if (!p.type.args.empty()) {
        error(p.type.range, "event type `" + tn + "` takes no type arguments");
      } else {
        param.type = Type::of(TypeKind::Event);
        param.type.event = ev;
      }
    } else {
      Report r = error(p.type.name.range, "unknown type `" + tn + "`");
      std::vector<std::string> candidates = scalarTypeNames();
      for (std::size_t e = 0; e < program_.event_types.size(); ++e) {
        if (visible_[def.module][event_module_[e]]) {
          candidates.push_back(program_.event_types[e].name);
        }
      }
      if (auto best = closestMatch(tn, candidates)) {
        r.note("did you mean `" + *best + "`?");
      }
    }
    ParamBinding b;
    b.name = param.name;
    b.type = param.type;
    bindings.push_back(std::move(b));
    def.params.push_back(std::move(param));
  }

  typed::ExprPtr body = checkDefBody(index, bindings);
  def.result = body->type;

  quiet_ = saved_quiet;
  inline_range_ = saved_inline;
  aggregate_ = saved_aggregate;
  expansion_ = std::move(saved_expansion);
  decl_stack_.pop_back();
  def.state = CheckState::Done;
}

// --- consts ----------------------------------------------------------------------------------

void Checker::checkConsts() {
  for (std::size_t i = 0; i < consts_.size(); ++i) {
    ensureConst(i, consts_[i].decl->name.range);
  }
}

void Checker::ensureConst(std::size_t index, SourceRange use) {
  ConstInfo &c = consts_[index];
  if (c.state == CheckState::Done) {
    return;
  }
  if (c.state == CheckState::InProgress) {
    std::string path = cyclePath(DeclRef::Kind::Const, index);
    int saved = quiet_;
    quiet_ = 0;
    error(c.decl->name.range, "const `" + c.decl->name.name + "` depends on itself (" + path + ")")
        .note("the use that closes the cycle", use);
    quiet_ = saved;
    return;
  }
  c.state = CheckState::InProgress;
  decl_stack_.push_back({DeclRef::Kind::Const, index});
  int saved_quiet = quiet_;
  auto saved_inline = inline_range_;
  AggregateState *saved_aggregate = aggregate_;
  Expansion saved_expansion = std::move(expansion_); // checked on its own, not as a call's part
  quiet_ = 0;
  inline_range_.reset();
  aggregate_ = nullptr;
  expansion_ = Expansion{};

  Scope scope;
  scope.kind = ScopeKind::Const;
  scope.module = c.module;
  typed::ExprPtr x = checkExpr(*c.decl->value, scope);
  if (!x->type.isError()) {
    if (x->type.kind == TypeKind::Null) {
      error(c.decl->value->range, "a const cannot be `null`");
    } else {
      CEP_ASSERT(x->op == typed::Op::Literal, "a const did not fold to a literal");
      c.type = x->type;
      c.value = x->value;
    }
  }

  quiet_ = saved_quiet;
  inline_range_ = saved_inline;
  aggregate_ = saved_aggregate;
  expansion_ = std::move(saved_expansion);
  decl_stack_.pop_back();
  c.state = CheckState::Done;
}

// --- warnings --------------------------------------------------------------------------------

// Only in files that no other loaded file imports (the rule files being checked): a library
// file's declarations are there for whoever imports them, and an importer uses only some.
void Checker::warnUnused() {
  std::vector<bool> imported(imports_.size(), false);
  for (const auto &list : imports_) {
    for (std::size_t m : list) {
      imported[m] = true;
    }
  }
  for (const auto &c : consts_) {
    if (!c.used && !c.duplicate && !imported[c.module]) {
      warning(c.decl->name.range, "unused const `" + c.decl->name.name + "`");
    }
  }
  for (const auto &d : defs_) {
    if (!d.used && !d.duplicate && !imported[d.module]) {
      warning(d.decl->name.range, "unused def `" + d.decl->name.name + "`");
    }
  }
}

} // namespace cep::lang
