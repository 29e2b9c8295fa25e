// The host symbol table (host_symbols.hpp).
#include "compiler/jit/host_symbols.hpp"

#include "runtime/native/image.hpp"
#include "runtime/native/member_set.hpp"
#include "stdlib/native.hpp"

#include <cmath>
#include <cstddef>
#include <cstring>

namespace cep::compiler::jit {

std::vector<HostSymbol> hostSymbols() {
  auto addr = [](auto *f) { return reinterpret_cast<void *>(f); };
  return {
      // The native matcher's helpers (runtime/native/bound_view.cpp): ctx is its BoundView.
      {"cep_rt_bound_count", addr(&cep_rt_bound_count)},
      {"cep_rt_bound_at", addr(&cep_rt_bound_at)},
      {"cep_rt_alloc", addr(&cep_rt_alloc)},
      {"cep_rt_strcmp", addr(&cep_rt_strcmp)},
      // Long `in` lists (runtime/native/member_set.cpp).
      {"cep_rt_in_int", addr(&cep_rt_in_int)},
      {"cep_rt_in_str", addr(&cep_rt_in_str)},
      {"cep_stdlib_round", addr(&cep_stdlib_round)},
      {"cep_stdlib_floor", addr(&cep_stdlib_floor)},
      {"cep_stdlib_ceil", addr(&cep_stdlib_ceil)},
      {"cep_stdlib_sqrt", addr(&cep_stdlib_sqrt)},
      {"cep_stdlib_ln", addr(&cep_stdlib_ln)},
      {"cep_stdlib_exp", addr(&cep_stdlib_exp)},
      {"cep_stdlib_pow", addr(&cep_stdlib_pow)},
      {"cep_stdlib_abs_int", addr(&cep_stdlib_abs_int)},
      {"cep_stdlib_abs_float", addr(&cep_stdlib_abs_float)},
      {"cep_stdlib_len", addr(&cep_stdlib_len)},
      {"cep_stdlib_lower", addr(&cep_stdlib_lower)},
      {"cep_stdlib_upper", addr(&cep_stdlib_upper)},
      {"cep_stdlib_contains", addr(&cep_stdlib_contains)},
      {"cep_stdlib_starts_with", addr(&cep_stdlib_starts_with)},
      {"cep_stdlib_ends_with", addr(&cep_stdlib_ends_with)},
      {"cep_stdlib_substr", addr(&cep_stdlib_substr)},
      {"cep_stdlib_hour", addr(&cep_stdlib_hour)},
      {"cep_stdlib_minute", addr(&cep_stdlib_minute)},
      {"cep_stdlib_day_of_week", addr(&cep_stdlib_day_of_week)},
      {"cep_stdlib_seconds", addr(&cep_stdlib_seconds)},
      {"cep_stdlib_minutes", addr(&cep_stdlib_minutes)},
      {"cep_stdlib_hours", addr(&cep_stdlib_hours)},
      {"cep_stdlib_haversine_km", addr(&cep_stdlib_haversine_km)},
      // What LLVM may lower intrinsics to (llvm.memcpy, llvm.round without SSE4.1).
      {"memcpy", addr(static_cast<void *(*)(void *, const void *, std::size_t)>(&std::memcpy))},
      {"memmove", addr(static_cast<void *(*)(void *, const void *, std::size_t)>(&std::memmove))},
      {"memset", addr(static_cast<void *(*)(void *, int, std::size_t)>(&std::memset))},
      {"round", addr(static_cast<double (*)(double)>(&::round))},
  };
}

} // namespace cep::compiler::jit
