// Lowering (compiler/lower): the graph shape of Flink's NFACompiler for each contiguity,
// quantifier, modifier and negation, and the counter model: a step `{n,m}` as one loop state must
// leave exactly the runs Flink's unrolled `times` states leave, after every event (checked by a
// small test-only simulator of Flink's computeNextStates over both graphs).
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/nfa/printer.hpp"
#include "compiler/nfa/verifier.hpp"
#include "lang/check.hpp"
#include "lang/parse.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

using namespace cep;
using namespace cep::compiler;
using nfa::EdgeKind;
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
  REQUIRE(c->diags.errorCount() == 0);
  REQUIRE(c->program.has_value());
  return c;
}

const char *kE = "event E { name: string, price: float, ts: time }\n"
                 "event F { kind: string, ts: time }\n";

struct Lowered {
  std::unique_ptr<Compiled> c;
  nfa::Nfa nfa;

  const nfa::State &state(const std::string &name) const {
    nfa::StateId id = nfa.find(name);
    INFO("state " << name);
    REQUIRE(id >= 0);
    return nfa.states[static_cast<std::size_t>(id)];
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto &s : nfa.states) {
      out.push_back(s.name);
    }
    return out;
  }
  // "take -> b [E(name == \"a\")]" per edge of `name`, as the text dump prints them.
  std::vector<std::string> edges(const std::string &name) const {
    const nfa::State &s = state(name);
    std::vector<std::string> out;
    for (const auto &e : s.edges) {
      std::string line = std::string(nfa::edgeKindName(e.kind)) + " -> " +
                         nfa.states[static_cast<std::size_t>(e.target)].name;
      if (e.guard) {
        line += " [" + nfa::guardText(nfa, s, *e.guard) + "]";
      }
      if (e.counts) {
        line += " count+1";
      }
      out.push_back(line);
    }
    return out;
  }
  std::string text() const {
    std::ostringstream out;
    nfa::printText(out, nfa);
    return out.str();
  }
};

// `pattern` without its emit, or with it (then it contains "\nemit").
Lowered lower(const std::string &pattern) {
  Lowered l;
  bool has_emit = pattern.find("\nemit") != std::string::npos;
  l.c = compile(std::string(kE) + pattern + (has_emit ? "\n" : "\nemit Out { x: 1 }\n"));
  l.nfa = lowerPattern(*l.c->program, 0);
  return l;
}

using Lines = std::vector<std::string>;

} // namespace

TEST_CASE("card_testing: a loop first, then a relaxed step", "[nfa][lower]") {
  auto l =
      lower("pattern card_testing within 10m {\n"
            "  small: E(price < 1.00){3,} -> big: E(price > 500.0 and name != last(small).name)\n"
            "}");
  CHECK(l.names() == Lines{"small", "small:loop", "small:loop~", "big", "$final"});
  CHECK(l.nfa.states[static_cast<std::size_t>(l.nfa.start)].name == "small");
  CHECK(l.nfa.within_ms == 600000);
  // The first step is strict (Flink's begin()): its entry never IGNOREs.
  CHECK(l.edges("small") == Lines{"take -> small:loop [E(price < 1.0)] count+1"});
  CHECK(l.edges("small:loop") == Lines{"take -> small:loop [E(price < 1.0)] count+1",
                                       "ignore -> small:loop~ [not E(price < 1.0)]",
                                       "proceed -> big [count(small) >= 3]"});
  CHECK(l.edges("small:loop~") == Lines{"take -> small:loop [E(price < 1.0)] count+1",
                                        "ignore -> small:loop~ [not E(price < 1.0)]"});
  CHECK(l.edges("big") ==
        Lines{"take -> $final [E(price > 500.0 and name != last(small).name)]",
              "ignore -> big [not E(price > 500.0 and name != last(small).name)]"});
  CHECK(l.state("small:loop").loop);
  CHECK_FALSE(l.state("small").loop);
}

TEST_CASE("contiguity decides the IGNORE edge", "[nfa][lower]") {
  CHECK(lower("pattern p { a: E(name == \"a\") , b: E(name == \"b\") }").edges("b") ==
        Lines{"take -> $final [E(name == \"b\")]"});
  CHECK(lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\") }").edges("b") ==
        Lines{"take -> $final [E(name == \"b\")]", "ignore -> b [not E(name == \"b\")]"});
  CHECK(lower("pattern p { a: E(name == \"a\") ->> b: E(name == \"b\") }").edges("b") ==
        Lines{"take -> $final [E(name == \"b\")]", "ignore -> b"});
}

TEST_CASE("an optional step proceeds, and its ignore copy does not", "[nfa][lower]") {
  auto l =
      lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\")? -> c: E(name == \"c\") }");
  CHECK(l.names() == Lines{"a", "b", "b~", "c", "$final"});
  CHECK(l.edges("b") == Lines{"take -> c [E(name == \"b\")]", "ignore -> b~ [not E(name == \"b\")]",
                              "proceed -> c"});
  CHECK(l.edges("b~") ==
        Lines{"take -> c [E(name == \"b\")]", "ignore -> b~ [not E(name == \"b\")]"});
  // After `,` there is nothing to ignore: no copy.
  auto s = lower("pattern p { a: E(name == \"a\") , b: E(name == \"b\")? , c: E(name == \"c\") }");
  CHECK(s.names() == Lines{"a", "b", "c", "$final"});
}

TEST_CASE("bounded loops count, the m-th event leaves the loop", "[nfa][lower]") {
  auto l = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\"){2,4} -> c: E(name == "
                 "\"c\") }");
  CHECK(l.edges("b:loop") == Lines{"take -> b:loop [E(name == \"b\") and count(b) < 3] count+1",
                                   "take -> c [E(name == \"b\") and count(b) >= 3]",
                                   "ignore -> b:loop~ [not E(name == \"b\")]",
                                   "proceed -> c [count(b) >= 2]"});
  // {3}: no PROCEED at all (Flink times(3) has no optional states).
  auto e = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\"){3} -> c: E(name == "
                 "\"c\") }");
  for (const auto &edge : e.state("b:loop").edges) {
    CHECK(edge.kind != EdgeKind::Proceed);
  }
  // {2}: the second event always leaves.
  auto two = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\"){2} }");
  CHECK(two.edges("b:loop") ==
        Lines{"take -> $final [E(name == \"b\")]", "ignore -> b:loop~ [not E(name == \"b\")]"});
}

TEST_CASE("counter flags: counts into the loop, resets across steps", "[nfa][lower]") {
  auto l = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\"){2,3} -> c: E(name == "
                 "\"c\") }");
  for (const auto &s : l.nfa.states) {
    for (const auto &e : s.edges) {
      const auto &t = l.nfa.states[static_cast<std::size_t>(e.target)];
      CHECK(e.resets_counter == (s.step != t.step));
      CHECK(e.counts == (e.kind == EdgeKind::Take && t.loop && t.step == s.step));
    }
  }
}

TEST_CASE("consecutive and combinations set the loop's own IGNORE", "[nfa][lower]") {
  auto strict = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\")+ consecutive }");
  CHECK(strict.nfa.find("b:loop~") < 0);
  CHECK(strict.edges("b:loop") ==
        Lines{"take -> b:loop [E(name == \"b\")] count+1", "proceed -> $final"});
  auto any = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\")+ combinations }");
  CHECK(any.edges("b:loop~") ==
        Lines{"take -> b:loop [E(name == \"b\")] count+1", "ignore -> b:loop~"});
}

TEST_CASE("until extends TAKE and the loop's IGNORE, not the entry's", "[nfa][lower]") {
  auto l = lower("pattern p { c: E(name == \"c\") -> a: E(name == \"a\")+ until(price > 3.0) -> "
                 "d: E(name == \"d\") }");
  CHECK(l.edges("a") == Lines{"take -> a:loop [E(name == \"a\" and not (price > 3.0))] count+1",
                              "ignore -> a [not E(name == \"a\")]"});
  CHECK(l.edges("a:loop~") ==
        Lines{"take -> a:loop [E(name == \"a\" and not (price > 3.0))] count+1",
              "ignore -> a:loop~ [not E(price > 3.0) and not E(name == \"a\")]"});
}

TEST_CASE("greedy restricts every edge of the next state", "[nfa][lower]") {
  auto l = lower("pattern p { a: E(name == \"a\") -> b: E(price < 100.0)+ greedy -> c: E(price > "
                 "50.0) }");
  CHECK(l.edges("c") == Lines{"take -> $final [E(price > 50.0) and not E(price < 100.0)]",
                              "ignore -> c [not E(price > 50.0) and not E(price < 100.0)]"});
  auto u = lower("pattern p { c: E(name == \"c\") -> a: E(name == \"a\")* greedy until(price > "
                 "3.0) -> d: E(name == \"d\") }");
  CHECK(u.edges("a:loop") ==
        Lines{"take -> a:loop [E(name == \"a\" and not (price > 3.0))] count+1",
              "ignore -> a:loop~ [not E(price > 3.0) and not E(name == \"a\")]",
              "proceed -> d:nongreedy [E(price > 3.0)]", "proceed -> d [not E(price > 3.0)]"});
  CHECK(u.edges("d:nongreedy") ==
        Lines{"take -> $final [E(name == \"d\")]", "ignore -> d:nongreedy [not E(name == \"d\")]"});
  CHECK(u.edges("a") == Lines{"take -> a:loop [E(name == \"a\" and not (price > 3.0))] count+1",
                              "ignore -> a~ [not E(name == \"a\")]",
                              "proceed -> d:nongreedy [E(price > 3.0)]",
                              "proceed -> d [not E(price > 3.0)]"});
}

TEST_CASE("`, not` makes a NOT_NEXT state", "[nfa][lower]") {
  auto mid = lower("pattern p { a: E(name == \"a\") , not n: E(name == \"n\") -> b: E(name == "
                   "\"b\") }");
  CHECK(mid.edges("n") ==
        Lines{"proceed -> b [not E(name == \"n\")]", "proceed -> $stop:n [E(name == \"n\")]"});
  CHECK(mid.state("$stop:n").kind == StateKind::Stop);
  auto end = lower("pattern p { a: E(name == \"a\") , not n: E(name == \"n\") }");
  CHECK(end.edges("n") ==
        Lines{"ignore -> $final [not E(name == \"n\")]", "proceed -> $stop:n [E(name == \"n\")]"});
  CHECK(end.state("n").completes_at_end);
}

TEST_CASE("`-> not` puts stop edges on the states after it", "[nfa][lower]") {
  auto mid = lower("pattern p { a: E(name == \"a\") -> not n: F(kind == \"n\") -> b: E(name == "
                   "\"b\") }");
  CHECK(mid.names() == Lines{"a", "b", "$stop:n", "$final"});
  CHECK(mid.edges("b") == Lines{"take -> $final [E(name == \"b\")]",
                                "ignore -> b [not E(name == \"b\")]",
                                "proceed -> $stop:n [F(kind == \"n\")]"});
  // Right after a loop: on the loop states too (Flink addStopStateToLooping).
  auto loop = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\")+ -> not n: F(kind == "
                    "\"n\") -> d: E(name == \"d\") }");
  CHECK(loop.edges("b:loop~").back() == "proceed -> $stop:n [F(kind == \"n\")]");
  CHECK(loop.edges("b:loop").back() == "proceed -> $stop:n [F(kind == \"n\")]");
  CHECK(loop.edges("b").back() == "ignore -> b [not E(name == \"b\")]");
  // Through an optional step; its TAKE goes to a copy without the stop edge.
  auto opt = lower("pattern p { a: E(name == \"a\") -> not n: F(kind == \"n\") -> b: E(name == "
                   "\"b\")? -> c: E(name == \"c\") }");
  CHECK(opt.edges("b").front() == "take -> c' [E(name == \"b\")]");
  CHECK(opt.edges("c").back() == "proceed -> $stop:n [F(kind == \"n\")]");
  CHECK(opt.edges("c'") ==
        Lines{"take -> $final [E(name == \"c\")]", "ignore -> c' [not E(name == \"c\")]"});
}

TEST_CASE("absence at the end is a pending state", "[nfa][lower]") {
  auto l = lower("pattern unpaid within 15m { o: E(name == \"order\") -> not F(kind == \"pay\") }");
  CHECK(l.names() == Lines{"o", "$pending", "$stop:$not2", "$final"});
  CHECK(l.state("$pending").kind == StateKind::Pending);
  CHECK(l.edges("o") == Lines{"take -> $pending [E(name == \"order\")]"});
  CHECK(l.edges("$pending") == Lines{"ignore -> $pending [not F(kind == \"pay\")]",
                                     "proceed -> $stop:$not2 [F(kind == \"pay\")]"});
  auto s = lower("pattern p { o: E(name == \"order\") -> not F(kind == \"pay\") within 10s }");
  CHECK(s.state("$pending").within_ms == 10000);
}

TEST_CASE("per-step within sits on the states waiting for the step", "[nfa][lower]") {
  auto l = lower("pattern p { a: E(name == \"a\") -> b: E(name == \"b\")? within 5m -> c: "
                 "E(name == \"c\")+ within 1m -> d: E(name == \"d\") }");
  CHECK(l.state("b").within_ms == 300000);
  CHECK(l.state("b~").within_ms == 300000);
  CHECK(l.state("c").within_ms == 60000);
  CHECK_FALSE(l.state("c:loop").within_ms.has_value());
  CHECK_FALSE(l.state("d").within_ms.has_value());
}

TEST_CASE("the text dump", "[nfa][lower]") {
  auto l = lower("pattern p within 1m skip to first b { a: E(name == \"a\") -> b: F(kind == "
                 "\"b\") }\nemit Out { x: 1 }\non timeout emit Late { y: 2 }");
  CHECK(l.text() == "pattern p\n"
                    "  within 1m\n"
                    "  skip to first b\n"
                    "  on timeout emit\n"
                    "  start a\n"
                    "a\n"
                    "  take -> b [E(name == \"a\")]\n"
                    "b\n"
                    "  take -> $final [F(kind == \"b\")]\n"
                    "  ignore -> b [not F(kind == \"b\")]\n"
                    "$final (final)\n");
}

TEST_CASE("every lowering verifies", "[nfa][lower]") {
  const char *patterns[] = {
      "pattern p { a: E(name == \"a\") -> b: E(name == \"b\"){0,3} greedy -> c: E(name == "
      "\"c\") }",
      "pattern p { a: E(name == \"a\") ->> b: E(name == \"b\"){2,} optional -> c: E(name == "
      "\"c\") }",
      "pattern p { a: E(name == \"a\") -> not n: F(kind == \"n\") -> b: E(name == \"b\"){2,3} "
      "optional -> c: E(name == \"c\") }",
      "pattern p { a: E(name == \"a\") -> not n: F(kind == \"n\") -> b: E(name == \"b\")* greedy "
      "until(price > 1.0) -> c: E(name == \"c\") }",
      "pattern p within 1m { a: E(name == \"a\")+ -> not n: F(kind == \"n\") }",
      "pattern p within 1m { a: E(name == \"a\") -> not y: F(kind == \"y\") , not x: F(kind == "
      "\"x\") }",
      "pattern p { a: E(name == \"a\") , not x: F(kind == \"x\") , b: E(name == \"b\"){3} "
      "consecutive }",
  };
  for (const char *p : patterns) {
    INFO(p);
    auto l = lower(p);
    CHECK_FALSE(nfa::findViolation(l.nfa).has_value());
  }
}

// --- the counter model against Flink's unrolled `times` states --------------------------------

namespace {

// A test-only simulator of Flink's NFA.computeNextStates / doProcess over the IR (no time, no
// skip): events are E records with a name; conditions are `name == "..."` combinations.
struct Run {
  nfa::StateId state;
  std::uint32_t counter = 0;
  std::vector<int> events;
};

class Simulator {
public:
  explicit Simulator(const nfa::Nfa &nfa) : nfa_(nfa) {}

  // Feeds one event; returns the matches it completed (event lists).
  std::vector<std::vector<int>> feed(int index, const std::string &name) {
    std::vector<std::vector<int>> matches;
    std::vector<Run> next;
    std::vector<Run> all = runs_;
    all.push_back(Run{nfa_.start, 0, {}}); // the start state's run
    for (const Run &run : all) {
      bool fresh = run.events.empty();
      std::vector<Run> produced;
      bool killed = false;
      std::function<void(nfa::StateId, std::uint32_t)> visit = [&](nfa::StateId s,
                                                                   std::uint32_t counter) {
        for (const auto &e : at(s).edges) {
          if (!passes(e.guard.get(), name, counter)) {
            continue;
          }
          const nfa::State &target = at(e.target);
          std::uint32_t c = e.resets_counter ? 0 : counter;
          switch (e.kind) {
          case EdgeKind::Proceed:
            if (target.kind == StateKind::Stop) {
              killed = true;
            } else {
              visit(e.target, c);
            }
            break;
          case EdgeKind::Ignore:
            if (!fresh) {
              produced.push_back(Run{e.target, c, run.events});
            }
            break;
          case EdgeKind::Take: {
            Run r{e.target, e.counts ? counter + 1 : c, run.events};
            r.events.push_back(index);
            if (target.kind == StateKind::Final || finalAfterProceed(e.target, r.counter, name)) {
              matches.push_back(r.events);
            }
            if (target.kind != StateKind::Final) {
              produced.push_back(r);
            }
            break;
          }
          }
        }
      };
      visit(run.state, run.counter);
      if (!killed) {
        next.insert(next.end(), produced.begin(), produced.end());
      }
    }
    runs_ = next;
    std::sort(matches.begin(), matches.end());
    return matches;
  }

  // The partial matches, as sorted event lists (state names differ between the two graphs).
  std::vector<std::vector<int>> partials() const {
    std::vector<std::vector<int>> out;
    for (const auto &r : runs_) {
      out.push_back(r.events);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

private:
  const nfa::State &at(nfa::StateId s) const { return nfa_.states[static_cast<std::size_t>(s)]; }

  bool finalAfterProceed(nfa::StateId s, std::uint32_t counter, const std::string &name) const {
    for (const auto &e : at(s).edges) {
      if (e.kind != EdgeKind::Proceed || !passes(e.guard.get(), name, counter)) {
        continue;
      }
      if (at(e.target).kind == StateKind::Final ||
          finalAfterProceed(e.target, e.resets_counter ? 0 : counter, name)) {
        return true;
      }
    }
    return false;
  }

  static bool eval(const lang::typed::Expr &x, const std::string &name) {
    using lang::typed::Op;
    switch (x.op) {
    case Op::Eq:
      return x.args[1]->value.s == name;
    case Op::Ne:
      return x.args[1]->value.s != name;
    case Op::And:
      return eval(*x.args[0], name) && eval(*x.args[1], name);
    case Op::Or:
      return eval(*x.args[0], name) || eval(*x.args[1], name);
    case Op::Not:
      return !eval(*x.args[0], name);
    default:
      FAIL("unsupported condition");
      return false;
    }
  }

  static bool passes(const nfa::Guard *g, const std::string &name, std::uint32_t counter) {
    if (g == nullptr) {
      return true;
    }
    switch (g->kind) {
    case nfa::Guard::Kind::True:
      return true;
    case nfa::Guard::Kind::False:
      return false;
    case nfa::Guard::Kind::TypeIs:
      return g->event_type == 0;
    case nfa::Guard::Kind::Cond:
      return eval(*g->expr, name);
    case nfa::Guard::Kind::CountBelow:
      return counter < g->count;
    case nfa::Guard::Kind::CountAtLeast:
      return counter >= g->count;
    case nfa::Guard::Kind::Not:
      return !passes(g->args[0].get(), name, counter);
    case nfa::Guard::Kind::And:
      for (const auto &a : g->args) {
        if (!passes(a.get(), name, counter)) {
          return false;
        }
      }
      return true;
    case nfa::Guard::Kind::Or:
      for (const auto &a : g->args) {
        if (passes(a.get(), name, counter)) {
          return true;
        }
      }
      return false;
    }
    return false;
  }

  const nfa::Nfa &nfa_;
  std::vector<Run> runs_;
};

// Flink's graph for `a -> b{n,m} -> c` (or `{n,}`), unrolled exactly as NFACompiler's
// createTimesState / createLooping / createSingletonState build it, written out again here on
// purpose (plain states, no counters) to check the lowering's counter model against it.
// `negation`: 0 none, 1 `a -> not n -> b{..} -> c`, 2 `a -> b{..} -> not n -> c`.
nfa::Nfa flinkUnrolled(const nfa::Nfa &lowered, std::uint32_t n, std::uint32_t m, bool looping,
                       bool optional, int inner /* 0 strict, 1 relaxed, 2 any */,
                       int negation = 0) {
  const int sa = 0, sb = negation == 1 ? 2 : 1, sn = negation == 1 ? 1 : 2,
            sc = negation == 0 ? 2 : 3;
  const auto &steps = lowered.patternDecl().steps;
  nfa::Nfa out;
  out.pattern = lowered.pattern;
  out.pattern_index = lowered.pattern_index;
  out.program = lowered.program;
  auto add = [&](const std::string &name, StateKind kind, int step) {
    nfa::State s;
    s.name = name;
    s.kind = kind;
    s.step = step;
    out.states.push_back(std::move(s));
    return static_cast<nfa::StateId>(out.states.size() - 1);
  };
  auto sat = [&](int step) {
    auto g = nfa::Guard::make(nfa::Guard::Kind::And);
    g->args.push_back(nfa::Guard::typeIs(0));
    g->args.push_back(
        nfa::Guard::cond(steps[static_cast<std::size_t>(step)].condition.get(), step));
    return g;
  };
  auto edge = [&](nfa::StateId from, EdgeKind kind, nfa::StateId to, nfa::GuardPtr g) {
    nfa::Edge e;
    e.kind = kind;
    e.target = to;
    e.guard = std::move(g);
    out.states[static_cast<std::size_t>(from)].edges.push_back(std::move(e));
  };
  auto innerIgnore = [&]() -> std::optional<nfa::GuardPtr> {
    if (inner == 0) {
      return std::nullopt;
    }
    if (inner == 2) {
      return nfa::GuardPtr();
    }
    return nfa::Guard::negate(sat(sb));
  };
  auto clone = [](const std::optional<nfa::GuardPtr> &g) { return nfa::cloneGuard(*g); };

  nfa::StateId fin = add("$final", StateKind::Final, -1);
  nfa::StateId c = add("c", StateKind::Normal, sc);
  edge(c, EdgeKind::Take, fin, sat(sc));
  edge(c, EdgeKind::Ignore, c, nfa::Guard::negate(sat(sc)));
  nfa::StateId stop = -1;
  auto stopEdge = [&](nfa::StateId from) {
    if (stop < 0) {
      stop = add("$stop", StateKind::Stop, -1);
    }
    edge(from, EdgeKind::Proceed, stop, sat(sn));
  };
  if (negation == 2) {
    stopEdge(c); // getCurrentNotCondition of c
  }
  nfa::StateId last = c;
  int k = 0;
  auto inner_ignore = innerIgnore();
  if (looping) {
    nfa::StateId lp = add("L", StateKind::Normal, sb);
    edge(lp, EdgeKind::Proceed, c, nullptr);
    edge(lp, EdgeKind::Take, lp, sat(sb));
    if (inner_ignore) {
      nfa::StateId li = add("L~", StateKind::Normal, sb);
      edge(li, EdgeKind::Take, lp, sat(sb));
      edge(li, EdgeKind::Ignore, li, clone(inner_ignore));
      edge(lp, EdgeKind::Ignore, li, clone(inner_ignore));
      if (negation == 2) {
        stopEdge(li); // addStopStateToLooping(ignoreState)
      }
    }
    if (negation == 2) {
      stopEdge(lp);
    }
    last = lp;
  } else {
    for (std::uint32_t i = n; i < m; ++i) { // optional times states, built backwards
      nfa::StateId o = add("O" + std::to_string(k++), StateKind::Normal, sb);
      edge(o, EdgeKind::Take, last, sat(sb));
      edge(o, EdgeKind::Proceed, c, nullptr);
      if (inner_ignore) {
        nfa::StateId oi = add("O~" + std::to_string(k), StateKind::Normal, sb);
        edge(oi, EdgeKind::Take, last, sat(sb));
        edge(oi, EdgeKind::Ignore, oi, clone(inner_ignore));
        edge(o, EdgeKind::Ignore, oi, clone(inner_ignore));
        if (negation == 1) {
          stopEdge(oi); // addStopStates(ignoreState)
        }
      }
      if (negation == 2) {
        stopEdge(o); // addStopStateToLooping
      }
      last = o;
    }
  }
  for (std::uint32_t i = 0; i + 1 < n; ++i) { // mandatory times states
    nfa::StateId s = add("M" + std::to_string(k++), StateKind::Normal, sb);
    edge(s, EdgeKind::Take, last, sat(sb));
    if (inner_ignore) {
      edge(s, EdgeKind::Ignore, s, clone(inner_ignore));
    }
    if (negation == 2) {
      stopEdge(s); // addStopStateToLooping
    }
    last = s;
  }
  nfa::StateId first = add("E", StateKind::Normal, sb); // outer contiguity `->`
  edge(first, EdgeKind::Take, last, sat(sb));
  if (optional) {
    edge(first, EdgeKind::Proceed, c, nullptr);
    nfa::StateId fi = add("E~", StateKind::Normal, sb);
    edge(fi, EdgeKind::Take, last, sat(sb));
    edge(fi, EdgeKind::Ignore, fi, nfa::Guard::negate(sat(sb)));
    edge(first, EdgeKind::Ignore, fi, nfa::Guard::negate(sat(sb)));
    if (negation == 1) {
      stopEdge(fi); // addStopStates(ignoreState)
    }
  } else {
    edge(first, EdgeKind::Ignore, first, nfa::Guard::negate(sat(sb)));
  }
  if (negation == 1) {
    stopEdge(first); // convertPattern's addStopStates
  }
  nfa::StateId a = add("a", StateKind::Normal, sa);
  edge(a, EdgeKind::Take, first, sat(sa));
  out.start = a;
  return out;
}

} // namespace

TEST_CASE("loop counters leave exactly the runs of Flink's unrolled times states", "[nfa][lower]") {
  struct Case {
    const char *quantifier;
    std::uint32_t n, m;
    bool looping, optional;
    int inner;
  };
  const Case cases[] = {
      {"{2,4}", 2, 4, false, false, 1},
      {"{3}", 3, 3, false, false, 1},
      {"{1,3}", 1, 3, false, false, 1},
      {"{0,3}", 1, 3, false, true, 1},
      {"{2,3} consecutive", 2, 3, false, false, 0},
      {"{2,3} combinations", 2, 3, false, false, 2},
      {"{3,}", 3, 0, true, false, 1},
      {"+", 1, 0, true, false, 1},
      {"*", 1, 0, true, true, 1},
      {"{2,} consecutive", 2, 0, true, false, 0},
      {"{2,} combinations", 2, 0, true, false, 2},
  };
  const std::string alphabet[] = {"a", "b", "c", "n"};
  const char *before[] = {"", " -> not n: E(name == \"n\")", ""};
  const char *after[] = {"", "", " -> not n: E(name == \"n\")"};
  for (const Case &k : cases) {
    for (int negation = 0; negation < 3; ++negation) {
      if (negation != 0 && k.optional) {
        // before: copyWithoutTransitiveNots, not modelled by flinkUnrolled; after: rejected by
        // the checker (a negation right after an optional step, as in Flink)
        continue;
      }
      INFO(k.quantifier << ", negation " << negation);
      auto l = lower(std::string("pattern p { a: E(name == \"a\")") + before[negation] +
                     " -> b: E(name == \"b\")" + k.quantifier + after[negation] +
                     " -> c: E(name == \"c\") }");
      nfa::Nfa flink = flinkUnrolled(l.nfa, k.n, k.m, k.looping, k.optional, k.inner, negation);
      // Every sequence of 6 events over {a, b, c, n}.
      for (int code = 0; code < 4 * 4 * 4 * 4 * 4 * 4; ++code) {
        Simulator ours(l.nfa), theirs(flink);
        std::string seq;
        for (int i = 0, rest = code; i < 6; ++i, rest /= 4) {
          const std::string &name = alphabet[rest % 4];
          seq += name;
          INFO("events " << seq);
          REQUIRE(ours.feed(i, name) == theirs.feed(i, name));
          REQUIRE(ours.partials() == theirs.partials());
        }
      }
    }
  }
}
