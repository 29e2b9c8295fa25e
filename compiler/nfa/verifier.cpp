#include "compiler/nfa/verifier.hpp"

#include "support/internal_error.hpp"

#include <functional>
#include <set>
#include <vector>

namespace cep::compiler::nfa {

namespace {

namespace typed = lang::typed;

struct Violation {
  std::string message;
};

class Verifier {
public:
  Verifier(const Nfa &nfa, bool require_accepting)
      : nfa_(nfa), require_accepting_(require_accepting) {}

  std::optional<std::string> run() {
    try {
      checkProgram();
      checkStates();
      for (std::size_t i = 0; i < nfa_.states.size(); ++i) {
        checkEdges(static_cast<StateId>(i));
      }
      checkProceedCycles();
      if (require_accepting_ && !acceptingReachable(nfa_)) {
        fail(nfa_.start, "accepting",
             "no Final or Pending state is reachable from the start state");
      }
    } catch (const Violation &v) {
      return v.message;
    }
    return std::nullopt;
  }

private:
  [[noreturn]] void fail(const std::string &rule, const std::string &what) const {
    throw Violation{rule + ": " + what};
  }
  [[noreturn]] void fail(StateId s, const std::string &rule, const std::string &what) const {
    throw Violation{"state `" + name(s) + "`: " + rule + ": " + what};
  }

  std::string name(StateId s) const {
    if (s < 0 || static_cast<std::size_t>(s) >= nfa_.states.size()) {
      return "#" + std::to_string(s);
    }
    return nfa_.states[static_cast<std::size_t>(s)].name;
  }
  const State &state(StateId s) const { return nfa_.states[static_cast<std::size_t>(s)]; }
  const typed::Step &step(std::int32_t i) const {
    return pattern_->steps[static_cast<std::size_t>(i)];
  }
  bool validStep(std::int32_t i) const {
    return i >= 0 && static_cast<std::size_t>(i) < pattern_->steps.size();
  }

  void checkProgram() {
    if (nfa_.program == nullptr) {
      fail("program", "the NFA has no Program");
    }
    if (nfa_.pattern_index < 0 ||
        static_cast<std::size_t>(nfa_.pattern_index) >= nfa_.program->patterns.size()) {
      fail("program", "pattern index " + std::to_string(nfa_.pattern_index) + " out of range");
    }
    pattern_ = &nfa_.patternDecl();
    if (nfa_.within_ms && *nfa_.within_ms <= 0) {
      fail("within", "the pattern's bound is not positive");
    }
    if (nfa_.skip == typed::SkipStrategy::ToFirst || nfa_.skip == typed::SkipStrategy::ToLast) {
      if (!validStep(nfa_.skip_step) || step(nfa_.skip_step).negated) {
        fail("within", "skip to first/last names no positive step");
      }
    }
  }

  void checkStates() {
    if (nfa_.states.empty()) {
      fail("start", "the NFA has no states");
    }
    if (nfa_.start < 0 || static_cast<std::size_t>(nfa_.start) >= nfa_.states.size()) {
      fail("start", "start state #" + std::to_string(nfa_.start) + " does not exist");
    }
    if (state(nfa_.start).kind != StateKind::Normal) {
      fail(nfa_.start, "start", "the start state is not a Normal state");
    }
    std::set<std::string> names;
    int finals = 0;
    for (std::size_t i = 0; i < nfa_.states.size(); ++i) {
      auto id = static_cast<StateId>(i);
      const State &s = nfa_.states[i];
      if (s.name.empty()) {
        fail(id, "names", "empty state name");
      }
      if (!names.insert(s.name).second) {
        fail(id, "names", "duplicate state name");
      }
      if (s.kind == StateKind::Final && ++finals > 1) {
        fail(id, "final", "a second Final state");
      }
      if ((s.kind == StateKind::Final || s.kind == StateKind::Stop) && !s.edges.empty()) {
        fail(id, "final", std::string("a ") + stateKindName(s.kind) + " state has edges");
      }
      if (s.step != -1 && !validStep(s.step)) {
        fail(id, "step", "step " + std::to_string(s.step) + " is not a step of the pattern");
      }
      if (s.kind == StateKind::Normal && s.step < 0) {
        fail(id, "step", "a Normal state belongs to no step");
      }
      if (s.loop && (s.step < 0 || !step(s.step).looping() || step(s.step).negated)) {
        fail(id, "counter", "a loop state of a step that does not loop");
      }
      if (s.completes_at_end && (s.kind != StateKind::Normal || !step(s.step).negated)) {
        fail(id, "final", "completes_at_end on a state that is not a `, not` state");
      }
      if (s.within_ms && *s.within_ms <= 0) {
        fail(id, "within", "the step's bound is not positive");
      }
    }
  }

  void checkEdges(StateId id) {
    const State &s = state(id);
    for (const Edge &e : s.edges) {
      std::string edge = std::string(edgeKindName(e.kind)) + " -> " + name(e.target);
      if (e.target < 0 || static_cast<std::size_t>(e.target) >= nfa_.states.size()) {
        fail(id, "target", edge + ": no such state");
      }
      const State &t = state(e.target);
      if (e.resets_counter != (s.step != t.step)) {
        fail(id, "reset", edge + ": resets_counter must be set exactly when the step changes");
      }
      if (e.counts && (e.kind != EdgeKind::Take || !t.loop || t.step != s.step)) {
        fail(id, "counter", edge + ": `counts` on an edge that is not a TAKE into the step's loop");
      }
      switch (e.kind) {
      case EdgeKind::Take:
        if (s.step < 0 || step(s.step).negated) {
          fail(id, "take", edge + ": TAKE from a state without a positive step");
        }
        if (t.kind == StateKind::Stop) {
          fail(id, "take", edge + ": TAKE into a Stop state");
        }
        if (!startsWithType(e.guard.get(), step(s.step).event_type)) {
          fail(id, "take",
               edge + ": the guard does not start with TypeIs(" +
                   eventName(step(s.step).event_type) + ")");
        }
        break;
      case EdgeKind::Ignore:
        if (t.step != s.step && !(t.kind == StateKind::Final && s.completes_at_end)) {
          fail(id, "ignore", edge + ": IGNORE leaves the step");
        }
        break;
      case EdgeKind::Proceed:
        break;
      }
      if (e.guard) {
        checkGuard(id, edge, *e.guard, s.loop, {});
      }
    }
  }

  std::string eventName(std::int32_t t) const {
    if (t >= 0 && static_cast<std::size_t>(t) < nfa_.program->event_types.size()) {
      return nfa_.program->event_types[static_cast<std::size_t>(t)].name;
    }
    return "#" + std::to_string(t);
  }

  static bool startsWithType(const Guard *g, std::int32_t type) {
    if (g == nullptr) {
      return false;
    }
    if (g->kind == Guard::Kind::TypeIs) {
      return g->event_type == type;
    }
    return g->kind == Guard::Kind::And && !g->args.empty() && g->args[0] &&
           g->args[0]->kind == Guard::Kind::TypeIs && g->args[0]->event_type == type;
  }

  // `known`: event types established by earlier conjuncts of enclosing Ands.
  void checkGuard(StateId id, const std::string &edge, const Guard &g, bool loop_state,
                  std::vector<std::int32_t> known) {
    auto arity = [&](std::size_t lo, std::size_t hi) {
      if (g.args.size() < lo || g.args.size() > hi) {
        fail(id, "guard", edge + ": wrong number of operands");
      }
      for (const auto &a : g.args) {
        if (!a) {
          fail(id, "guard", edge + ": null operand");
        }
      }
    };
    switch (g.kind) {
    case Guard::Kind::True:
      arity(0, 0);
      return;
    case Guard::Kind::False:
      fail(id, "guard", edge + ": a False guard is left (fold-constants removes such edges)");
    case Guard::Kind::TypeIs:
      arity(0, 0);
      if (g.event_type < 0 ||
          static_cast<std::size_t>(g.event_type) >= nfa_.program->event_types.size()) {
        fail(id, "guard", edge + ": TypeIs of an unknown event type");
      }
      return;
    case Guard::Kind::Cond:
      arity(0, 0);
      if (g.expr == nullptr || !validStep(g.step)) {
        fail(id, "guard", edge + ": Cond without an expression or a step of the pattern");
      }
      if (g.expr->type.kind != lang::TypeKind::Bool) {
        fail(id, "guard", edge + ": Cond on an expression that is not bool");
      }
      for (std::int32_t t : known) {
        if (t == step(g.step).event_type) {
          return;
        }
      }
      fail(id, "cond-type",
           edge + ": a condition of step `" + step(g.step).name + "` is not preceded by TypeIs(" +
               eventName(step(g.step).event_type) + ")");
    case Guard::Kind::CountBelow:
    case Guard::Kind::CountAtLeast:
      arity(0, 0);
      if (!loop_state) {
        fail(id, "counter", edge + ": a counter test outside a loop state");
      }
      if (g.count < 1) {
        fail(id, "counter", edge + ": a counter test against 0");
      }
      return;
    case Guard::Kind::Not:
      arity(1, 1);
      checkGuard(id, edge, *g.args[0], loop_state, known);
      return;
    case Guard::Kind::Or:
      arity(2, SIZE_MAX);
      for (const auto &a : g.args) {
        checkGuard(id, edge, *a, loop_state, known);
      }
      return;
    case Guard::Kind::And:
      arity(2, SIZE_MAX);
      for (const auto &a : g.args) {
        checkGuard(id, edge, *a, loop_state, known);
        if (a->kind == Guard::Kind::TypeIs) {
          known.push_back(a->event_type);
        }
      }
      return;
    }
    fail(id, "guard", edge + ": unknown guard kind");
  }

  void checkProceedCycles() {
    // 0 unvisited, 1 on the DFS stack, 2 done
    std::vector<int> mark(nfa_.states.size(), 0);
    std::function<void(StateId)> visit = [&](StateId s) {
      mark[static_cast<std::size_t>(s)] = 1;
      for (const Edge &e : state(s).edges) {
        if (e.kind != EdgeKind::Proceed) {
          continue;
        }
        int m = mark[static_cast<std::size_t>(e.target)];
        if (m == 1) {
          fail(s, "proceed-cycle", "proceed -> " + name(e.target) + " closes a PROCEED cycle");
        }
        if (m == 0) {
          visit(e.target);
        }
      }
      mark[static_cast<std::size_t>(s)] = 2;
    };
    for (std::size_t i = 0; i < nfa_.states.size(); ++i) {
      if (mark[i] == 0) {
        visit(static_cast<StateId>(i));
      }
    }
  }

  const Nfa &nfa_;
  bool require_accepting_;
  const typed::Pattern *pattern_ = nullptr;
};

} // namespace

bool acceptingReachable(const Nfa &nfa) {
  if (nfa.start < 0 || static_cast<std::size_t>(nfa.start) >= nfa.states.size()) {
    return false;
  }
  std::vector<bool> seen(nfa.states.size(), false);
  std::vector<StateId> work{nfa.start};
  seen[static_cast<std::size_t>(nfa.start)] = true;
  while (!work.empty()) {
    const State &st = nfa.states[static_cast<std::size_t>(work.back())];
    work.pop_back();
    if (st.kind == StateKind::Final || st.kind == StateKind::Pending || st.completes_at_end) {
      return true;
    }
    for (const Edge &e : st.edges) {
      if (e.target >= 0 && static_cast<std::size_t>(e.target) < nfa.states.size() &&
          !seen[static_cast<std::size_t>(e.target)]) {
        seen[static_cast<std::size_t>(e.target)] = true;
        work.push_back(e.target);
      }
    }
  }
  return false;
}

std::optional<std::string> findViolation(const Nfa &nfa, bool require_accepting) {
  return Verifier(nfa, require_accepting).run();
}

void verify(const Nfa &nfa, const std::string &when, bool require_accepting) {
  if (auto v = findViolation(nfa, require_accepting)) {
    throw InternalError("NFA verifier: pattern `" + nfa.pattern + "` (" + when + "): " + *v);
  }
}

} // namespace cep::compiler::nfa
