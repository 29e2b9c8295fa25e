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

// A module with the native functions of `nfas` (compiler/codegen/pattern_codegen.hpp) for
// `target`, optimised with the new pass manager at `opt_level`; `images` receives their images.
// Throws InternalError when an expression cannot be lowered (never happens for checked programs).
std::unique_ptr<llvm::Module>
buildProgramModule(llvm::LLVMContext &context, const lang::typed::Program &program,
                   const std::vector<const nfa::Nfa *> &nfas, llvm::TargetMachine &target,
                   int opt_level, std::vector<runtime::native::PatternImage> &images);

} // namespace cep::compiler::jit
