#include "compiler/interp/compiled.hpp"

#include <algorithm>
#include <cstring>

using cep::compiler::interp::JitContext;

extern "C" {

std::int64_t cep_interp_rt_bound_count(const void *ctx, std::int32_t step) {
  const auto *c = static_cast<const JitContext *>(ctx);
  if (c == nullptr || c->bound == nullptr) {
    return 0;
  }
  return static_cast<std::int64_t>(c->bound->of(step).size());
}

const cep::runtime::Event *cep_interp_rt_bound_at(const void *ctx, std::int32_t step,
                                                  std::int64_t index) {
  const auto *c = static_cast<const JitContext *>(ctx);
  return c->bound->of(step)[static_cast<std::size_t>(index)];
}

char *cep_interp_rt_alloc(const void *ctx, std::uint64_t size) {
  const auto *c = static_cast<const JitContext *>(ctx);
  c->arena->emplace_back(std::max<std::uint64_t>(size, 1), '\0');
  return c->arena->back().data();
}

std::int32_t cep_interp_rt_strcmp(const char *a, std::uint64_t an, const char *b,
                                  std::uint64_t bn) {
  int c = std::string_view(a, an).compare(std::string_view(b, bn));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

} // extern "C"

namespace cep::compiler::interp {

using lang::TypeKind;

Value fromJitValue(const CepJitValue &v, TypeKind kind) {
  if (v.null) {
    return Value::nullOf(kind);
  }
  switch (kind) {
  case TypeKind::Bool:
    return Value::ofBool(v.b != 0);
  case TypeKind::Float:
    return Value::ofFloat(v.f);
  case TypeKind::String:
    return Value::ofString(std::string_view(v.s, v.n));
  default:
    return Value::ofInt(kind, v.i);
  }
}

Value evaluateWith(const CompiledExprs *compiled, Evaluator &evaluator, const lang::typed::Expr &e,
                   const runtime::Event *candidate, const BoundEvents *bound,
                   std::deque<std::string> &arena) {
  if (compiled != nullptr) {
    auto it = compiled->values.find(&e);
    if (it != compiled->values.end()) {
      arena.clear();
      JitContext ctx{bound, &arena};
      CepJitValue out{};
      it->second(candidate, &ctx, &out);
      return fromJitValue(out, e.type.kind);
    }
  }
  return evaluator.evaluate(e, candidate, bound);
}

} // namespace cep::compiler::interp
