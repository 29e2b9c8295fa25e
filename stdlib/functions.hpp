// Ids and arity of the built-in functions (from functions.def). Header-only, no dependencies:
// the front-end includes it to type-check calls, the engines to evaluate them.
#pragma once

#include <cstdint>
#include <string_view>

namespace cep::stdlib {

enum class FunctionId : std::int32_t {
#define CEP_FUNCTION(id, name, min_args, max_args, signature) id,
#include "stdlib/functions.def"
  Count_
};

struct FunctionInfo {
  FunctionId id;
  std::string_view name;
  int min_args;
  int max_args; // -1: variadic
  std::string_view signature;
};

inline constexpr FunctionInfo kFunctions[] = {
#define CEP_FUNCTION(id, name, min_args, max_args, signature)                                      \
  {FunctionId::id, name, min_args, max_args, signature},
#include "stdlib/functions.def"
};

inline const FunctionInfo *findFunction(std::string_view name) {
  for (const auto &f : kFunctions) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

} // namespace cep::stdlib
