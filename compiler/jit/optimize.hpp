// The new pass manager's default pipelines (O0-O3) over a module. The only TU that includes
// PassBuilder.h is optimize.cpp.
#pragma once

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace cep::compiler::jit {

void optimizeModule(llvm::Module &module, llvm::TargetMachine *target, int opt_level);

} // namespace cep::compiler::jit
