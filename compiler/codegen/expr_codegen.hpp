// Lowering of checked expressions (lang/typed.hpp) to LLVM IR functions with a C ABI, with the
// exact semantics of the interpreter's Evaluator (compiler/interp/eval.cpp). The ABI (function
// signatures, the context, the runtime helpers) is in compiler/interp/compiled.hpp.
//
// No boxing: a value is an LLVM i1/i64/double or a (ptr, i64) string plus an i1 "is null" flag;
// field loads read the event block directly (slots after the header, the `nulls` bitmask);
// strings, stdlib calls and allocation go through the native C functions of stdlib/native.hpp
// and the `cep_rt_*` helpers, declared in the module and resolved by the JIT to absolute
// addresses (hostSymbols()). Aggregates are loops emitted in IR over the step's bound events
// (cep_rt_bound_count / cep_rt_bound_at).
//
// An expression the generator cannot lower yields no function (the caller falls back to the
// interpreter for it); a function that fails LLVM's verifier is an InternalError.
//
// LLVM types are only forward-declared here: this header is LLVM-free.
#pragma once

#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace cep::compiler::codegen {

enum class FunctionKind : std::uint8_t {
  Guard, // i8 (ptr candidate, ptr ctx)
  Value, // void (ptr candidate, ptr ctx, ptr CepJitValue out)
};

struct ExprFunction {
  const lang::typed::Expr *expr = nullptr;
  FunctionKind kind = FunctionKind::Guard;
  std::string name; // the function's symbol in the module
};

struct PatternFunctions {
  std::vector<ExprFunction> compiled;
  std::vector<const lang::typed::Expr *> interpreted_guards; // fall back to the interpreter
  std::vector<const lang::typed::Expr *> interpreted_values;
};

// Emits one guard function per distinct `Cond` expression of `nfa` and one value function per
// field of the pattern's emit and timeout emit into `module`.
PatternFunctions emitPatternFunctions(llvm::Module &module, const lang::typed::Program &program,
                                      const nfa::Nfa &nfa);

// One function; false (and nothing left in the module) when `e` cannot be lowered yet.
// `internal`: internal linkage (a helper of other generated functions, free to inline).
bool emitFunction(llvm::Module &module, const lang::typed::Program &program,
                  const lang::typed::Expr &e, FunctionKind kind, const std::string &name,
                  bool internal = false);

// Host functions generated code calls: name and address, to define in the JIT.
// LEAD: the cep_rt_* entries (expr_codegen.cpp, hostSymbols) still map to the interpreter's
// helpers (cep_interp_rt_*, ctx = interp::JitContext); switch them there to runtime/native's
// cep_rt_* definitions when `cep run --engine jit` moves to the native matcher.
struct HostSymbol {
  const char *name;
  void *address;
};
std::vector<HostSymbol> hostSymbols();

} // namespace cep::compiler::codegen
