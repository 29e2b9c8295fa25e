// The one place where a PEGTL parse becomes the AST.
//
// Each top-level declaration is parsed on its own into a PEGTL parse tree (only the rules listed
// in Selector below make nodes), and AstBuilder turns that tree into ast:: nodes. A syntax error
// (a `must<>` in lang/grammar.hpp that failed) aborts the declaration: it is reported, and
// parsing resumes at the next line that starts, in column 1, with `import`, `const`, `def`,
// `event`, `pattern`, `aggregate` or `test`. Problems found while converting (a reserved word used
// as a name, a bad escape, an unknown duration unit, an integer overflow, a repeated header clause,
// what an `aggregate` cannot have: `within`, `skip`, a second step, ...) are reported too, but
// the declaration is complete and is kept.
#include "lang/parse.hpp"

#include "lang/diagnostics.hpp"
#include "lang/grammar.hpp"
#include "lang/grammar_errors.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/parse_tree.hpp>
#include <utility>
#include <vector>

namespace cep::lang {

namespace {

namespace pegtl = tao::pegtl;
namespace pt = tao::pegtl::parse_tree;
namespace g = grammar;

using Node = pt::node;

// Like parse_tree::fold_one, but a node that is kept keeps its source range.
struct FoldOne : pt::apply<FoldOne> {
  template <typename N, typename... States>
  static void transform(std::unique_ptr<N> &n, States &&...) {
    if (n->children.size() == 1) {
      n = std::move(n->children.front());
    }
  }
};

// clang-format off
template <typename Rule>
using Selector = pt::selector<
    Rule,
    pt::store_content::on<
        // names and literals
        g::identifier, g::reserved_name, g::number, g::string_lit, g::true_lit, g::false_lit,
        g::null_lit,
        // expressions
        g::paren_expr, g::list_lit, g::call, g::member, g::neg_expr, g::not_prefix,
        g::op_mul, g::op_div, g::op_mod, g::op_add, g::op_sub,
        g::op_eq, g::op_ne, g::op_lt, g::op_le, g::op_gt, g::op_ge,
        g::cmp_binary, g::in_suffix, g::not_in_suffix, g::is_suffix, g::is_not,
        // types
        g::type, g::list_type, g::list_kw, g::nullable_mark,
        // declarations
        g::import_decl, g::const_decl, g::def_decl, g::param, g::event_decl, g::field_decl,
        g::pattern_decl, g::partition_clause, g::partition_key, g::within_clause, g::skip_clause,
        g::skip_none, g::skip_to_next, g::skip_to_first, g::skip_to_last, g::skip_past_last,
        g::skip_step, g::step, g::step_not, g::step_type, g::step_cond,
        g::q_optional, g::q_plus, g::q_star, g::q_braces, g::q_count, g::q_comma,
        g::mod_optional, g::mod_greedy, g::mod_consecutive, g::mod_combinations, g::mod_until,
        g::step_within, g::op_strict, g::op_relaxed, g::op_nondeterministic,
        g::emit_clause, g::emit_field, g::timeout_clause,
        // aggregates
        g::aggregate_decl, g::window_clause, g::window_tumbling, g::window_hopping,
        g::window_cumulate, g::window_session, g::window_rolling, g::window_none,
        g::lateness_clause, g::ttl_clause, g::having_clause, g::aggregate_emit,
        // tests
        g::test_decl, g::test_name, g::test_rule, g::test_option, g::option_name, g::input_clause, g::input_file,
        g::expect_clause, g::expect_late, g::expect_none, g::records_block, g::json_record>,
    FoldOne::on<g::expr, g::and_expr, g::cmp_expr, g::add_expr, g::mul_expr, g::postfix_expr>>;
// clang-format on

// Records the name of the pattern being parsed, for "expected `emit` after ... pattern `x`".
template <typename Rule> struct Actions : pegtl::nothing<Rule> {};
template <> struct Actions<g::pattern_name> {
  template <typename ActionInput> static void apply(const ActionInput &in, g::ParseState &state) {
    state.pattern_name = in.string();
  }
};
template <> struct Actions<g::aggregate_name> : Actions<g::pattern_name> {};
template <> struct Actions<g::test_name> : Actions<g::pattern_name> {};

// An expression deeper than this (e.g. `a + a + ... + a` with thousands of terms) is rejected,
// so that printing and destroying the AST cannot exhaust the stack.
constexpr std::size_t kMaxExprDepth = 1000;

struct TooDeep {
  SourceRange range;
};

bool isIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Bytes in the UTF-8 sequence that starts with `c` (1 for invalid bytes).
std::size_t utf8Length(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8) {
    return 4;
  }
  if (c >= 0xE0) {
    return c < 0xF0 ? 3 : 1;
  }
  if (c >= 0xC0) {
    return 2;
  }
  return 1;
}

void appendUtf8(std::string &out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Milliseconds per duration unit, 0 if `unit` is not one.
std::int64_t durationUnit(std::string_view unit) {
  if (unit == "ms") {
    return 1;
  }
  if (unit == "s") {
    return 1000;
  }
  if (unit == "m") {
    return 60 * 1000;
  }
  if (unit == "h") {
    return 60 * 60 * 1000;
  }
  if (unit == "d") {
    return 24 * 60 * 60 * 1000;
  }
  return 0;
}

// `_` may only stand between two digits.
bool underscoresOk(std::string_view digits) {
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (digits[i] == '_' &&
        (i == 0 || i + 1 == digits.size() || !isDigit(digits[i - 1]) || !isDigit(digits[i + 1]))) {
      return false;
    }
  }
  return true;
}

class AstBuilder {
public:
  AstBuilder(const SourceFile &file, DiagnosticEngine &diags) : file_(file), diags_(diags) {}

  // Converts one declaration node and appends it to `module`.
  void declaration(const Node &n, ast::Module &module) {
    using Kind = ast::Module::DeclKind;
    if (n.is_type<g::import_decl>()) {
      module.imports.push_back(importDecl(n));
      module.order.push_back({Kind::Import, module.imports.size() - 1});
    } else if (n.is_type<g::const_decl>()) {
      module.consts.push_back(constDecl(n));
      module.order.push_back({Kind::Const, module.consts.size() - 1});
    } else if (n.is_type<g::def_decl>()) {
      module.defs.push_back(defDecl(n));
      module.order.push_back({Kind::Def, module.defs.size() - 1});
    } else if (n.is_type<g::event_decl>()) {
      module.events.push_back(eventDecl(n));
      module.order.push_back({Kind::Event, module.events.size() - 1});
    } else if (n.is_type<g::pattern_decl>()) {
      module.patterns.push_back(patternDecl(n));
      module.order.push_back({Kind::Pattern, module.patterns.size() - 1});
    } else if (n.is_type<g::aggregate_decl>()) {
      module.aggregates.push_back(aggregateDecl(n));
      module.order.push_back({Kind::Aggregate, module.aggregates.size() - 1});
    } else if (n.is_type<g::test_decl>()) {
      module.tests.push_back(testDecl(n));
      module.order.push_back({Kind::Test, module.tests.size() - 1});
    }
  }

private:
  SourceRange range(const Node &n) const {
    return {file_.id(), static_cast<std::uint32_t>(n.m_begin.byte),
            static_cast<std::uint32_t>(n.m_end.byte)};
  }
  SourceRange range(std::size_t begin, std::size_t end) const {
    return {file_.id(), static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)};
  }

  // An `identifier` or `reserved_name` node.
  ast::Ident ident(const Node &n) {
    ast::Ident id{n.string(), range(n)};
    if (n.is_type<g::reserved_name>()) {
      diags_.error(id.range, "`" + id.name + "` is a reserved word and cannot be used as a name");
    }
    return id;
  }

  // ---- declarations ----

  ast::Import importDecl(const Node &n) {
    const Node &path = *n.children.at(0);
    return {stringValue(path), range(path), range(n)};
  }

  // `test NAME [for a, b] { options ... input ... expect [late] ... }`.
  ast::Test testDecl(const Node &n) {
    ast::Test t;
    t.range = range(n);
    for (const auto &child : n.children) {
      const Node &c = *child;
      if (c.is_type<g::test_name>()) {
        t.name = ident(c);
      } else if (c.is_type<g::test_rule>()) {
        t.rules.push_back(ident(c));
      } else if (c.is_type<g::test_option>()) {
        ast::TestOption o;
        o.name = c.children.at(0)->string();
        o.range = range(*c.children.at(0));
        if (c.children.size() > 1) {
          o.value = c.children.at(1)->string();
          o.value_range = range(*c.children.at(1));
        }
        t.options.push_back(std::move(o));
      } else if (c.is_type<g::input_clause>()) {
        t.inputs.push_back(testRecords(*c.children.at(0)));
      } else if (c.is_type<g::expect_clause>()) {
        bool late = c.children.size() == 2 && c.children.front()->is_type<g::expect_late>();
        (late ? t.expects_late : t.expects).push_back(testRecords(*c.children.back()));
      }
    }
    return t;
  }

  ast::TestRecords testRecords(const Node &n) {
    ast::TestRecords r;
    r.range = range(n);
    if (n.is_type<g::input_file>()) {
      r.file = stringValue(*n.children.at(0));
    } else if (n.is_type<g::expect_none>()) {
      r.none = true;
    } else {
      for (const auto &record : n.children) {
        r.records.push_back({record->string(), range(*record)});
      }
    }
    return r;
  }

  ast::Const constDecl(const Node &n) {
    ast::Const c;
    c.name = ident(*n.children.at(0));
    c.value = expr(*n.children.at(1));
    c.range = range(n);
    return c;
  }

  ast::Def defDecl(const Node &n) {
    ast::Def d;
    d.name = ident(*n.children.front());
    for (std::size_t i = 1; i + 1 < n.children.size(); ++i) {
      const Node &p = *n.children[i];
      d.params.push_back({ident(*p.children.at(0)), typeRef(*p.children.at(1))});
    }
    d.body = expr(*n.children.back());
    d.range = range(n);
    return d;
  }

  ast::TypeRef typeRef(const Node &n) {
    ast::TypeRef t;
    t.range = range(n);
    const Node &core = *n.children.at(0);
    if (core.is_type<g::list_type>()) {
      t.name = ident(*core.children.at(0));
      t.args.push_back(typeRef(*core.children.at(1)));
    } else {
      t.name = ident(core);
    }
    t.nullable = n.children.size() > 1;
    return t;
  }

  ast::EventDecl eventDecl(const Node &n) {
    ast::EventDecl e;
    e.name = ident(*n.children.front());
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const Node &f = *n.children[i];
      e.fields.push_back({ident(*f.children.at(0)), typeRef(*f.children.at(1)), range(f)});
    }
    e.range = range(n);
    return e;
  }

  // ---- patterns ----

  void duplicateClause(const Node &n, const char *clause, SourceRange first) {
    diags_.error(range(n), std::string("duplicate `") + clause + "` clause");
    diags_.note("first given here", first);
  }

  ast::Pattern patternDecl(const Node &n) {
    ast::Pattern p;
    p.name = ident(*n.children.front());
    p.range = range(n);
    std::optional<ast::Contiguity> pending_op;
    SourceRange pending_op_range;
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const Node &c = *n.children[i];
      if (c.is_type<g::partition_clause>()) {
        if (p.partition_by) {
          duplicateClause(c, "partition by", p.partition_range);
          continue;
        }
        std::vector<ast::Ident> keys;
        for (const auto &k : c.children) {
          keys.push_back(ident(*k));
        }
        p.partition_by = std::move(keys);
        p.partition_range = range(c);
      } else if (c.is_type<g::within_clause>()) {
        if (p.within) {
          duplicateClause(c, "within", p.within_range);
          continue;
        }
        p.within = expr(*c.children.at(0));
        p.within_range = range(c);
      } else if (c.is_type<g::skip_clause>()) {
        if (p.skip) {
          duplicateClause(c, "skip", p.skip->range);
          continue;
        }
        p.skip = skip(c);
      } else if (c.is_type<g::op_strict>()) {
        pending_op = ast::Contiguity::Strict;
        pending_op_range = range(c);
      } else if (c.is_type<g::op_relaxed>()) {
        pending_op = ast::Contiguity::Relaxed;
        pending_op_range = range(c);
      } else if (c.is_type<g::op_nondeterministic>()) {
        pending_op = ast::Contiguity::NonDeterministic;
        pending_op_range = range(c);
      } else if (c.is_type<g::step>()) {
        ast::Step s = step(c);
        if (pending_op) {
          s.contiguity = *pending_op;
          s.contiguity_range = pending_op_range;
          pending_op.reset();
        }
        p.steps.push_back(std::move(s));
      } else if (c.is_type<g::emit_clause>()) {
        p.emit = emit(c);
      } else if (c.is_type<g::timeout_clause>()) {
        p.timeout_emit = emit(c);
      }
    }
    return p;
  }

  // ---- aggregates (spec §8) ----

  // What an aggregate cannot have is reported here and left out of the AST.
  void notInAggregate(SourceRange at, const std::string &what, const std::string &fix) {
    diags_.error(at, what + " cannot be used in an aggregate");
    diags_.note(fix);
  }

  ast::Aggregate aggregateDecl(const Node &n) {
    ast::Aggregate a;
    a.name = ident(*n.children.front());
    a.range = range(n);
    std::size_t steps = 0;
    SourceRange first_step;
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const Node &c = *n.children[i];
      if (c.is_type<g::partition_clause>()) {
        if (a.partition_by) {
          duplicateClause(c, "partition by", a.partition_range);
          continue;
        }
        std::vector<ast::Ident> keys;
        for (const auto &k : c.children) {
          keys.push_back(ident(*k));
        }
        a.partition_by = std::move(keys);
        a.partition_range = range(c);
      } else if (c.is_type<g::window_clause>()) {
        if (a.window) {
          duplicateClause(c, "window", a.window->range);
          continue;
        }
        a.window = window(c);
      } else if (c.is_type<g::lateness_clause>()) {
        if (a.lateness) {
          duplicateClause(c, "lateness", a.lateness_range);
          continue;
        }
        a.lateness = expr(*c.children.at(0));
        a.lateness_range = range(c);
      } else if (c.is_type<g::ttl_clause>()) {
        if (a.ttl) {
          duplicateClause(c, "ttl", a.ttl_range);
          continue;
        }
        a.ttl = expr(*c.children.at(0));
        a.ttl_range = range(c);
      } else if (c.is_type<g::within_clause>()) {
        notInAggregate(range(c), "`within`",
                       "the window bounds an aggregate's time: `window tumbling " +
                           std::string(c.children.at(0)->string_view()) + "` or `window rolling " +
                           std::string(c.children.at(0)->string_view()) + "`");
      } else if (c.is_type<g::skip_clause>()) {
        notInAggregate(range(c), "`skip`",
                       "an aggregate writes one record per window (or per event for `rolling` and "
                       "`none`): remove the `skip` clause");
      } else if (c.is_type<g::op_strict>() || c.is_type<g::op_relaxed>() ||
                 c.is_type<g::op_nondeterministic>()) {
        continue;
      } else if (c.is_type<g::step>()) {
        ast::Step s = step(c);
        if (++steps == 1) {
          first_step = s.range;
          aggregateStep(s);
          a.step = std::move(s);
        } else if (steps == 2) {
          diags_.error(s.range, "an aggregate has exactly one step, but aggregate `" + a.name.name +
                                    "` has more");
          diags_.note("its step is here: aggregates over several event types are not part of "
                      "v0.2; write one aggregate per event type",
                      first_step);
        }
      } else if (c.is_type<g::having_clause>()) {
        a.having = expr(*c.children.at(0));
      } else if (c.is_type<g::aggregate_emit>()) {
        a.emit = emit(c);
      } else if (c.is_type<g::timeout_clause>()) {
        SourceRange head = range(c); // `on timeout emit Name`
        head.end = range(*c.children.at(0)).end;
        notInAggregate(head, "`on timeout emit`",
                       "an aggregate has no partial matches to time out: remove it");
      }
    }
    if (!a.window) {
      diags_.error(a.name.range, "aggregate `" + a.name.name + "` needs a window");
      diags_.note("add one after the name, such as `window tumbling 1h`, `window rolling 1h` "
                  "or `window none`");
    }
    return a;
  }

  // Reports and clears what the one step of an aggregate cannot have.
  void aggregateStep(ast::Step &s) {
    if (s.negated) {
      notInAggregate(SourceRange::cover(s.not_range, s.type.range), "a negated step",
                     "an aggregate counts the events its step matches: remove `not`");
      s.negated = false; // an unnamed step stays unnamed: the checker skips it
    }
    if (s.quantifier) {
      notInAggregate(s.quantifier->range, "a quantifier",
                     "the step binds every matching event in the window: remove `" +
                         sourceText(s.quantifier->range) + "`");
      s.quantifier.reset();
    }
    for (const auto &m : s.modifiers) {
      notInAggregate(m.range, std::string("`") + modifierWord(m.kind) + "`",
                     "the step binds every matching event in the window: remove it");
    }
    s.modifiers.clear();
    if (s.within) {
      notInAggregate(s.within->range, "a step's `within`",
                     "the window bounds an aggregate's time: remove it");
      s.within.reset();
    }
  }

  static const char *modifierWord(ast::Modifier::Kind k) {
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

  std::string sourceText(SourceRange r) const {
    return std::string(file_.text().substr(r.begin, r.end - r.begin));
  }

  ast::Window window(const Node &n) {
    ast::Window w;
    w.range = range(n);
    const Node &k = *n.children.at(0);
    if (k.is_type<g::window_tumbling>()) {
      w.kind = ast::WindowKind::Tumbling;
    } else if (k.is_type<g::window_hopping>()) {
      w.kind = ast::WindowKind::Hopping;
    } else if (k.is_type<g::window_cumulate>()) {
      w.kind = ast::WindowKind::Cumulate;
    } else if (k.is_type<g::window_session>()) {
      w.kind = ast::WindowKind::Session;
    } else if (k.is_type<g::window_rolling>()) {
      w.kind = ast::WindowKind::Rolling;
    } else {
      w.kind = ast::WindowKind::None;
      return w;
    }
    w.size = expr(*k.children.at(0));
    if (k.children.size() > 1) {
      w.slide = expr(*k.children.at(1));
    }
    return w;
  }

  ast::Skip skip(const Node &n) {
    ast::Skip s;
    s.range = range(n);
    const Node &k = *n.children.at(0);
    if (k.is_type<g::skip_none>()) {
      s.kind = ast::SkipKind::None;
    } else if (k.is_type<g::skip_to_next>()) {
      s.kind = ast::SkipKind::ToNext;
    } else if (k.is_type<g::skip_past_last>()) {
      s.kind = ast::SkipKind::PastLast;
    } else {
      s.kind = k.is_type<g::skip_to_first>() ? ast::SkipKind::ToFirst : ast::SkipKind::ToLast;
      s.step = ident(*k.children.at(0));
    }
    return s;
  }

  ast::Step step(const Node &n) {
    ast::Step s;
    s.range = range(n);
    for (const auto &child : n.children) {
      const Node &c = *child;
      if (c.is_type<g::step_not>()) {
        s.negated = true;
        s.not_range = range(c);
      } else if (c.is_type<g::identifier>() || c.is_type<g::reserved_name>()) {
        s.name = ident(c);
      } else if (c.is_type<g::step_type>()) {
        s.type = {c.string(), range(c)};
      } else if (c.is_type<g::step_cond>()) {
        s.has_parens = true;
        if (!c.children.empty()) {
          s.condition = expr(*c.children.front());
        }
      } else if (c.is_type<g::step_within>()) {
        s.within = expr(*c.children.at(0));
      } else if (c.is_type<g::mod_until>()) {
        ast::Modifier m;
        m.kind = ast::Modifier::Kind::Until;
        m.condition = expr(*c.children.at(0));
        m.range = range(c);
        s.modifiers.push_back(std::move(m));
      } else if (auto kind = simpleModifier(c)) {
        ast::Modifier m;
        m.kind = *kind;
        m.range = range(c);
        s.modifiers.push_back(std::move(m));
      } else {
        s.quantifier = quantifier(c);
      }
    }
    return s;
  }

  static std::optional<ast::Modifier::Kind> simpleModifier(const Node &c) {
    if (c.is_type<g::mod_optional>()) {
      return ast::Modifier::Kind::Optional;
    }
    if (c.is_type<g::mod_greedy>()) {
      return ast::Modifier::Kind::Greedy;
    }
    if (c.is_type<g::mod_consecutive>()) {
      return ast::Modifier::Kind::Consecutive;
    }
    if (c.is_type<g::mod_combinations>()) {
      return ast::Modifier::Kind::Combinations;
    }
    return std::nullopt;
  }

  ast::Quantifier quantifier(const Node &n) {
    using Kind = ast::Quantifier::Kind;
    ast::Quantifier q;
    q.range = range(n);
    if (n.is_type<g::q_optional>()) {
      q.kind = Kind::Optional;
    } else if (n.is_type<g::q_plus>()) {
      q.kind = Kind::Plus;
    } else if (n.is_type<g::q_star>()) {
      q.kind = Kind::Star;
    } else {
      // {n} / {n,} / {n,m}: children q_count [q_comma [q_count]]
      q.min = count(*n.children.at(0));
      if (n.children.size() == 1) {
        q.kind = Kind::Exact;
        q.max = q.min;
      } else if (n.children.size() == 2) {
        q.kind = Kind::AtLeast;
      } else {
        q.kind = Kind::Range;
        q.max = count(*n.children.at(2));
      }
    }
    return q;
  }

  std::int64_t count(const Node &n) {
    std::int64_t value = 0;
    for (char c : n.string_view()) {
      if (value > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10) {
        diags_.error(range(n), "quantifier count is too large");
        return 0;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  ast::Emit emit(const Node &n) {
    ast::Emit e;
    e.range = range(n);
    e.stream = ident(*n.children.at(0));
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      const Node &f = *n.children[i];
      e.fields.push_back({ident(*f.children.at(0)), expr(*f.children.at(1)), range(f)});
    }
    return e;
  }

  // ---- expressions ----

  struct Built {
    ast::ExprPtr expr;
    std::size_t depth = 1;
  };

  ast::ExprPtr expr(const Node &n) { return build(n).expr; }

  static ast::ExprPtr make(ast::ExprKind kind, SourceRange r) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->range = r;
    return e;
  }

  // A node with children, `depth` being the deepest child's.
  Built node(ast::ExprPtr e, std::size_t child_depth) const {
    if (child_depth + 1 > kMaxExprDepth) {
      throw TooDeep{e->range};
    }
    return {std::move(e), child_depth + 1};
  }

  Built binary(ast::BinaryOp op, Built lhs, Built rhs) {
    auto e = make(ast::ExprKind::Binary, SourceRange::cover(lhs.expr->range, rhs.expr->range));
    e->binary_op = op;
    std::size_t depth = std::max(lhs.depth, rhs.depth);
    e->children.push_back(std::move(lhs.expr));
    e->children.push_back(std::move(rhs.expr));
    return node(std::move(e), depth);
  }

  // `a op b op c ...` where the operator is implied by the rule (and, or): left-associative.
  // A chain longer than kBalanceAbove terms (a rule listing a thousand cards with `or`) is
  // built as a balanced tree instead, so that its depth grows with the logarithm of its
  // length and it is not "nested too deeply". That is the same expression: Kleene `and`/`or`
  // are associative, and evaluation stays left to right, stopping at the first dominant value
  // in either shape.
  static constexpr std::size_t kBalanceAbove = 64;

  Built foldSame(const Node &n, ast::BinaryOp op) {
    if (n.children.size() > kBalanceAbove) {
      return balanced(n, op, 0, n.children.size());
    }
    Built acc = build(*n.children.front());
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      acc = binary(op, std::move(acc), build(*n.children[i]));
    }
    return acc;
  }

  // The terms [begin, end) of `n` joined by `op`, halves first.
  Built balanced(const Node &n, ast::BinaryOp op, std::size_t begin, std::size_t end) {
    if (end - begin == 1) {
      return build(*n.children[begin]);
    }
    std::size_t mid = begin + (end - begin) / 2;
    Built lhs = balanced(n, op, begin, mid);
    return binary(op, std::move(lhs), balanced(n, op, mid, end));
  }

  // `a op b op c ...` with operator nodes between the operands: left-associative.
  Built foldOps(const Node &n) {
    Built acc = build(*n.children.front());
    for (std::size_t i = 1; i + 1 < n.children.size(); i += 2) {
      acc = binary(binaryOp(*n.children[i]), std::move(acc), build(*n.children[i + 1]));
    }
    return acc;
  }

  static ast::BinaryOp binaryOp(const Node &op) {
    using B = ast::BinaryOp;
    if (op.is_type<g::op_add>()) {
      return B::Add;
    }
    if (op.is_type<g::op_sub>()) {
      return B::Sub;
    }
    if (op.is_type<g::op_mul>()) {
      return B::Mul;
    }
    if (op.is_type<g::op_div>()) {
      return B::Div;
    }
    if (op.is_type<g::op_mod>()) {
      return B::Mod;
    }
    if (op.is_type<g::op_eq>()) {
      return B::Eq;
    }
    if (op.is_type<g::op_ne>()) {
      return B::Ne;
    }
    if (op.is_type<g::op_lt>()) {
      return B::Lt;
    }
    if (op.is_type<g::op_le>()) {
      return B::Le;
    }
    if (op.is_type<g::op_gt>()) {
      return B::Gt;
    }
    return B::Ge;
  }

  Built build(const Node &n) {
    using K = ast::ExprKind;
    if (n.is_type<g::expr>()) {
      return foldSame(n, ast::BinaryOp::Or);
    }
    if (n.is_type<g::and_expr>()) {
      return foldSame(n, ast::BinaryOp::And);
    }
    if (n.is_type<g::add_expr>() || n.is_type<g::mul_expr>()) {
      return foldOps(n);
    }
    if (n.is_type<g::cmp_expr>()) {
      return comparison(n);
    }
    if (n.is_type<g::not_prefix>() || n.is_type<g::neg_expr>()) {
      Built operand = build(*n.children.at(0));
      auto e = make(K::Unary, range(n));
      e->unary_op = n.is_type<g::not_prefix>() ? ast::UnaryOp::Not : ast::UnaryOp::Neg;
      e->children.push_back(std::move(operand.expr));
      return node(std::move(e), operand.depth);
    }
    if (n.is_type<g::postfix_expr>()) {
      // primary, then `.field` suffixes
      Built acc = build(*n.children.front());
      for (std::size_t i = 1; i < n.children.size(); ++i) {
        const Node &m = *n.children[i];
        auto e = make(K::Member, SourceRange::cover(acc.expr->range, range(m)));
        e->name = ident(*m.children.at(0));
        e->children.push_back(std::move(acc.expr));
        acc = node(std::move(e), acc.depth);
      }
      return acc;
    }
    if (n.is_type<g::paren_expr>()) {
      // No node of its own: the inner expression's range grows to cover the parentheses.
      Built inner = build(*n.children.at(0));
      inner.expr->range = range(n);
      return inner;
    }
    if (n.is_type<g::list_lit>() || n.is_type<g::call>()) {
      bool is_call = n.is_type<g::call>();
      auto e = make(is_call ? K::Call : K::ListLit, range(n));
      std::size_t first_arg = 0;
      if (is_call) {
        e->name = ident(*n.children.at(0));
        first_arg = 1;
      }
      std::size_t depth = 0;
      for (std::size_t i = first_arg; i < n.children.size(); ++i) {
        Built element = build(*n.children[i]);
        depth = std::max(depth, element.depth);
        e->children.push_back(std::move(element.expr));
      }
      return node(std::move(e), depth);
    }
    if (n.is_type<g::identifier>() || n.is_type<g::reserved_name>()) {
      auto e = make(K::Name, range(n));
      e->text = n.string();
      return {std::move(e), 1};
    }
    if (n.is_type<g::number>()) {
      return {number(n), 1};
    }
    if (n.is_type<g::string_lit>()) {
      auto e = make(K::StringLit, range(n));
      e->text = stringValue(n);
      return {std::move(e), 1};
    }
    if (n.is_type<g::true_lit>() || n.is_type<g::false_lit>()) {
      auto e = make(K::BoolLit, range(n));
      e->bool_value = n.is_type<g::true_lit>();
      return {std::move(e), 1};
    }
    // null_lit
    return {make(K::NullLit, range(n)), 1};
  }

  // children: operand, suffix (cmp_binary | in_suffix | not_in_suffix | is_suffix)
  Built comparison(const Node &n) {
    using K = ast::ExprKind;
    Built lhs = build(*n.children.at(0));
    const Node &suffix = *n.children.at(1);
    if (suffix.is_type<g::is_suffix>()) {
      auto e = make(K::IsNull, range(n));
      e->negated = !suffix.children.empty();
      std::size_t depth = lhs.depth;
      e->children.push_back(std::move(lhs.expr));
      return node(std::move(e), depth);
    }
    if (suffix.is_type<g::cmp_binary>()) {
      Built rhs = build(*suffix.children.at(1));
      return binary(binaryOp(*suffix.children.at(0)), std::move(lhs), std::move(rhs));
    }
    Built rhs = build(*suffix.children.at(0));
    auto e = make(K::In, range(n));
    e->negated = suffix.is_type<g::not_in_suffix>();
    std::size_t depth = std::max(lhs.depth, rhs.depth);
    e->children.push_back(std::move(lhs.expr));
    e->children.push_back(std::move(rhs.expr));
    return node(std::move(e), depth);
  }

  // ---- literals ----

  // A `number` token: [0-9_]+ [. [0-9_]+] [e[+-]digits] [identifier characters]
  ast::ExprPtr number(const Node &n) {
    using K = ast::ExprKind;
    std::string_view text = n.string_view();
    const std::size_t begin = n.m_begin.byte;
    std::size_t i = 0;
    while (i < text.size() && (isDigit(text[i]) || text[i] == '_')) {
      ++i;
    }
    const std::size_t int_end = i;
    bool is_float = false;
    if (i + 1 < text.size() && text[i] == '.' && isDigit(text[i + 1])) {
      is_float = true;
      ++i;
      while (i < text.size() && (isDigit(text[i]) || text[i] == '_')) {
        ++i;
      }
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < text.size() && (text[j] == '+' || text[j] == '-')) {
        ++j;
      }
      if (j < text.size() && isDigit(text[j])) {
        is_float = true;
        i = j;
        while (i < text.size() && isDigit(text[i])) {
          ++i;
        }
      }
    }
    const std::size_t mantissa_end = i;
    std::string_view suffix = text.substr(i);

    auto e = make(K::IntLit, range(n));
    if (is_float && text.substr(0, mantissa_end).find('_') != std::string_view::npos) {
      e->kind = K::FloatLit;
      diags_.error(range(n), "`_` digit grouping is for integers only, not in a float");
      return e;
    }
    if (!underscoresOk(text.substr(0, int_end))) {
      diags_.error(range(n), "misplaced `_` in a number: `_` may only separate two digits");
      return e;
    }
    if (!suffix.empty()) {
      SourceRange suffix_range = range(begin + mantissa_end, begin + text.size());
      std::int64_t unit = durationUnit(suffix);
      if (is_float) {
        if (unit != 0) {
          diags_.error(range(n), "a duration must be a whole number of units, as in `1500ms`");
        } else {
          diags_.error(suffix_range, "unexpected `" + std::string(suffix) + "` after a number");
        }
        e->kind = K::FloatLit;
        return e;
      }
      e->kind = K::DurationLit;
      if (unit == 0) {
        diags_.error(suffix_range, "unknown duration unit `" + std::string(suffix) +
                                       "` (the units are `ms`, `s`, `m`, `h` and `d`)");
        return e;
      }
      std::int64_t value = 0;
      if (!integer(text.substr(0, int_end), value) ||
          value > std::numeric_limits<std::int64_t>::max() / unit) {
        diags_.error(range(n), "duration is too large");
        return e;
      }
      e->int_value = value * unit;
      return e;
    }
    if (is_float) {
      e->kind = K::FloatLit;
      std::string_view digits = text;
      double value = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec == std::errc::result_out_of_range) {
        // Too small underflows to zero; too large is an error.
        bool negative_exponent =
            digits.find("e-") != std::string::npos || digits.find("E-") != std::string::npos;
        if (!negative_exponent) {
          diags_.error(range(n), "float literal is out of range");
        }
        value = 0;
      }
      e->float_value = value;
      return e;
    }
    if (!integer(text, e->int_value)) {
      diags_.error(range(n), "integer literal is too large (the largest `int` is " +
                                 std::to_string(std::numeric_limits<std::int64_t>::max()) + ")");
    }
    return e;
  }

  // Digits with `_` separators; false on int64 overflow.
  static bool integer(std::string_view digits, std::int64_t &out) {
    std::int64_t value = 0;
    for (char c : digits) {
      if (c == '_') {
        continue;
      }
      int d = c - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - d) / 10) {
        out = 0;
        return false;
      }
      value = value * 10 + d;
    }
    out = value;
    return true;
  }

  // The value of a `string_lit` node, escapes resolved. Bad escapes are reported at the escape.
  std::string stringValue(const Node &n) {
    std::string_view text = n.string_view();
    std::string_view body = text.substr(1, text.size() - 2);
    const std::size_t base = n.m_begin.byte + 1;
    std::string out;
    out.reserve(body.size());
    std::size_t i = 0;
    while (i < body.size()) {
      char c = body[i];
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      char esc = body[i + 1]; // the grammar guarantees a character after `\`
      switch (esc) {
      case '"':
      case '\\':
      case '/':
        out += esc;
        i += 2;
        continue;
      case 'n':
        out += '\n';
        i += 2;
        continue;
      case 't':
        out += '\t';
        i += 2;
        continue;
      case 'r':
        out += '\r';
        i += 2;
        continue;
      case 'u':
        i = unicodeEscape(body, i, base, out);
        continue;
      default: {
        std::size_t len =
            std::min(utf8Length(static_cast<unsigned char>(esc)), body.size() - i - 1);
        diags_.error(range(base + i, base + i + 1 + len),
                     "unknown escape sequence `\\" + std::string(body.substr(i + 1, len)) +
                         "` (use `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\/` or `\\uXXXX`)");
        i += 1 + len;
        continue;
      }
      }
    }
    return out;
  }

  // Reads four hex digits after `\u` at body[i]; -1 if they are not there.
  static long hex4(std::string_view body, std::size_t i) {
    if (i + 6 > body.size() || body[i] != '\\' || body[i + 1] != 'u') {
      return -1;
    }
    long value = 0;
    for (std::size_t k = i + 2; k < i + 6; ++k) {
      int h = hexValue(body[k]);
      if (h < 0) {
        return -1;
      }
      value = value * 16 + h;
    }
    return value;
  }

  // `\uXXXX` at body[i] (a UTF-16 surrogate pair is two of them); returns the index after it.
  std::size_t unicodeEscape(std::string_view body, std::size_t i, std::size_t base,
                            std::string &out) {
    long unit = hex4(body, i);
    if (unit < 0) {
      std::size_t end = i + 2;
      while (end < body.size() && end < i + 6 && hexValue(body[end]) >= 0) {
        ++end;
      }
      diags_.error(range(base + i, base + end), "`\\u` must be followed by four hex digits");
      return end;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      long low = hex4(body, i + 6);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        appendUtf8(out, 0x10000 + ((static_cast<std::uint32_t>(unit) - 0xD800) << 10) +
                            (static_cast<std::uint32_t>(low) - 0xDC00));
        return i + 12;
      }
    }
    if (unit >= 0xD800 && unit <= 0xDFFF) {
      diags_.error(range(base + i, base + i + 6),
                   "unpaired UTF-16 surrogate `" + std::string(body.substr(i, 6)) + "`");
      return i + 6;
    }
    appendUtf8(out, static_cast<std::uint32_t>(unit));
    return i + 6;
  }

  const SourceFile &file_;
  DiagnosticEngine &diags_;
};

// ---- error positions and recovery ----

// Skips spaces and complete comments from `pos`.
std::size_t skipSpace(std::string_view text, std::size_t pos) {
  while (pos < text.size()) {
    char c = text[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++pos;
    } else if (text.substr(pos, 2) == "//") {
      std::size_t nl = text.find('\n', pos);
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
    } else if (text.substr(pos, 2) == "/*") {
      std::size_t close = text.find("*/", pos + 2);
      if (close == std::string_view::npos) {
        break;
      }
      pos = close + 2;
    } else {
      break;
    }
  }
  return pos;
}

// The end of the token that starts at `pos`, for the caret under a syntax error.
std::size_t tokenEnd(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) {
    return text.size();
  }
  char c = text[pos];
  if (isIdentChar(c)) {
    std::size_t end = pos;
    while (end < text.size() && isIdentChar(text[end])) {
      ++end;
    }
    return end;
  }
  if (c == '"') {
    std::size_t end = pos + 1;
    while (end < text.size() && text[end] != '"' && text[end] != '\n' && text[end] != '\r') {
      end += text[end] == '\\' && end + 1 < text.size() && text[end + 1] != '\n' ? 2 : 1;
    }
    return end < text.size() && text[end] == '"' ? end + 1 : end;
  }
  for (std::string_view op : {"->>", "->", "==", "!=", "<=", ">=", "/*", "//"}) {
    if (text.substr(pos, op.size()) == op) {
      return pos + op.size();
    }
  }
  return std::min(text.size(), pos + utf8Length(static_cast<unsigned char>(c)));
}

bool startsDeclaration(std::string_view text, std::size_t pos) {
  for (std::string_view kw : {"import", "const", "def", "event", "pattern", "aggregate", "test"}) {
    if (text.substr(pos, kw.size()) == kw &&
        (pos + kw.size() == text.size() || !isIdentChar(text[pos + kw.size()]))) {
      return true;
    }
  }
  return false;
}

// Where to resume after an error at `error` in the declaration that starts at `decl`: the first
// line at or after the error (and after the declaration's start) that starts with a
// declaration keyword in column 1.
std::size_t recoveryPoint(std::string_view text, std::size_t decl, std::size_t error) {
  std::size_t pos = error;
  if (pos <= decl || (pos > 0 && text[pos - 1] != '\n')) {
    std::size_t nl = text.find('\n', std::max(pos, decl + 1));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  while (pos < text.size() && !startsDeclaration(text, pos)) {
    std::size_t nl = text.find('\n', pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return pos;
}

// What a person coming from SQL, C or English likely meant when a syntax error stops at `pos`
// (docs/language.md §13): a note for the error, or nothing. `message` is the error's.
std::optional<std::string> syntaxHint(std::string_view text, std::size_t pos,
                                      std::string_view message) {
  if (pos >= text.size()) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(pos);
  auto starts = [&](std::string_view s) { return rest.substr(0, s.size()) == s; };
  // Only inside a condition: elsewhere (`const = 1`, `emit { a = 1 }`) `=` means something else.
  bool in_condition = message.find("condition") != std::string_view::npos ||
                      message.substr(0, 12) == "expected `)`";
  if (in_condition && starts("=") && !starts("==") && !starts("=>")) {
    return "`=` is not a comparison here: write `==` (or `!=`, `<=`, `>=`)";
  }
  if (starts("&&")) {
    return "write `and` for a logical and";
  }
  if (starts("||")) {
    return "write `or` for a logical or";
  }
  if (starts("!") && !starts("!=")) {
    return "write `not` for a logical not";
  }
  if (starts("'")) {
    return "strings are written in double quotes: \"...\"";
  }
  std::size_t end = tokenEnd(text, pos);
  std::string_view word = text.substr(pos, end - pos);
  if (word.empty() || !isIdentChar(word.front()) ||
      std::isdigit(static_cast<unsigned char>(word.front()))) {
    return std::nullopt;
  }
  std::string lower(word);
  for (char &c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower != word && (lower == "and" || lower == "or" || lower == "not" || lower == "true" ||
                        lower == "false" || lower == "null")) {
    return "keywords are lower case: `" + lower + "`";
  }
  // `within 10 minutes`: a number, a space, then a unit word.
  static const char *const kUnitWords[] = {
      "ms",  "millis", "millisecond", "milliseconds", "s",       "sec", "secs", "second", "seconds",
      "m",   "min",    "mins",        "minute",       "minutes", "h",   "hour", "hours",  "hr",
      "hrs", "d",      "day",         "days"};
  std::size_t before = pos;
  while (before > 0 && (text[before - 1] == ' ' || text[before - 1] == '\t')) {
    --before;
  }
  if (before < pos && before > 0 && std::isdigit(static_cast<unsigned char>(text[before - 1]))) {
    for (const char *unit : kUnitWords) {
      if (lower == unit) {
        std::size_t digits = before;
        while (digits > 0 && std::isdigit(static_cast<unsigned char>(text[digits - 1]))) {
          --digits;
        }
        std::string number(text.substr(digits, before - digits));
        char letter = lower.substr(0, 2) == "ms" || lower.substr(0, 3) == "mil" ? 'x' : lower[0];
        std::string suffix = letter == 'x' ? "ms" : std::string(1, letter);
        return "a duration is a number and its unit with no space: `" + number + suffix +
               "` (units ms, s, m, h, d)";
      }
    }
  }
  // "expected `options`, `input`, `expect` or `}` in test ..." at `expected`: the clause.
  if (message.find("` in test `") != std::string_view::npos) {
    for (std::string_view want : {"options", "input", "expect"}) {
      if (word != want && editDistance(word, want) <= 2) {
        return "did you mean `" + std::string(want) + "`?";
      }
    }
  }
  // "expected `last` after `skip past`" at `lsat`: the keyword it resembles.
  if (message.substr(0, 10) == "expected `") {
    std::size_t close = message.find('`', 10);
    if (close != std::string_view::npos) {
      std::string_view want = message.substr(10, close - 10);
      if (want != word && editDistance(word, want) <= 2 && want.size() > 2) {
        return "did you mean `" + std::string(want) + "`?";
      }
    }
  }
  return std::nullopt;
}

using Input = pegtl::memory_input<pegtl::tracking_mode::eager, pegtl::eol::lf_crlf, std::string>;

class ModuleParser {
public:
  ModuleParser(const SourceFile &file, DiagnosticEngine &diags)
      : file_(file), text_(file.text()), diags_(diags), builder_(file, diags) {}

  ast::Module run() {
    ast::Module module;
    module.file = file_.id();
    std::size_t pos = text_.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0; // UTF-8 byte order mark
    while (true) {
      std::optional<std::size_t> next = skipWhitespace(pos);
      if (!next || *next >= text_.size()) {
        break;
      }
      pos = *next;
      next = declaration(pos, module);
      if (!next) {
        break;
      }
      pos = *next;
    }
    module.syntax_errors = errors_;
    return module;
  }

private:
  Input input(std::size_t pos) const {
    LineCol lc = file_.lineCol(static_cast<std::uint32_t>(pos));
    return Input(text_.data() + pos, text_.data() + text_.size(), file_.path(), pos, lc.line,
                 lc.column);
  }

  // Past whitespace and comments; nullopt after an unterminated comment (reported).
  std::optional<std::size_t> skipWhitespace(std::size_t pos) {
    Input in = input(pos);
    g::ParseState state;
    try {
      pegtl::parse<g::ws, pegtl::nothing, g::control>(in, state);
    } catch (const pegtl::parse_error &e) {
      report(e, state);
      return std::nullopt;
    }
    return static_cast<std::size_t>(in.current() - text_.data());
  }

  // Parses the declaration at `pos`; returns where to continue, nullopt to stop.
  std::optional<std::size_t> declaration(std::size_t pos, ast::Module &module) {
    Input in = input(pos);
    g::ParseState state;
    try {
      auto root = pt::parse<pegtl::must<g::declaration>, Selector, Actions, g::control>(in, state);
      std::size_t end = static_cast<std::size_t>(in.current() - text_.data());
      try {
        builder_.declaration(*root->children.at(0), module);
      } catch (const TooDeep &too_deep) {
        diags_.error(too_deep.range, "expression is nested too deeply");
      }
      return end;
    } catch (const pegtl::parse_error &e) {
      std::size_t error = report(e, state);
      noteUnparsed(pos, module);
      if (e.message() == g::error_message<g::unterminated_comment>) {
        // The rest of the file is inside the comment. The declaration may still be complete
        // before it (the comment was only met while looking for more of it): keep it if so.
        keepIfComplete(pos, error, module);
        return std::nullopt;
      }
      return recoveryPoint(text_, pos, error);
    }
  }

  // The declaration at `pos` did not parse: its keyword and name, read as text (ast::Module).
  void noteUnparsed(std::size_t pos, ast::Module &module) const {
    std::size_t end = pos;
    while (end < text_.size() && isIdentChar(text_[end])) {
      ++end;
    }
    std::string_view keyword = text_.substr(pos, end - pos);
    if (keyword == "import") {
      module.unparsed_import = true;
      return;
    }
    if (keyword != "event" && keyword != "const" && keyword != "def") {
      return; // patterns and aggregates are named by nothing else
    }
    std::size_t start = skipSpace(text_, end);
    end = start;
    while (end < text_.size() && isIdentChar(text_[end])) {
      ++end;
    }
    if (end > start) {
      module.unparsed.emplace_back(text_.substr(start, end - start));
    }
  }

  // Parses [pos, end) as one declaration, silently; keeps it if that works.
  void keepIfComplete(std::size_t pos, std::size_t end, ast::Module &module) {
    Input in(text_.data() + pos, text_.data() + end, file_.path(), pos, 1, 1);
    g::ParseState state;
    try {
      auto root = pt::parse<pegtl::must<g::declaration>, Selector, Actions, g::control>(in, state);
      builder_.declaration(*root->children.at(0), module);
    } catch (const pegtl::parse_error &) {
    } catch (const TooDeep &) {
    }
  }

  // Reports a syntax error; returns its offset.
  std::size_t report(const pegtl::parse_error &e, const g::ParseState &state) {
    ++errors_;
    std::size_t pos = e.positions().empty() ? text_.size() : e.positions().front().byte;
    pos = std::min(skipSpace(text_, pos), text_.size());
    std::string message(e.message());
    if (auto at = message.find("{pattern}"); at != std::string::npos) {
      message.replace(at, 9, state.pattern_name);
    }
    std::optional<std::string> hint = syntaxHint(text_, pos, message);
    diags_.error({file_.id(), static_cast<std::uint32_t>(pos),
                  static_cast<std::uint32_t>(tokenEnd(text_, pos))},
                 std::move(message));
    if (hint) {
      diags_.note(std::move(*hint));
    }
    return pos;
  }

  const SourceFile &file_;
  std::string_view text_;
  DiagnosticEngine &diags_;
  AstBuilder builder_;
  std::size_t errors_ = 0;
};

} // namespace

ast::Module parseModule(const SourceFile &file, DiagnosticEngine &diags) {
  return ModuleParser(file, diags).run();
}

} // namespace cep::lang
