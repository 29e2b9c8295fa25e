// remove-dead-states: drops states that cannot matter.
//   - Unreachable: no edge path from the start state (e.g. $final of an absence pattern, whose
//     matches complete in $pending; states cut off by fold-constants). Always safe.
//   - Dead ends: Normal states from which no Final or Pending state (or `, not` state completing at
//     end of input) can be reached. A run there never completes, but it is still a partial match:
//     it times out (`on timeout emit`), it holds back later matches of its key under every skip
//     strategy but `skip none` (docs/semantics.md §5), and a PROCEED path from it to a Stop state
//     discards its sibling runs. So dead ends are removed only with `skip none`, no
//     `on timeout emit`, and no PROCEED path to a Stop state; edges into them go with them.
// Stop states are never dead ends: they are where a negated step kills a run.
#include "compiler/passes/pass.hpp"

#include <functional>

namespace cep::compiler::passes {

namespace {

using nfa::EdgeKind;
using nfa::StateId;
using nfa::StateKind;

class RemoveDeadStates : public Pass {
public:
  PassKind kind() const override { return PassKind::RemoveDeadStates; }
  std::string_view name() const override { return "remove-dead-states"; }
  std::string_view description() const override {
    return "remove states no run can reach, and unobservable ones that cannot complete a match";
  }

  bool run(nfa::Nfa &nfa) override {
    const std::size_t n = nfa.states.size();
    auto at = [&](StateId s) -> nfa::State & { return nfa.states[static_cast<std::size_t>(s)]; };

    std::vector<bool> reachable(n, false);
    std::vector<StateId> work{nfa.start};
    reachable[static_cast<std::size_t>(nfa.start)] = true;
    while (!work.empty()) {
      StateId s = work.back();
      work.pop_back();
      for (const auto &e : at(s).edges) {
        if (!reachable[static_cast<std::size_t>(e.target)]) {
          reachable[static_cast<std::size_t>(e.target)] = true;
          work.push_back(e.target);
        }
      }
    }

    std::vector<bool> keep = reachable;
    const bool unobservable = nfa.skip == lang::typed::SkipStrategy::None && !nfa.has_timeout_emit;
    if (unobservable) {
      // Co-reachability of an accepting state, by fixpoint over the (small) graph.
      std::vector<bool> alive(n, false);
      for (std::size_t i = 0; i < n; ++i) {
        const auto &s = nfa.states[i];
        alive[i] = s.kind == StateKind::Final || s.kind == StateKind::Pending ||
                   s.kind == StateKind::Stop || s.completes_at_end;
      }
      for (bool grew = true; grew;) {
        grew = false;
        for (std::size_t i = 0; i < n; ++i) {
          if (alive[i]) {
            continue;
          }
          for (const auto &e : nfa.states[i].edges) {
            const auto &t = at(e.target);
            bool leads = t.kind != StateKind::Stop ? alive[static_cast<std::size_t>(e.target)]
                                                   : e.kind == EdgeKind::Proceed;
            if (leads) {
              alive[i] = true;
              grew = true;
              break;
            }
          }
        }
      }
      // A state whose PROCEED closure reaches a Stop state stays (it kills sibling runs).
      std::function<bool(StateId, std::vector<bool> &)> kills = [&](StateId s,
                                                                    std::vector<bool> &seen) {
        if (seen[static_cast<std::size_t>(s)]) {
          return false;
        }
        seen[static_cast<std::size_t>(s)] = true;
        for (const auto &e : at(s).edges) {
          if (e.kind != EdgeKind::Proceed) {
            continue;
          }
          if (at(e.target).kind == StateKind::Stop || kills(e.target, seen)) {
            return true;
          }
        }
        return false;
      };
      for (std::size_t i = 0; i < n; ++i) {
        if (keep[i] && !alive[i] && static_cast<StateId>(i) != nfa.start) {
          std::vector<bool> seen(n, false);
          keep[i] = kills(static_cast<StateId>(i), seen);
        }
      }
    }

    bool changed = false;
    std::vector<StateId> remap(n, -1);
    std::vector<nfa::State> states;
    for (std::size_t i = 0; i < n; ++i) {
      if (keep[i]) {
        remap[i] = static_cast<StateId>(states.size());
        states.push_back(std::move(nfa.states[i]));
      } else {
        changed = true;
      }
    }
    for (auto &s : states) {
      std::vector<nfa::Edge> edges;
      for (auto &e : s.edges) {
        StateId t = remap[static_cast<std::size_t>(e.target)];
        if (t < 0) {
          changed = true;
          continue;
        }
        e.target = t;
        edges.push_back(std::move(e));
      }
      s.edges = std::move(edges);
    }
    nfa.start = remap[static_cast<std::size_t>(nfa.start)];
    nfa.states = std::move(states);
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createRemoveDeadStatesPass() {
  return std::make_unique<RemoveDeadStates>();
}

} // namespace cep::compiler::passes
