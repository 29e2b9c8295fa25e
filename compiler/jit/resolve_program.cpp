// Resolving a loaded program's functions (loaded_program.hpp resolveProgram).
#include "compiler/jit/loaded_program.hpp"

namespace cep::compiler::jit {

std::optional<LoadedProgram> resolveProgram(std::shared_ptr<void> module,
                                            std::vector<runtime::native::PatternImage> images,
                                            std::vector<runtime::native::AggregateImage> aggregates,
                                            const FindSymbol &find, std::string &error) {
  LoadedProgram program;
  // The address of `symbol` as a function pointer of type Fn; false when not found.
  auto get = [&](const std::string &symbol, auto &out) {
    void *p = nullptr;
    if (!find(symbol, p, error)) {
      return false;
    }
    out = reinterpret_cast<std::remove_reference_t<decltype(out)>>(p);
    return true;
  };
  for (auto &image : images) {
    runtime::native::PatternCode code;
    if (!get(image.step_symbol, code.step) || !get(image.prefilter_symbol, code.prefilter) ||
        !get(image.key_hash_symbol, code.key_hash) || !get(image.key_eq_symbol, code.key_eq)) {
      return std::nullopt;
    }
    for (const auto &f : image.emit.fields) {
      if (!get(f.symbol, code.emit.emplace_back())) {
        return std::nullopt;
      }
    }
    if (image.has_timeout_emit) {
      for (const auto &f : image.timeout_emit.fields) {
        if (!get(f.symbol, code.timeout_emit.emplace_back())) {
          return std::nullopt;
        }
      }
    }
    code.module = module;
    program.images.push_back(
        std::make_shared<const runtime::native::PatternImage>(std::move(image)));
    program.code.push_back(std::move(code));
  }
  for (auto &image : aggregates) {
    runtime::native::AggregateCode code;
    if (!image.condition_symbol.empty() && !get(image.condition_symbol, code.condition)) {
      return std::nullopt;
    }
    for (const std::string &symbol : image.computed_symbols) {
      if (!get(symbol, code.computed.emplace_back())) {
        return std::nullopt;
      }
    }
    if (!image.having_symbol.empty() && !get(image.having_symbol, code.having)) {
      return std::nullopt;
    }
    for (const auto &f : image.emit.fields) {
      if (!get(f.symbol, code.emit.emplace_back())) {
        return std::nullopt;
      }
    }
    code.module = module;
    program.aggregates.push_back(
        std::make_shared<const runtime::native::AggregateImage>(std::move(image)));
    program.aggregate_code.push_back(std::move(code));
  }
  return program;
}

} // namespace cep::compiler::jit
