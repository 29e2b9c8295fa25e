// The one way a program's module is made, for the JIT (compiler/jit/jit.hpp compileProgram),
// `cep compile` (compiler/artifact/aot.hpp) and `--emit=llvm` (jit.hpp programIr), and the two
// ways it is written out for a .cepo: machine code and bitcode.
//
//   llvm::LLVMContext context;
//   std::vector<runtime::native::PatternImage> images;
//   auto module = buildProgramModule(context, program, nfas, *target_machine, 2, images);
//   std::string object;
//   emitObjectFile(*module, *target_machine, object, error); // what loadObject loads
//   std::string bitcode = bitcodeOf(*module);                // what loadBitcode loads
//
// `target_machine` comes from compiler/jit/host_target.hpp's hostTargetMachineBuilder, the
// settings the loading LLJIT uses. The compiling side (cep_codegen): needs the checked program.
// LLVM types are only forward-declared here.
#pragma once

#include "compiler/aggregate/plan.hpp"
#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"
#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image.hpp"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
} // namespace llvm

namespace cep::compiler::codegen {

// The native functions of `nfas` (compiler/codegen/pattern_codegen.hpp) in a module named
// "cep.program" (fixed: artifacts are reproducible) for `target`, checked by LLVM's verifier and
// optimised with the new pass manager at `opt_level`; `images` receives their images and
// `timings` (when given) the milliseconds of IR generation and of optimisation. Throws
// InternalError when an expression cannot be lowered or the module is invalid (never happens
// for checked programs).
struct ModuleTimings {
  double codegen_ms = 0;
  double optimize_ms = 0;
};
// With `aggregates` (the plans of compiler/aggregate/plan.hpp, operator_index set), their
// functions (aggregate_codegen.hpp) and fingerprints go into the same module and
// `aggregate_images` (required then) receives their images.
std::unique_ptr<llvm::Module>
buildProgramModule(llvm::LLVMContext &context, const lang::typed::Program &program,
                   const std::vector<const nfa::Nfa *> &nfas, llvm::TargetMachine &target,
                   int opt_level, std::vector<runtime::native::PatternImage> &images,
                   ModuleTimings *timings = nullptr,
                   const std::vector<aggregate::AggregatePlan> &aggregates = {},
                   std::vector<runtime::native::AggregateImage> *aggregate_images = nullptr);

// `module` as a relocatable object file for `target` (its machine code: what a .cepo carries for
// loadObject); false and `error` set when the target cannot emit objects.
bool emitObjectFile(llvm::Module &module, llvm::TargetMachine &target, std::string &out,
                    std::string &error);
// `module` as LLVM bitcode (for loadBitcode).
std::string bitcodeOf(const llvm::Module &module);

} // namespace cep::compiler::codegen
