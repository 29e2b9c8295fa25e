// Test helper: guards and counters of the NFA IR (compiler/nfa/ir.hpp) evaluated the way the
// reference interpreter does (compiler/interp/nfa_matcher.cpp), written again here so tests of
// the generated code and of the native matcher do not depend on the interpreter's private code.
#pragma once

#include "compiler/interp/bindings.hpp"
#include "compiler/interp/eval.hpp"
#include "compiler/nfa/ir.hpp"
#include "runtime/event.hpp"

#include <cstdint>

namespace reference_test {

// The loop counter after following `edge` from a run whose counter was `counter`.
inline std::uint32_t counterAfter(const cep::compiler::nfa::Edge &edge, std::uint32_t counter) {
  if (edge.counts) {
    ++counter;
  }
  if (edge.resets_counter) {
    counter = 0;
  }
  return counter;
}

// Whether guard `g` (null: always) holds for event `e`, loop counter `counter` and the run's
// bound events; `Cond` leaves through the interpreter's Evaluator.
inline bool passes(const cep::compiler::nfa::Guard *g, const cep::runtime::Event &e,
                   std::uint32_t counter, const cep::compiler::interp::BoundEvents &bound,
                   cep::compiler::interp::Evaluator &evaluator) {
  using K = cep::compiler::nfa::Guard::Kind;
  if (g == nullptr) {
    return true;
  }
  switch (g->kind) {
  case K::True:
    return true;
  case K::False:
    return false;
  case K::TypeIs:
    return e.type == static_cast<std::uint32_t>(g->event_type);
  case K::Cond:
    return evaluator.test(*g->expr, &e, &bound);
  case K::CountBelow:
    return counter < g->count;
  case K::CountAtLeast:
    return counter >= g->count;
  case K::Not:
    return !passes(g->args[0].get(), e, counter, bound, evaluator);
  case K::And:
    for (const auto &a : g->args) {
      if (!passes(a.get(), e, counter, bound, evaluator)) {
        return false;
      }
    }
    return true;
  case K::Or:
    for (const auto &a : g->args) {
      if (passes(a.get(), e, counter, bound, evaluator)) {
        return true;
      }
    }
    return false;
  }
  return false;
}

} // namespace reference_test
