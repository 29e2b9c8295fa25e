// Lowering of checked expressions (lang/typed.hpp) to LLVM IR functions with a C ABI, with the
// exact semantics of the interpreter's Evaluator (compiler/interp/eval.cpp). The ABI (function
// signatures, CepValue, the cep_rt_* helpers) is in runtime/native/image.hpp.
//
// No boxing: a value is an LLVM i1/i64/double or a (ptr, i64) string plus an i1 "is null" flag;
// field loads read the event block directly (slots after the header, the `nulls` bitmask);
// strings, stdlib calls and allocation go through the native C functions of stdlib/native.hpp
// and the `cep_rt_*` helpers, declared in the module and resolved by the JIT to absolute
// addresses (compiler/jit/host_symbols.hpp). Aggregates are loops emitted in IR over the step's
// bound events (cep_rt_bound_count / cep_rt_bound_at).
//
// An expression the generator cannot lower yields no function (pattern_codegen turns that into
// an InternalError: every checked expression lowers); a function that fails LLVM's verifier is
// an InternalError.
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
  Value, // void (ptr candidate, ptr ctx, ptr CepValue out)
  // Aggregate declarations (runtime/native/aggregate_image.hpp):
  AggregateRow,   // void (ptr event, ptr ctx, ptr CepValue out): an accumulator's argument,
                  // Field(step 0) reads `event` (the event being counted)
  AggregateTest,  // i8 (ptr values, ptr ctx): `having`, each aggregate node (Expr::call >= 0)
                  // reads values[call] (a CepValue per accumulator)
  AggregateValue, // void (ptr values, ptr ctx, ptr CepValue out): an emit value, likewise
};

// One function; false (and nothing left in the module) when `e` cannot be lowered yet.
// `internal`: internal linkage (a helper of other generated functions, free to inline).
bool emitFunction(llvm::Module &module, const lang::typed::Program &program,
                  const lang::typed::Expr &e, FunctionKind kind, const std::string &name,
                  bool internal = false);

} // namespace cep::compiler::codegen
