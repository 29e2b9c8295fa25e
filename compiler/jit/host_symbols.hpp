// The host functions generated code may call, by name and address: what the load host defines
// in its `cep.host` JITDylib (load_host.hpp) and what verify_code.hpp accepts as an undefined
// symbol of an artifact's code. The cep_rt_* helpers are the native matcher's
// (runtime/native/image.hpp, runtime/native/bound_view.cpp: ctx is its BoundView); the
// cep_stdlib_* functions are stdlib/native.hpp's; memcpy, memmove, memset and round are what
// LLVM may lower intrinsics to.
//
//   for (const HostSymbol &s : hostSymbols()) {
//     define(s.name, s.address); // "cep_rt_bound_count" -> &cep_rt_bound_count, ...
//   }
//
// LLVM-free and lang-free: part of the loader (cep_loader). The code generator
// (compiler/codegen/expr_codegen) declares the same names in the modules it emits.
#pragma once

#include <vector>

namespace cep::compiler::jit {

struct HostSymbol {
  const char *name;
  void *address;
};
std::vector<HostSymbol> hostSymbols();

} // namespace cep::compiler::jit
