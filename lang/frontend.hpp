// The whole front-end in one call: load the given files and, transitively, their imports (each
// file once, relative to the importing file, cycles reported), parse, resolve and type-check.
#pragma once

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/source.hpp"
#include "lang/typed.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cep::lang {

struct Frontend {
  std::vector<ast::Module> modules;      // every loaded file, in load order
  std::optional<typed::Program> program; // present when there were no errors
};

// Reads and parses `paths` and their imports only (no checking): for `cep explain --emit=ast`.
std::vector<ast::Module> parseFiles(const std::vector<std::string> &paths, SourceManager &sources,
                                    DiagnosticEngine &diags);

// Parses and checks. Diagnostics (errors and warnings) go to `diags`.
Frontend loadProgram(const std::vector<std::string> &paths, SourceManager &sources,
                     DiagnosticEngine &diags);

} // namespace cep::lang
