// A program's native functions once loaded, however they were loaded (the ORC load host,
// load_host.hpp, or our x86-64 object linker, object_linker.hpp), and the one function that
// fills it: every function an image names looked up through the loader's `find`, each
// PatternCode / AggregateCode holding the handle that keeps the code loaded.
//
//   std::shared_ptr<void> module = ...;                 // unloads the code when the last goes
//   auto program = resolveProgram(module, std::move(images), std::move(aggregates),
//       [&](const std::string &symbol, void *&address, std::string &error) {
//         ... // address of `symbol`, or false and `error` set
//       }, error);                                      // nullopt: error says which symbol
//
// LLVM-free; part of the loader (cep_loader and cep_loader_lean).
#pragma once

#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::compiler::jit {

// A program's native pattern functions once loaded (runtime/native/image.hpp), parallel to the
// images given. Every PatternCode::module keeps the code loaded (one JITDylib and resource
// tracker per module in the load host, one mapping for the object linker, shared by the
// program's patterns). Aggregates (runtime/native/aggregate_image.hpp) likewise: their functions
// in the same module.
struct LoadedProgram {
  std::vector<std::shared_ptr<const runtime::native::PatternImage>> images;
  std::vector<runtime::native::PatternCode> code;
  std::vector<std::shared_ptr<const runtime::native::AggregateImage>> aggregates;
  std::vector<runtime::native::AggregateCode> aggregate_code; // parallel to aggregates
};

// The address of a symbol of the loaded module; false and `error` set when it has none.
using FindSymbol =
    std::function<bool(const std::string &symbol, void *&address, std::string &error)>;

// Every function of `images` and `aggregates` found with `find`, each code holding `module`.
std::optional<LoadedProgram> resolveProgram(std::shared_ptr<void> module,
                                            std::vector<runtime::native::PatternImage> images,
                                            std::vector<runtime::native::AggregateImage> aggregates,
                                            const FindSymbol &find, std::string &error);

} // namespace cep::compiler::jit
