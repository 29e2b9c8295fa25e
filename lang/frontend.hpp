// The whole front-end in one call: load the given files and, transitively, their imports (each
// file once, relative to the importing file, cycles reported; an import must stay inside the
// command-line files' folders or an --import-path folder), parse, resolve and type-check.
#pragma once

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/source.hpp"
#include "lang/typed.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cep::lang {

// The most bytes a rule file may hold (16 MiB); a longer one is refused without being read.
constexpr std::uint64_t kMaxSourceBytes = std::uint64_t{16} << 20;

struct LoadOptions {
  // `--import-path DIR`: folders imports may lead into besides those of the files named on the
  // command line, searched in order for a relative import not found next to the importing file.
  std::vector<std::string> import_paths;
  // Texts to use instead of reading the disk, by canonical path (`cep lsp`: the editor's open
  // buffers, checked as typed, not as last saved). The paths must still be inside a root.
  std::map<std::string, std::string> overlays;
};

struct Frontend {
  std::vector<ast::Module> modules;      // every loaded file, in load order
  std::optional<typed::Program> program; // present when there were no errors
};

// Reads and parses `paths` and their imports only (no checking): for `cep explain --emit=ast`.
std::vector<ast::Module> parseFiles(const std::vector<std::string> &paths, SourceManager &sources,
                                    DiagnosticEngine &diags, const LoadOptions &options = {});

// Parses and checks. Diagnostics (errors and warnings) go to `diags`.
Frontend loadProgram(const std::vector<std::string> &paths, SourceManager &sources,
                     DiagnosticEngine &diags, const LoadOptions &options = {});

} // namespace cep::lang
