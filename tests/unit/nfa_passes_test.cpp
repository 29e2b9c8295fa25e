// The NFA passes (compiler/passes/): each pass on small NFAs, the pass manager (order, disabling
// by name, the verifier after each pass).
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/nfa/printer.hpp"
#include "compiler/nfa/verifier.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "lang/check.hpp"
#include "lang/parse.hpp"
#include "support/internal_error.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>

using namespace cep;
using namespace cep::compiler;
using nfa::EdgeKind;
using nfa::Guard;
using nfa::GuardPtr;

namespace {

struct Compiled {
  lang::SourceManager sources;
  lang::DiagnosticEngine diags{sources};
  std::vector<lang::ast::Module> modules;
  std::optional<lang::typed::Program> program;
};

std::unique_ptr<Compiled> compile(const std::string &text) {
  auto c = std::make_unique<Compiled>();
  lang::FileId id = c->sources.add("t.cep", text);
  c->modules.push_back(lang::parseModule(c->sources.file(id), c->diags));
  c->program = lang::checkProgram(c->modules, {{}}, c->sources, c->diags);
  std::ostringstream diags;
  c->diags.render(diags, false);
  INFO(diags.str());
  REQUIRE(c->program.has_value());
  return c;
}

const char *kTypes = "event E { name: string, price: float, ts: time }\n"
                     "event F { kind: string, ts: time }\n";

struct Case {
  std::unique_ptr<Compiled> c;
  nfa::Nfa nfa;

  explicit Case(const std::string &pattern)
      : c(compile(std::string(kTypes) + pattern +
                  (pattern.find("\nemit") != std::string::npos ? "\n" : "\nemit Out { x: 1 }\n"))),
        nfa(lowerPattern(*c->program, 0)) {}

  std::string text() const {
    std::ostringstream out;
    nfa::printText(out, nfa);
    return out.str();
  }
  nfa::State &state(const std::string &name) {
    nfa::StateId id = nfa.find(name);
    REQUIRE(id >= 0);
    return nfa.states[static_cast<std::size_t>(id)];
  }
  std::string guard(const std::string &name, std::size_t edge) {
    const nfa::State &s = state(name);
    REQUIRE(edge < s.edges.size());
    return s.edges[edge].guard ? nfa::guardText(nfa, s, *s.edges[edge].guard) : "always";
  }
  const lang::typed::Expr *condition(std::size_t step) const {
    return nfa.patternDecl().steps[step].condition.get();
  }
  // Runs one pass and verifies the result.
  bool run(std::unique_ptr<passes::Pass> pass) {
    bool changed = pass->run(nfa);
    nfa::verify(nfa, "test", false);
    return changed;
  }
};

template <class... G> GuardPtr andOf(G &&...g) {
  GuardPtr r = Guard::make(Guard::Kind::And);
  (r->args.push_back(std::forward<G>(g)), ...);
  return r;
}

template <class... G> GuardPtr orOf(G &&...g) {
  GuardPtr r = Guard::make(Guard::Kind::Or);
  (r->args.push_back(std::forward<G>(g)), ...);
  return r;
}

} // namespace

TEST_CASE("fold-constants: boolean simplification", "[nfa][passes]") {
  Case k("pattern p { a: E(name == \"a\") -> b: E(name == \"b\") }");
  const auto *cond_b = k.condition(1);
  auto &ignore = k.state("b").edges[1]; // ignore -> b
  SECTION("True and Not(False) vanish inside And") {
    ignore.guard = andOf(Guard::typeIs(0), Guard::make(Guard::Kind::True),
                         Guard::negate(Guard::make(Guard::Kind::False)), Guard::cond(cond_b, 1));
    CHECK(k.run(passes::createFoldConstantsPass()));
    CHECK(k.guard("b", 1) == "E(name == \"b\")");
  }
  SECTION("Or with True is always") {
    ignore.guard = orOf(Guard::negate(Guard::typeIs(0)), Guard::make(Guard::Kind::True));
    CHECK(k.run(passes::createFoldConstantsPass()));
    CHECK(k.state("b").edges[1].guard == nullptr);
  }
  SECTION("Or drops False; a single operand stands alone; not not g is g") {
    ignore.guard = orOf(Guard::make(Guard::Kind::False),
                        Guard::negate(Guard::negate(Guard::negate(Guard::typeIs(1)))));
    CHECK(k.run(passes::createFoldConstantsPass()));
    CHECK(k.guard("b", 1) == "not F");
  }
  SECTION("an edge that can never be followed is removed") {
    ignore.guard = andOf(Guard::typeIs(0), Guard::make(Guard::Kind::False));
    CHECK(k.run(passes::createFoldConstantsPass()));
    CHECK(k.state("b").edges.size() == 1);
  }
  SECTION("a second TypeIs is decided by the first") {
    ignore.guard =
        andOf(Guard::typeIs(0), Guard::negate(andOf(Guard::typeIs(0), Guard::cond(cond_b, 1))),
              Guard::negate(andOf(Guard::typeIs(1), Guard::cond(k.condition(0), 0))));
    CHECK(k.run(passes::createFoldConstantsPass()));
    CHECK(k.guard("b", 1) == "E(not (name == \"b\"))");
  }
  SECTION("nothing to fold") {
    CHECK_FALSE(k.run(passes::createFoldConstantsPass()));
  }
}

TEST_CASE("fold-constants: constant conditions", "[nfa][passes]") {
  Case k("pattern p { a: E(name == \"a\" and true) -> b: E(price > 1.0 and false)? -> c: E(true "
         "or name == \"x\") }");
  CHECK(k.run(passes::createFoldConstantsPass()));
  CHECK(k.guard("a", 0) == "E(name == \"a\")");
  // b can never take: its TAKE edges are gone, its IGNOREs are always followed.
  CHECK(k.text().find("take -> c") == std::string::npos);
  CHECK(k.guard("b", 0) == "always"); // ignore -> b~
  CHECK(k.guard("c", 0) == "E");      // take -> $final
  // Idempotent.
  CHECK_FALSE(k.run(passes::createFoldConstantsPass()));
}

TEST_CASE("fold-constants: a greedy loop over another event type", "[nfa][passes]") {
  Case k("pattern p { a: E(name == \"a\") -> b: E(price < 1.0)+ greedy -> c: F(kind == \"c\") }");
  CHECK(k.guard("c", 0) == "F(kind == \"c\") and not E(price < 1.0)");
  CHECK(k.run(passes::createFoldConstantsPass()));
  CHECK(k.guard("c", 0) == "F(kind == \"c\")");
  CHECK(k.guard("c", 1) == "not F(kind == \"c\") and not E(price < 1.0)");
}

TEST_CASE("remove-dead-states: unreachable states", "[nfa][passes]") {
  Case k("pattern p within 5m { o: E(name == \"o\") -> not F(kind == \"pay\") }");
  REQUIRE(k.nfa.find("$final") >= 0);
  CHECK(k.run(passes::createRemoveDeadStatesPass()));
  CHECK(k.nfa.find("$final") < 0);
  CHECK(k.nfa.find("$stop:$not2") >= 0); // stop states stay
  CHECK(k.nfa.states[static_cast<std::size_t>(k.nfa.start)].name == "o");
  CHECK_FALSE(k.run(passes::createRemoveDeadStatesPass()));
}

TEST_CASE("remove-dead-states: dead ends only when unobservable", "[nfa][passes]") {
  const std::string body = "{ a: E(name == \"a\") -> b: E(false)? -> c: E(name == \"c\") }";
  SECTION("skip none, no timeout: b~ goes") {
    Case k("pattern p skip none " + body);
    k.run(passes::createFoldConstantsPass());
    REQUIRE(k.nfa.find("b~") >= 0);
    CHECK(k.run(passes::createRemoveDeadStatesPass()));
    CHECK(k.nfa.find("b~") < 0);
    CHECK(k.state("b").edges.size() == 1); // proceed -> c
  }
  SECTION("skip past last: a run in b~ holds back later matches, it stays") {
    Case k("pattern p " + body);
    k.run(passes::createFoldConstantsPass());
    CHECK_FALSE(k.run(passes::createRemoveDeadStatesPass()));
    CHECK(k.nfa.find("b~") >= 0);
  }
  SECTION("with a timeout emit it stays") {
    Case k("pattern p within 1m skip none " + body +
           "\nemit Out { x: 1 }\non timeout emit T { y: 1 }");
    k.run(passes::createFoldConstantsPass());
    CHECK_FALSE(k.run(passes::createRemoveDeadStatesPass()));
  }
  SECTION("a dead end that can reach a stop state stays: it kills its sibling runs") {
    Case k("pattern p skip none { a: E(name == \"a\") -> not n: F(kind == \"n\") -> b: E(false)? "
           "-> c: E(name == \"c\") }");
    k.run(passes::createFoldConstantsPass());
    CHECK(k.text().find("b~\n") != std::string::npos);
    k.run(passes::createRemoveDeadStatesPass());
    CHECK(k.nfa.find("b~") >= 0);
  }
}

TEST_CASE("split-guards: flatten and order cheap first", "[nfa][passes]") {
  Case k("pattern p { a: E(name == \"a\") -> b: E(price > a.price and name == \"b\" and price < "
         "2.0) }");
  CHECK(k.guard("b", 0) == "E(price > a.price and name == \"b\" and price < 2.0)");
  CHECK(k.run(passes::createSplitGuardsPass()));
  const auto &take = *k.state("b").edges[0].guard;
  REQUIRE(take.kind == Guard::Kind::And);
  REQUIRE(take.args.size() == 4);
  CHECK(take.args[0]->kind == Guard::Kind::TypeIs);
  CHECK(k.guard("b", 0) == "E(name == \"b\" and price < 2.0 and price > a.price)");
  CHECK(k.guard("b", 1) == "not E(name == \"b\" and price < 2.0 and price > a.price)");
  CHECK_FALSE(k.run(passes::createSplitGuardsPass()));
}

TEST_CASE("split-guards: counter tests before conditions, nested Ands spliced", "[nfa][passes]") {
  Case k("pattern p { a: E(name == \"a\") -> b: E(price > a.price){2,3} }");
  auto &take = k.state("b:loop").edges[0]; // take -> b:loop [E(...) and count(b) < 2]
  REQUIRE(k.guard("b:loop", 0) == "E(price > a.price) and count(b) < 2");
  take.guard = andOf(Guard::typeIs(0), andOf(Guard::cond(k.condition(1), 1), Guard::countBelow(2)));
  CHECK(k.run(passes::createSplitGuardsPass()));
  const auto &g = *k.state("b:loop").edges[0].guard;
  REQUIRE(g.args.size() == 3);
  CHECK(g.args[0]->kind == Guard::Kind::TypeIs);
  CHECK(g.args[1]->kind == Guard::Kind::CountBelow);
  CHECK(g.args[2]->kind == Guard::Kind::Cond);
}

TEST_CASE("the pass manager", "[nfa][passes]") {
  auto pm = passes::PassManager::standard();
  CHECK(pm.names() ==
        std::vector<std::string>{"fold-constants", "remove-dead-states", "split-guards"});
  CHECK_FALSE(pm.disable("no-such-pass"));

  Case k("pattern p within 5m { o: E(name == \"o\" and true) -> not F(kind == \"pay\") }");
  SECTION("runs every pass") {
    CHECK(pm.run(k.nfa));
    CHECK(k.nfa.find("$final") < 0);
    CHECK(k.guard("o", 0) == "E(name == \"o\")");
  }
  SECTION("a disabled pass does not run") {
    CHECK(pm.disable("remove-dead-states"));
    CHECK(pm.run(k.nfa));
    CHECK(k.nfa.find("$final") >= 0);
  }
  SECTION("the verifier runs after each pass") {
    class Breaks : public passes::Pass {
    public:
      passes::PassKind kind() const override { return passes::PassKind::SplitGuards; }
      std::string_view name() const override { return "breaks"; }
      std::string_view description() const override { return "test"; }
      bool run(nfa::Nfa &n) override {
        n.states[0].name = n.states[1].name;
        return true;
      }
    };
    passes::PassManager bad;
    bad.add(std::make_unique<Breaks>());
    CHECK_THROWS_WITH(bad.run(k.nfa), Catch::Matchers::Contains("(after pass breaks)") &&
                                          Catch::Matchers::Contains("names: duplicate"));
  }
  SECTION("a pattern that can never match survives the passes") {
    Case never("pattern p { a: E(false) -> b: E(name == \"b\") }");
    CHECK_NOTHROW(pm.run(never.nfa));
    CHECK(never.nfa.states[static_cast<std::size_t>(never.nfa.start)].edges.empty());
  }
}
