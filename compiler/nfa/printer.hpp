// Dumps of the NFA IR (`cep explain --emit=nfa|nfa-opt`).
//
// Text: a header (pattern, within, skip, start), then one state per line with its attributes and
// its edges indented below it:
//   small:loop (loop)
//     take -> small:loop [Payment(amount < 1.0)] count+1
//     proceed -> big [count(small) >= 3]
// Guards read like source: TypeIs(T) with the conditions that follow it prints as
// `T(condition and ...)`, bare field names are the candidate event's, `count(s)` in a counter test
// is the run's loop counter, an edge without a guard is always followed, `count+1` marks an edge
// that increments the counter. Int-to-float widening is not shown.
//
// DOT: one digraph (a cluster per pattern when there are several) that `dot -Tpng` lays out left
// to right: $final a double circle, stop states red octagons, $pending a dashed double circle,
// TAKE edges solid, IGNORE dashed grey, PROCEED dotted blue, labelled with the guard.
#pragma once

#include "compiler/nfa/ir.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace cep::compiler::nfa {

void printText(std::ostream &out, const Nfa &nfa);
void printDot(std::ostream &out, const std::vector<const Nfa *> &nfas);

// A guard as printed in the dumps; `state` is the edge's source (for `count(step)`).
std::string guardText(const Nfa &nfa, const State &state, const Guard &guard);

} // namespace cep::compiler::nfa
