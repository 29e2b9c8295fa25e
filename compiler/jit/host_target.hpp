// The one place that says how cep builds machine code for this host, for the JIT and for code
// compiled ahead of time (.cepo objects): both must use these settings, or an object made by
// `cep compile` would not link into `cep run`'s JIT (LLVM 19 JITs default to the large code
// model on x86-64; we pin the small code model with PIC, which ORC's JITLink links anywhere).
//
//   auto builder = hostTargetMachineBuilder(2);        // llvm::Expected<...>
//   artifact::Target t = targetOf(*builder);           // "x86_64-pc-linux-gnu", CPU, features
//
// Part of the loader (cep_loader): the load host (load_host.hpp) uses it (`artifact::hostTarget`,
// compiler/artifact/load.hpp, is host_cpu.cpp: the same answer without ORC); so does the compiling
// side (jit.cpp, compiler/artifact/aot.cpp). Lang-free. Includes an LLVM header: only for TUs in
// compiler/codegen and compiler/jit (and AOT code).
#pragma once

#include "compiler/artifact/cepo.hpp"

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <string>

namespace cep::compiler::jit {

// Initialises the native target (once); false and `error` set when it is unavailable.
bool initialiseHostTarget(std::string &error);

// The host's JITTargetMachineBuilder at LLVM optimisation level 0-3: host CPU and features,
// small code model, PIC. Every cep LLJIT is built from it; AOT objects must be too.
llvm::Expected<llvm::orc::JITTargetMachineBuilder> hostTargetMachineBuilder(int opt_level);

// What `builder` targets as a .cepo header records it: triple, CPU, features sorted and unique.
artifact::Target targetOf(const llvm::orc::JITTargetMachineBuilder &builder);

} // namespace cep::compiler::jit
