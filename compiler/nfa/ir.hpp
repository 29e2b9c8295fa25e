// The NFA IR of one pattern: Flink CEP's automaton (NFACompiler, 1.17), with loop counters in place
// of Flink's unrolled `times` states so `{1000}` costs one state, not a thousand.
//
// A state belongs to a step and has TAKE / IGNORE / PROCEED edges (Flink's StateTransition):
//   TAKE     bind the current event to the SOURCE state's step and move to `target`
//   IGNORE   skip the current event, move to `target` (often the state itself)
//   PROCEED  epsilon: move to `target` without consuming, and look at the event from there
// Each edge has a guard, a boolean tree over the current event (its type, a step's condition or
// `until` on it) and over the run's loop counter. A null guard means "always".
//
// Executing it (Flink's NFA.computeNextStates / doProcess, docs/semantics.md §2-§4):
//   - On an event, a run in state S follows every edge of S whose guard holds, PROCEED edges
//     transitively (the target's edges are looked at with the same event); each TAKE / IGNORE
//     followed makes one new run. A run that follows nothing dies.
//   - A run that reaches a Stop state ($stop:n, a negated step matched) is discarded together with
//     every other run the same run produced on this event (Flink's shouldDiscardPath); complete
//     matches it produced on this event still count.
//   - After a TAKE, if the target can reach $final through PROCEED edges whose guards hold on the
//     same event, the run also completes there (Flink's findFinalStateAfterProceed).
//   - The start state is never left: a fresh run waits there at every event (Flink's start
//     computation state); IGNORE edges reached from that run create no run.
//
// Counter: a run has one counter, the number of events the step it is in has bound so far. Edges
// with `counts` (a loop's TAKE of its own event) increment it; edges into another step reset it to
// 0 (`resets_counter`, set exactly when the target's step differs from the source's). Only the
// edges of loop states (`loop`) test it (CountBelow / CountAtLeast). A step `{n,m}` is lowered to
// `<step>` (waits for the first event; counter 0) -> `<step>:loop` (counter 1..m-1) with
// `<step>:loop~` (its ignore copy); the m-th TAKE leaves the loop directly for the next step, and
// below n there is no PROCEED, exactly as Flink's unrolled states behave.
//
// Guards and types: a pattern's stream holds several event types (docs/semantics.md §1), so every
// TAKE guard starts with TypeIs(the step's event type), and a Cond leaf (which reads the
// candidate's fields as fields of its step's event type) is only ever evaluated after a TypeIs of
// that type in an enclosing And (the verifier checks both; the passes keep them).
//
// State names are stable: checkpoints and hot-swap refer to states by name, never by index.
//   <step>          waits for the step's first event (a singleton step's only state)
//   <step>~         the ignore copy of an optional step's state (same edges minus PROCEED)
//   <step>:loop     a looping step after its first event; <step>:loop~ its ignore copy
//   <step>          for a negated `, not` step: the NOT_NEXT state (PROCEED edges; at the end
//                   of the pattern an IGNORE to $final instead, and completes_at_end)
//   $final          a complete match
//   $pending        absence at the end (`-> not n` with a bound): IGNOREs other events, PROCEEDs
//                   to $stop:n on n, completes when the run's deadline passes
//   $stop:<step>    a negated step matched: the run is discarded
//   <state>'        a copy of <state> without the stop edges of `-> not` steps that an optional
//                   step's TAKE has discharged (Flink's copyWithoutTransitiveNots)
//   <state>:nongreedy  a copy of <state> taken before a greedy loop with `until` restricted it
//
// Changes to the lead's first version (all additive): Nfa::program, Nfa::clone, State::loop,
// State::completes_at_end, Guard::Kind::False (only ever inside a pass; never in a verified NFA),
// Guard/Edge factories, clone and equality helpers.
#pragma once

#include "lang/typed.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::compiler::nfa {

using StateId = std::int32_t;

enum class EdgeKind : std::uint8_t { Take, Ignore, Proceed };
const char *edgeKindName(EdgeKind k); // "take", "ignore", "proceed"

// Guards. Leaves test the current event (its type, a step's condition or `until` on it) or the
// run's loop counter; inner nodes combine them. A Cond leaf evaluates `expr` with the current
// event as the candidate and the run's bound events for step references (spec §3.3).
struct Guard;
using GuardPtr = std::unique_ptr<Guard>;

struct Guard {
  enum class Kind : std::uint8_t {
    True,
    TypeIs,       // the event's type is `event_type`
    Cond,         // `expr` (a step condition or until) is true (null counts as false)
    CountBelow,   // the run's loop counter < `count` (may take one more)
    CountAtLeast, // the run's loop counter >= `count`
    Not,
    And, // args, evaluated left to right (passes order cheap tests first)
    Or,
    False, // only while a pass simplifies; fold-constants removes edges guarded by it
  };
  Kind kind = Kind::True;
  std::int32_t event_type = -1;
  const lang::typed::Expr *expr = nullptr; // Cond: owned by the Program the NFA was built from
  std::int32_t step = -1;                  // Cond: the step whose context evaluates `expr`
  std::uint32_t count = 0;
  std::vector<GuardPtr> args;

  static GuardPtr make(Kind k);
  static GuardPtr typeIs(std::int32_t event_type);
  static GuardPtr cond(const lang::typed::Expr *expr, std::int32_t step);
  static GuardPtr countBelow(std::uint32_t n);
  static GuardPtr countAtLeast(std::uint32_t n);
  static GuardPtr negate(GuardPtr g);
  // And / Or of the non-null arguments; one argument is returned as is, none gives null.
  static GuardPtr all(std::vector<GuardPtr> args);
  static GuardPtr any(std::vector<GuardPtr> args);
  GuardPtr clone() const;
};

inline GuardPtr cloneGuard(const GuardPtr &g) {
  return g ? g->clone() : nullptr;
}
// Structural equality (null = always; the same Expr object for Cond).
bool sameGuard(const Guard *a, const Guard *b);

struct Edge {
  EdgeKind kind = EdgeKind::Take;
  StateId target = -1;
  GuardPtr guard;              // null: always
  bool counts = false;         // Take: increments the loop counter (a loop taking its own event)
  bool resets_counter = false; // the target is another step: its counter starts at 0

  Edge clone() const;
};

enum class StateKind : std::uint8_t {
  Normal,
  Final,   // a run that reaches it is a complete match
  Stop,    // a run that reaches it is discarded (negation matched)
  Pending, // absence at the end: complete when the deadline passes with no negated event
};
const char *stateKindName(StateKind k);

struct State {
  std::string name;
  StateKind kind = StateKind::Normal;
  std::int32_t step = -1; // the step TAKE edges bind to; -1 for $final/$pending/$stop states
  std::vector<Edge> edges;
  // A per-step bound applying while a run waits in this state: the run's deadline is the time
  // of its last bound event + within_ms (spec §3.2, Flink's PREVIOUS_AND_CURRENT).
  std::optional<std::int64_t> within_ms;
  // `<step>:loop` and `<step>:loop~` (and their copies): the run's counter is meaningful here and
  // only these states' edges test it.
  bool loop = false;
  // The NOT_NEXT state of a `, not n` at the end of the pattern: a run still waiting here at end
  // of input completes as a match (docs/semantics.md §4); on the next event it completes through
  // its IGNORE edge to $final or is discarded through $stop:n.
  bool completes_at_end = false;
};

struct Nfa {
  std::string pattern; // the pattern's name
  std::int32_t pattern_index = -1;
  // The Program the NFA was built from: owns the guards' expressions and must outlive the Nfa.
  const lang::typed::Program *program = nullptr;
  StateId start = 0;
  std::vector<State> states;
  std::optional<std::int64_t> within_ms; // whole-match bound
  lang::typed::SkipStrategy skip = lang::typed::SkipStrategy::PastLast;
  std::int32_t skip_step = -1;
  bool has_timeout_emit = false;

  StateId find(const std::string &name) const; // -1 when there is no such state
  const lang::typed::Pattern &patternDecl() const {
    return program->patterns.at(static_cast<std::size_t>(pattern_index));
  }
  Nfa clone() const;
};

} // namespace cep::compiler::nfa
