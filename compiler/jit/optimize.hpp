// The optimisation pipeline of generated modules, by level: 0 the new pass manager's O0 pipeline,
// 1 its O1, 2 (the default of cep run, compile and serve) a pipeline of its own for pattern code
// (defaultPipeline(): the O2 passes that change generated code, 36-52% less time than the O2
// pipeline for the same step functions: bench/RESULTS.md "Compile time and start-up"), 3 the
// O3 pipeline. The only TU that includes PassBuilder.h is optimize.cpp. (At level 2,
// codegen/module_builder.cpp then marks a pattern's emit values optnone.)
#pragma once

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace cep::compiler::jit {

void optimizeModule(llvm::Module &module, llvm::TargetMachine *target, int opt_level);

// Level 2's pipeline in the new pass manager's text form (`opt -passes=...` reproduces it).
const char *defaultPipeline();

} // namespace cep::compiler::jit
