// What `cep lsp` answers for a position in a rule file: the declaration of the name there (a step,
// an event type, a field, a const, a def or its parameter, a pattern named by a test, an imported
// file) and a hover text with its declared type (`amount: float`, `a: Payment{3,}`). It reads the
// parsed modules (ast.hpp) with the same scoping as the checker, so it answers in a file that
// still has errors elsewhere.
#pragma once

#include "lang/ast.hpp"
#include "lang/source.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cep::cli::lsp {

struct Lookup {
  lang::SourceRange at;                        // the name under the cursor
  std::optional<lang::SourceRange> definition; // where it is declared
  std::optional<std::string> definition_file;  // or: a file it names (an import)
  std::string hover;                           // plain text, one or a few lines
};

// The name at byte `offset` of `modules[index]`'s file; nothing when there is none.
std::optional<Lookup> lookupAt(const std::vector<lang::ast::Module> &modules, std::size_t index,
                               const lang::SourceManager &sources, std::uint32_t offset);

} // namespace cep::cli::lsp
