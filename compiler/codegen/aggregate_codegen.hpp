// The native functions of a program's aggregates (spec §8; runtime/native/aggregate_image.hpp):
// per aggregate plan (compiler/aggregate/plan.hpp) the step's condition, one function per
// computed row slot (an accumulator's argument such as `p.price * p.qty`), `having` and one
// function per emit field over the accumulator values, all lowered by expr_codegen with the
// interpreter's semantics, in the program's module beside the patterns' functions. Returns the
// images that name them (symbols "cep.a<index>.cond", ".row<i>", ".having", ".emit<i>").
//
//   std::vector<aggregate::AggregatePlan> plans = pipeline.aggregatePlans();
//   std::vector<runtime::native::AggregateImage> images =
//       emitAggregates(module, program, plans);    // parallel to plans
//
// Every expression of a checked aggregate lowers; one that does not is an InternalError.
// LLVM types are only forward-declared: LLVM-free header.
#pragma once

#include "compiler/aggregate/plan.hpp"
#include "lang/typed.hpp"
#include "runtime/native/aggregate_image.hpp"

#include <string>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace cep::compiler::codegen {

std::vector<runtime::native::AggregateImage>
emitAggregates(llvm::Module &module, const lang::typed::Program &program,
               const std::vector<aggregate::AggregatePlan> &plans);

// The image of `plan` alone (its symbols named, nothing emitted): what emitAggregates returns.
runtime::native::AggregateImage aggregateImage(const lang::typed::Program &program,
                                               const aggregate::AggregatePlan &plan);

} // namespace cep::compiler::codegen
