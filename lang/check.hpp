// Name resolution and type checking: the untyped modules (lang/ast.hpp) in, the checked program
// (lang/typed.hpp) out. Consts are folded, defs inlined, int->float widening made explicit and
// quantifiers normalised here; nothing after this stage re-checks names or types.
#pragma once

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/source.hpp"
#include "lang/typed.hpp"

#include <cstddef>
#include <optional>
#include <vector>

namespace cep::lang {

// Resolves and type-checks every loaded module (modules[i].file is its FileId; imports[j].path
// was already resolved by the loader: `resolved_imports[i]` lists the module indices module i
// imports directly). Reports all errors and warnings; returns the Program when there are no errors.
std::optional<typed::Program>
checkProgram(const std::vector<ast::Module> &modules,
             const std::vector<std::vector<std::size_t>> &resolved_imports,
             const SourceManager &sources, DiagnosticEngine &diags);

} // namespace cep::lang
