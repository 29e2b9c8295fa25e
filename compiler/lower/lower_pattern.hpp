// Lowering: one checked pattern (lang/typed.hpp) -> its NFA (compiler/nfa/ir.hpp), with the graph
// shape of Flink CEP 1.17's NFACompiler (states built from the last step backwards) and loop
// counters in place of Flink's unrolled `times` states. compiler/README.md lists the rules and
// every place the graph deliberately differs from Flink's.
#pragma once

#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"

namespace cep::compiler {

// The NFA of `program.patterns[pattern_index]`, verified (compiler/nfa/verifier.hpp). `program`
// must outlive the result: guards point into it. A bug (a pattern the checker should have
// rejected, a verifier failure) throws InternalError.
nfa::Nfa lowerPattern(const lang::typed::Program &program, int pattern_index);

} // namespace cep::compiler
