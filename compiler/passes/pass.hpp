// NFA optimisation passes (compiler/passes/): each one rewrites an NFA in place without changing
// which runs exist after each event, which matches complete or time out, or when
// (docs/semantics.md). Construction (compiler/lower) stays apart from optimisation, as in CORE. A
// pass has a stable name (`cep explain --disable-pass NAME`) and a PassKind; the PassManager runs
// them in order and verifies the NFA after each one.
#pragma once

#include "compiler/nfa/ir.hpp"

#include <cstdint>
#include <memory>
#include <string_view>

namespace cep::compiler::passes {

enum class PassKind : std::uint8_t {
  FoldConstants,
  RemoveDeadStates,
  SplitGuards,
};

class Pass {
public:
  virtual ~Pass() = default;
  virtual PassKind kind() const = 0;
  virtual std::string_view name() const = 0;        // e.g. "remove-dead-states"
  virtual std::string_view description() const = 0; // one line, for --help style listings
  // Rewrites `nfa`; true when anything changed.
  virtual bool run(nfa::Nfa &nfa) = 0;
};

// fold-constants (fold_constants.cpp): True/False/And/Or/Not simplification, type tests decided
// by an earlier TypeIs of the same And, conditions whose value is a constant; edges whose guard
// is always false are removed, guards that are always true become "always".
std::unique_ptr<Pass> createFoldConstantsPass();
// remove-dead-states (remove_dead_states.cpp): states no run can reach, and (when no run there
// could be observed: `skip none`, no `on timeout emit`) states from which no match can complete.
std::unique_ptr<Pass> createRemoveDeadStatesPass();
// split-guards (split_guards.cpp): flattens conjunctions (a condition's own top-level `and`
// included) and orders conjuncts cheap first: TypeIs, counter tests, conditions on the candidate
// event only, conditions on bound events and aggregates.
std::unique_ptr<Pass> createSplitGuardsPass();

} // namespace cep::compiler::passes
