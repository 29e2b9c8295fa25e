// The native functions of a program's patterns (runtime/native/image.hpp): per pattern the step
// function (its NFA's decision graph, unrolled per state), the prefilter, the partition key's
// hash and equality, and the emit / timeout emit value functions, all in ONE module, with the
// symbol names of the pattern's PatternImage (compiler/native/image_builder.hpp).
//
// The step function reproduces the reference interpreter exactly (compiler/interp/nfa_matcher.cpp
// nextRuns / finalAfterProceed): a run in state S evaluates S's edge guards in edge order, writes
// its TAKE/IGNORE branches in edge order, then visits the targets of its passing PROCEED edges
// last edge first (the interpreter's LIFO stack), recursively. Guards' `Cond` leaves are the
// expression functions of expr_codegen (internal linkage, inlined by the optimiser).
//
// Every expression of a checked program lowers; one that does not is an InternalError (never a
// silent fallback to the interpreter). LLVM types are only forward-declared: LLVM-free header.
#pragma once

#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"
#include "runtime/native/image.hpp"

#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace cep::compiler::codegen {

// Emits the functions of every pattern of `nfas` (optimised NFAs of `program`'s patterns, any
// subset, each at most once) into `module`; returns their images, parallel to `nfas`.
std::vector<runtime::native::PatternImage> emitProgram(llvm::Module &module,
                                                       const lang::typed::Program &program,
                                                       const std::vector<nfa::Nfa> &nfas);
std::vector<runtime::native::PatternImage> emitProgram(llvm::Module &module,
                                                       const lang::typed::Program &program,
                                                       const std::vector<const nfa::Nfa *> &nfas);

} // namespace cep::compiler::codegen
