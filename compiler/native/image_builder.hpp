// The PatternImage (runtime/native/image.hpp) of a pattern: everything a native matcher needs to
// know about it besides its compiled functions, taken from the checked program and the pattern's
// optimised NFA. LLVM-free.
//
// Symbol names of the generated functions follow one fixed convention (imageSymbol below), so
// the code generator, the JIT and .cepo artifacts agree without passing names around:
//   cep.p<index>.step  .prefilter  .key_hash  .key_eq  .emit.<k>  .timeout.<k>
// where <index> is the pattern's declaration index and <k> the field's position.
#pragma once

#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"
#include "runtime/native/image.hpp"

#include <cstdint>
#include <string>

namespace cep::compiler::native {

// "cep.p<pattern_index>.<what>".
std::string imageSymbol(std::int32_t pattern_index, const std::string &what);

// The image of pattern `nfa.pattern_index` of `program` (nfa: its optimised NFA).
runtime::native::PatternImage buildImage(const lang::typed::Program &program, const nfa::Nfa &nfa);

// A static upper bound of how many branches the step function writes for a run in `state`
// (its TAKE/IGNORE edges plus those of every state reachable through PROCEED edges, counted
// per path). InternalError on a PROCEED cycle.
std::uint32_t maxBranchesFrom(const nfa::Nfa &nfa, nfa::StateId state);

// The value kind of an expression of type kind `kind`.
runtime::native::ValueKind valueKindOf(lang::TypeKind kind);

} // namespace cep::compiler::native
