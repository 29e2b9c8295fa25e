// The NFA verifier: structural invariants every NFA must keep, checked after lowering and after
// every pass. A violation is a compiler bug, reported as InternalError naming the pattern, the
// state and the rule:
//   program         the NFA points at its Program and a pattern of it
//   start           the start state exists and is a Normal state
//   names           state names are non-empty and unique
//   final           at most one Final state; Final and Stop states have no edges
//   step            Normal states belong to a step; `step` is -1 or a step of the pattern
//   target          every edge targets an existing state
//   take            TAKE edges leave only states of a positive (non-negated) step, never enter a
//                   Stop state, and their guard starts with TypeIs(the step's event type)
//   ignore          IGNORE edges stay within the step (or go to $final from a `, not` at the end)
//   guard           guards are well-formed: arity, known event types, Cond on a step of the
//                   pattern with a bool expression, no False leaf
//   cond-type       every Cond leaf is preceded by TypeIs(its step's event type) in an enclosing
//                   And, so its fields are read from an event of the right type
//   counter         counter tests only on loop states (counts >= 1); `counts` only on TAKE edges
//                   into a loop state of the same step; loop states belong to a looping step
//   reset           resets_counter is set exactly on edges between different steps
//   proceed-cycle   PROCEED edges form no cycle
//   accepting       a Final or Pending state (or a `, not` state completing at end of input) is
//                   reachable from the start state (not required after fold-constants, which
//                   rightly disconnects a pattern that can never match, e.g. `E(false)`)
//   within          bounds are positive; skip to first/last names a positive step
#pragma once

#include "compiler/nfa/ir.hpp"

#include <optional>
#include <string>

namespace cep::compiler::nfa {

// The first violated invariant, as "state `s`: rule: what is wrong", or nullopt.
std::optional<std::string> findViolation(const Nfa &nfa, bool require_accepting = true);

// Throws InternalError("NFA verifier: pattern `p` (<when>): state `s`: rule: ...").
void verify(const Nfa &nfa, const std::string &when = "after lowering",
            bool require_accepting = true);

// Whether a Final or Pending state (or a completes_at_end state) is reachable from the start
// state through edges (guards not evaluated). Assumes valid state ids.
bool acceptingReachable(const Nfa &nfa);

} // namespace cep::compiler::nfa
