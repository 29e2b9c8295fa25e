// The strategy hook that lets the interpreter's matcher evaluate guards and emit values with
// native functions (JIT-compiled by compiler/codegen + compiler/jit) instead of `Evaluator`.
// LLVM-free: this is the C ABI between generated code and the interpreter.
//
// Generated functions (one per distinct guard `Cond` expression and per emit field):
//   uint8_t guard(const runtime::Event *candidate, const void *ctx);   // 1: true, 0: false/null
//   void value(const runtime::Event *candidate, const void *ctx, CepJitValue *out);
// `ctx` points at a `JitContext`: the run's bound events and a string arena. Generated code
// reads event fields directly (runtime/event.hpp layout) and reaches the bound events and the
// arena only through the `cep_rt_*` functions below, which the JIT registers as absolute
// symbols. Expressions the code generator does not support are absent from the tables and
// fall back to `Evaluator` (counted as "interpreted" in `cep run --stats`).
#pragma once

#include "compiler/interp/bindings.hpp"
#include "compiler/interp/eval.hpp"
#include "lang/typed.hpp"
#include "runtime/event.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

extern "C" {

// A value written by a generated emit-value function. Strings are (s, n) byte ranges that stay
// valid until the next call with the same context (event bytes, literals or the arena).
struct CepJitValue {
  std::uint8_t null;
  std::uint8_t b;
  std::int64_t i;
  double f;
  const char *s;
  std::uint64_t n;
};

// Bound events of `step` in the run or match behind `ctx` (0 when nothing is bound).
std::int64_t cep_interp_rt_bound_count(const void *ctx, std::int32_t step);
// The `index`-th (0-based, match order) event bound to `step`; index < cep_interp_rt_bound_count.
const cep::runtime::Event *cep_interp_rt_bound_at(const void *ctx, std::int32_t step,
                                                  std::int64_t index);
// `size` bytes in the context's arena (valid until the context is reused).
char *cep_interp_rt_alloc(const void *ctx, std::uint64_t size);
// Bytewise three-way comparison of two strings: -1, 0 or 1.
std::int32_t cep_interp_rt_strcmp(const char *a, std::uint64_t an, const char *b, std::uint64_t bn);

} // extern "C"

namespace cep::compiler::interp {

// What `ctx` points at.
struct JitContext {
  const BoundEvents *bound = nullptr;
  std::deque<std::string> *arena = nullptr;
};

using CompiledGuardFn = std::uint8_t (*)(const runtime::Event *, const void *);
using CompiledValueFn = void (*)(const runtime::Event *, const void *, CepJitValue *);

// The native functions of one pattern, looked up by the expression they compute.
struct CompiledExprs {
  std::unordered_map<const lang::typed::Expr *, CompiledGuardFn> guards;
  std::unordered_map<const lang::typed::Expr *, CompiledValueFn> values;
  std::uint64_t interpreted_guards = 0; // distinct Cond expressions left to Evaluator
  std::uint64_t interpreted_values = 0; // emit fields left to Evaluator
  std::shared_ptr<void> code;           // keeps the JIT-compiled module loaded
};

// A generated value as an interpreter Value of kind `kind`.
Value fromJitValue(const CepJitValue &v, lang::TypeKind kind);

// Evaluates `e` with its compiled function when there is one, else with `evaluator`.
Value evaluateWith(const CompiledExprs *compiled, Evaluator &evaluator, const lang::typed::Expr &e,
                   const runtime::Event *candidate, const BoundEvents *bound,
                   std::deque<std::string> &arena);

} // namespace cep::compiler::interp
