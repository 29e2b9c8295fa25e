// The NFA verifier (compiler/nfa/verifier.hpp): a lowered NFA passes; breaking each invariant on
// a copy of it is reported with the state and the rule, and verify() throws InternalError.
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/nfa/verifier.hpp"
#include "lang/check.hpp"
#include "lang/parse.hpp"
#include "support/internal_error.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <sstream>

using namespace cep;
using namespace cep::compiler;
using nfa::EdgeKind;
using nfa::Guard;
using nfa::GuardPtr;
using nfa::StateKind;

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

// a -> b{2,3} -> not n -> c, within 1m: a loop, a stop state, a per-step bound.
const char *kSource = R"(
event E { name: string, price: float, ts: time }
event F { kind: string, ts: time }
pattern p within 1m {
    a: E(name == "a") -> b: E(name == "b"){2,3} -> not n: F(kind == "n") -> c: E(name == "c") within 10s
}
emit Out { x: 1 }
pattern q within 1m { o: E(name == "o") -> not F(kind == "pay") }
emit Out { x: 1 }
)";

struct Fixture {
  std::unique_ptr<Compiled> c = compile(kSource);
  nfa::Nfa base = lowerPattern(*c->program, 0);

  // The violation after `mutate` on a fresh copy of the NFA.
  std::string broken(const std::function<void(nfa::Nfa &)> &mutate) const {
    nfa::Nfa n = base.clone();
    mutate(n);
    auto v = nfa::findViolation(n);
    return v ? *v : std::string("(no violation)");
  }
  static nfa::State &state(nfa::Nfa &n, const std::string &name) {
    nfa::StateId id = n.find(name);
    REQUIRE(id >= 0);
    return n.states[static_cast<std::size_t>(id)];
  }
  static nfa::Edge &edge(nfa::Nfa &n, const std::string &name, EdgeKind kind) {
    for (auto &e : state(n, name).edges) {
      if (e.kind == kind) {
        return e;
      }
    }
    FAIL("no such edge");
    throw;
  }
};

template <class... G> GuardPtr andOf(G &&...g) {
  GuardPtr r = Guard::make(Guard::Kind::And);
  (r->args.push_back(std::forward<G>(g)), ...);
  return r;
}

using Catch::Matchers::Contains;

} // namespace

TEST_CASE("lowered NFAs verify", "[nfa][verifier]") {
  Fixture f;
  CHECK_FALSE(nfa::findViolation(f.base).has_value());
  CHECK_NOTHROW(nfa::verify(f.base));
  CHECK_FALSE(nfa::findViolation(lowerPattern(*f.c->program, 1)).has_value());
}

TEST_CASE("verify() throws InternalError naming pattern, stage, state and rule",
          "[nfa][verifier]") {
  Fixture f;
  nfa::Nfa n = f.base.clone();
  Fixture::state(n, "c").name = "b";
  CHECK_THROWS_AS(nfa::verify(n, "after pass x"), InternalError);
  CHECK_THROWS_WITH(nfa::verify(n, "after pass x"),
                    "NFA verifier: pattern `p` (after pass x): state `b`: names: duplicate state "
                    "name");
}

TEST_CASE("the verifier rejects each broken invariant", "[nfa][verifier]") {
  Fixture f;
  SECTION("program") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) { n.program = nullptr; }), Contains("program:"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) { n.pattern_index = 7; }), Contains("program:"));
  }
  SECTION("start") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) { n.start = 99; }), Contains("start:"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) { n.start = n.find("$final"); }),
               Contains("state `$final`: start:"));
  }
  SECTION("names") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::state(n, "c").name = ""; }),
               Contains("names: empty state name"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::state(n, "c").name = "a"; }),
               Contains("names: duplicate"));
  }
  SECTION("final") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      nfa::State extra;
      extra.name = "$final2";
      extra.kind = StateKind::Final;
      n.states.push_back(std::move(extra));
    }),
               Contains("state `$final2`: final: a second Final state"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      nfa::Edge e;
      e.kind = EdgeKind::Ignore;
      e.target = n.find("$stop:n");
      Fixture::state(n, "$stop:n").edges.push_back(std::move(e));
    }),
               Contains("state `$stop:n`: final: a stop state has edges"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::state(n, "a").completes_at_end = true; }),
               Contains("state `a`: final: completes_at_end"));
  }
  SECTION("step") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::state(n, "c").step = 9; }),
               Contains("state `c`: step:"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      nfa::State extra;
      extra.name = "orphan";
      n.states.push_back(std::move(extra));
    }),
               Contains("state `orphan`: step: a Normal state belongs to no step"));
  }
  SECTION("target") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::edge(n, "a", EdgeKind::Take).target = 42; }),
               Contains("state `a`: target:"));
  }
  SECTION("take") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "a", EdgeKind::Take).guard =
          Guard::cond(n.patternDecl().steps[0].condition.get(), 0);
    }),
               Contains("state `a`: take: take -> b: the guard does not start with TypeIs(E)"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "a", EdgeKind::Take).guard = Guard::typeIs(1);
    }),
               Contains("take: take -> b: the guard does not start with TypeIs(E)"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      auto &e = Fixture::edge(n, "c", EdgeKind::Take);
      e.target = n.find("$stop:n");
    }),
               Contains("state `c`: take: take -> $stop:n: TAKE into a Stop state"));
  }
  SECTION("ignore") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      auto &e = Fixture::edge(n, "c", EdgeKind::Ignore);
      e.target = n.find("a");
      e.resets_counter = true;
    }),
               Contains("state `c`: ignore: ignore -> a: IGNORE leaves the step"));
  }
  SECTION("guard") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "c", EdgeKind::Ignore).guard = Guard::make(Guard::Kind::False);
    }),
               Contains("state `c`: guard: ignore -> c: a False guard is left"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "c", EdgeKind::Ignore).guard = Guard::make(Guard::Kind::Not);
    }),
               Contains("guard: ignore -> c: wrong number of operands"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "c", EdgeKind::Ignore).guard = Guard::negate(Guard::typeIs(5));
    }),
               Contains("guard: ignore -> c: TypeIs of an unknown event type"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "c", EdgeKind::Ignore).guard =
          andOf(Guard::typeIs(0), Guard::cond(nullptr, 3));
    }),
               Contains("guard: ignore -> c: Cond without an expression"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      // the condition's left operand: a string, not a bool
      const auto *s = n.patternDecl().steps[3].condition->args[0].get();
      Fixture::edge(n, "c", EdgeKind::Ignore).guard = andOf(Guard::typeIs(0), Guard::cond(s, 3));
    }),
               Contains("guard: ignore -> c: Cond on an expression that is not bool"));
  }
  SECTION("cond-type") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      // c's condition, not preceded by TypeIs(E)
      Fixture::edge(n, "c", EdgeKind::Ignore).guard =
          Guard::negate(Guard::cond(n.patternDecl().steps[3].condition.get(), 3));
    }),
               Contains("state `c`: cond-type: ignore -> c: a condition of step `c` is not "
                        "preceded by TypeIs(E)"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      // the negated step's condition (on F) after TypeIs(E)
      Fixture::edge(n, "c", EdgeKind::Ignore).guard =
          andOf(Guard::typeIs(0), Guard::cond(n.patternDecl().steps[2].condition.get(), 2));
    }),
               Contains("cond-type: ignore -> c: a condition of step `n` is not preceded by "
                        "TypeIs(F)"));
  }
  SECTION("counter") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "c", EdgeKind::Take).guard->args.push_back(Guard::countBelow(2));
    }),
               Contains("state `c`: counter: take -> $final: a counter test outside a loop state"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      auto &e = Fixture::edge(n, "b:loop", EdgeKind::Proceed);
      e.guard = Guard::countAtLeast(0);
    }),
               Contains("state `b:loop`: counter: proceed -> c: a counter test against 0"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::edge(n, "a", EdgeKind::Take).counts = true; }),
               Contains("state `a`: counter: take -> b: `counts` on an edge that is not a TAKE "
                        "into the step's loop"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::state(n, "c").loop = true; }),
               Contains("state `c`: counter: a loop state of a step that does not loop"));
  }
  SECTION("reset") {
    CHECK_THAT(
        f.broken([](nfa::Nfa &n) { Fixture::edge(n, "a", EdgeKind::Take).resets_counter = false; }),
        Contains("state `a`: reset: take -> b: resets_counter must be set exactly"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      Fixture::edge(n, "b:loop~", EdgeKind::Ignore).resets_counter = true;
    }),
               Contains("state `b:loop~`: reset:"));
  }
  SECTION("proceed-cycle") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      nfa::Edge e;
      e.kind = EdgeKind::Proceed;
      e.target = n.find("b:loop");
      e.resets_counter = true;
      Fixture::state(n, "c").edges.push_back(std::move(e));
    }),
               Contains("proceed-cycle:"));
  }
  SECTION("accepting") {
    auto cut = [](nfa::Nfa &n) {
      auto &edges = Fixture::state(n, "c").edges;
      edges.erase(edges.begin()); // take -> $final
    };
    CHECK_THAT(f.broken(cut), Contains("state `a`: accepting: no Final or Pending state"));
    nfa::Nfa n = f.base.clone();
    cut(n);
    CHECK_FALSE(nfa::findViolation(n, /*require_accepting=*/false).has_value());
    CHECK_FALSE(nfa::acceptingReachable(n));
  }
  SECTION("within") {
    CHECK_THAT(f.broken([](nfa::Nfa &n) { Fixture::state(n, "c").within_ms = 0; }),
               Contains("state `c`: within:"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) { n.within_ms = -5; }), Contains("within:"));
    CHECK_THAT(f.broken([](nfa::Nfa &n) {
      n.skip = lang::typed::SkipStrategy::ToLast;
      n.skip_step = 2; // the negated step
    }),
               Contains("within: skip to first/last names no positive step"));
  }
}
