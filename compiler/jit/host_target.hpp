// The one place that says how cep builds machine code for this host, for the JIT and for code
// compiled ahead of time (.cepo objects): both must use these settings, or an object made by
// `cep compile` would not link into `cep run`'s JIT (LLVM 19 JITs default to the large code
// model on x86-64; we pin the small code model with PIC, which ORC's JITLink links anywhere).
//
// Includes an LLVM header: only for TUs in compiler/codegen and compiler/jit (and AOT code).
#pragma once

#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"
#include "runtime/native/image.hpp"

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
} // namespace llvm

namespace cep::compiler::jit {

// Initialises the native target (once); false and `error` set when it is unavailable.
bool initialiseHostTarget(std::string &error);

// The host's JITTargetMachineBuilder at LLVM optimisation level 0-3: host CPU and features,
// small code model, PIC. Every cep LLJIT is built from it; AOT objects must be too.
llvm::Expected<llvm::orc::JITTargetMachineBuilder> hostTargetMachineBuilder(int opt_level);

// The one way a program's module is made, for the JIT, `cep compile` and `--emit=llvm`: the
// native functions of `nfas` (compiler/codegen/pattern_codegen.hpp) in a module named
// "cep.program" (fixed: artifacts are reproducible) for `target`, checked by LLVM's verifier and
// optimised with the new pass manager at `opt_level`; `images` receives their images and
// `timings` (when given) the milliseconds of IR generation and of optimisation. Throws
// InternalError when an expression cannot be lowered or the module is invalid (never happens
// for checked programs).
struct ModuleTimings {
  double codegen_ms = 0;
  double optimize_ms = 0;
};
std::unique_ptr<llvm::Module> buildProgramModule(llvm::LLVMContext &context,
                                                 const lang::typed::Program &program,
                                                 const std::vector<const nfa::Nfa *> &nfas,
                                                 llvm::TargetMachine &target, int opt_level,
                                                 std::vector<runtime::native::PatternImage> &images,
                                                 ModuleTimings *timings = nullptr);

// `module` as a relocatable object file for `target` (its machine code: what a .cepo carries for
// loadObject); false and `error` set when the target cannot emit objects.
bool emitObjectFile(llvm::Module &module, llvm::TargetMachine &target, std::string &out,
                    std::string &error);
// `module` as LLVM bitcode (for loadBitcode).
std::string bitcodeOf(const llvm::Module &module);

} // namespace cep::compiler::jit
